"""Reading a calibration file: TOML, schema, base scenario, priors, moments, and every check.

Every problem is reported at once as an `InputError` naming the calibration file, the key
path, the value and what was expected, before any run starts.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from povsim.calibration.spec import Calibration, CalibrationSpec, Moment, Prior, PriorSpec
from povsim.experiments.loading import (
    FIRST_REVIEW_YEAR,
    IDENTIFIER_PATTERN,
    load_base_scenario,
    require_a_table,
    validate_named,
)
from povsim.experiments.outcomes import check_outcomes
from povsim.experiments.spec import RESERVED_PATHS, flatten
from povsim.model import last_review_year
from povsim.scenario import InputError, Problem, Scenario
from povsim.scenario.loading import read_toml, with_overrides

CALIBRATION_TABLES = ("priors", "moments")


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file.

    Raises:
        InputError: every problem found, each naming the file, key path, value and expectation.
    """
    path = Path(path)
    shown = str(path)
    data = read_toml(path)
    require_a_table(
        data,
        CALIBRATION_TABLES,
        shown,
        "has no [priors] or [moments] table; expected a calibration file (see experiments/calibration.toml)",
    )
    spec, problems = validate_named(data, shown, CalibrationSpec)
    base_file = path.parent / spec.scenario
    base = load_base_scenario(spec.scenario, base_file, flatten(spec.overrides), shown)
    base = with_overrides(base, {"run.master_seed": spec.master_seed, "run.replicate_count": 1})
    priors = tuple(_check_prior(name, p, base, shown, problems) for name, p in spec.priors.items())
    fixed = flatten(spec.overrides)
    first_named: dict[str, str] = {}
    for name, p in spec.priors.items():
        if p.path in first_named:
            problems.append(
                Problem(
                    shown,
                    f"priors.{name}.path",
                    f"is also the path of priors.{first_named[p.path]}; expected one prior per parameter",
                    p.path,
                    True,
                )
            )
        first_named.setdefault(p.path, name)
        if p.path in fixed:
            problems.append(
                Problem(
                    shown,
                    f"priors.{name}.path",
                    f"is also fixed in [overrides] ({p.path} = {fixed[p.path]!r}); expected a parameter "
                    "either fitted or fixed, not both",
                    p.path,
                    True,
                )
            )
    if base.posterior.file:
        problems.append(
            Problem(
                shown,
                "scenario",
                f"names a scenario with a [posterior] ({base.posterior.file}); a calibration fits the base "
                "scenario's parameters itself: expected a scenario without [posterior], e.g. baseline.toml",
                spec.scenario,
                True,
            )
        )
    if not spec.priors:
        problems.append(Problem(shown, "priors", "no priors; expected at least one [priors.NAME] table"))
    for name in [*spec.priors, *spec.moments]:
        if not IDENTIFIER_PATTERN.match(name):
            problems.append(Problem(shown, name, "expected a name of letters, digits and '_'", name, True))
    if not any(m.role == "target" for m in spec.moments.values()):
        problems.append(
            Problem(shown, "moments", 'no target; expected at least one moment with role = "target"')
        )
    if problems:
        raise InputError(problems)
    _check_extremes(priors, base, shown)
    last_year = last_review_year(base.calendar.end_date)
    outcomes = check_outcomes(
        {f"moments.{name}": m.path for name, m in spec.moments.items()}, FIRST_REVIEW_YEAR, last_year, shown
    )
    # Outcomes are checked under their key path (moments.NAME); runs record them under NAME.
    moments = tuple(
        Moment(name, replace(outcome, name=name), m.observed, m.tolerance, m.role, m.district_total, m.source)
        for (name, m), outcome in zip(spec.moments.items(), outcomes, strict=True)
    )
    return Calibration(
        file=path,
        text=path.read_text(encoding="utf-8"),
        spec=spec,
        base=base,
        base_file=base_file,
        priors=priors,
        moments=moments,
    )


def looks_like_calibration(path: Path) -> bool:
    """Whether a TOML file is a calibration (it has priors or moments), not a scenario or experiment."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return any(key in data for key in CALIBRATION_TABLES)


def _check_prior(name: str, p: PriorSpec, base: Scenario, shown: str, problems: list[Problem]) -> Prior:
    key = f"priors.{name}"
    if p.path in RESERVED_PATHS or p.path.startswith(("run.", "calendar.", "posterior")):
        problems.append(
            Problem(shown, f"{key}.path", "cannot be calibrated (it sets how runs are made)", p.path, True)
        )
    elif not _is_real_field(base, p.path):
        problems.append(
            Problem(
                shown,
                f"{key}.path",
                "expected the dotted path of a real-valued scenario parameter, "
                "e.g. economy.nominal_income_growth_per_year",
                p.path,
                True,
            )
        )
    if not p.low < p.high:
        problems.append(Problem(shown, f"{key}.high", f"expected more than low = {p.low}", p.high, True))
    if p.distribution == "loguniform" and p.low <= 0:
        problems.append(Problem(shown, f"{key}.low", "a loguniform prior needs low above 0", p.low, True))
    if p.distribution == "normal" and (p.mean is None or p.sd is None):
        problems.append(Problem(shown, key, "a normal prior needs mean and sd"))
    if p.distribution != "normal" and (p.mean is not None or p.sd is not None):
        problems.append(Problem(shown, key, f"mean and sd apply to normal priors, not {p.distribution}"))
    return Prior(name, p.path, p.distribution, p.low, p.high, p.mean, p.sd)


def _is_real_field(base: Scenario, path: str) -> bool:
    node: Any = base
    for part in path.split("."):
        if part.startswith("_") or not hasattr(node, part):
            return False
        node = getattr(node, part)
    return isinstance(node, float)


def _check_extremes(priors: tuple[Prior, ...], base: Scenario, shown: str) -> None:
    """Both ends of every prior must make a valid scenario (the schema's ranges and cross-checks)."""
    problems = []
    for prior in priors:
        for end, value in (("low", prior.low), ("high", prior.high)):
            try:
                with_overrides(base, {prior.path: float(value)})
            except InputError as error:
                for p in error.problems:
                    problems.append(Problem(shown, f"priors.{prior.name}.{end}", p.message, value, True))
    if problems:
        raise InputError(problems)
