"""Reading an experiment file: TOML, schema, base scenario, design, outcomes, and every check.

`load_experiment` checks everything that can be checked before a run starts and reports
every problem as an `InputError` naming the experiment file, the key path, the value and
what was expected.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from povsim.experiments.designs import build_design, parameter_kinds
from povsim.experiments.outcomes import check_outcomes
from povsim.experiments.spec import RESERVED_PATHS, Experiment, ExperimentSpec, flatten
from povsim.model import last_review_year
from povsim.posterior import load_posterior
from povsim.scenario import InputError, Problem, Scenario, load_scenario
from povsim.scenario.loading import POSTERIOR_KEY, read_toml, with_overrides

FIRST_REVIEW_YEAR = 2021
MAX_RUNS = 10_000_000
EXPERIMENT_TABLES = ("design", "parameters", "outcomes")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file, its base scenario, design and outcomes.

    Args:
        path: the experiment TOML file.

    Raises:
        InputError: every problem found, each naming the file, key path, value and expectation.
    """
    path = Path(path)
    shown = str(path)
    try:
        data = read_toml(path)
    except InputError as error:
        if error.problems[0].message.startswith("is empty"):
            raise InputError(
                [Problem(shown, "", "is empty; expected an experiment (see experiments/smoke.toml)")]
            ) from None
        raise
    text = path.read_text(encoding="utf-8")
    require_a_table(
        data,
        EXPERIMENT_TABLES,
        shown,
        "has no [design], [parameters] or [outcomes] table: it looks like a scenario, not an "
        "experiment; expected an experiment file (see experiments/smoke.toml)",
    )
    spec, problems = validate_named(data, shown, ExperimentSpec)
    base_file = path.parent / spec.scenario
    base = _load_base(spec, base_file, shown)
    kinds = parameter_kinds(spec, base, shown, problems)
    problems += posterior_conflicts(
        base,
        {
            **{f"overrides.{key}": key for key in flatten(spec.overrides)},
            **{f"parameters.{n}": p.path for n, p in spec.parameters.items()},
        },
        shown,
    )
    if not spec.parameters:
        problems.append(
            Problem(shown, "parameters", "no parameters; expected at least one [parameters.NAME] table")
        )
    for name in spec.outcomes:
        if not IDENTIFIER_PATTERN.match(name):
            problems.append(
                Problem(shown, f"outcomes.{name}", "expected a name of letters, digits and '_'", name, True)
            )
    if not spec.outcomes:
        problems.append(Problem(shown, "outcomes", 'no outcomes; expected at least one `name = "path"`'))
    if problems:
        raise InputError(problems)
    design = build_design(spec, kinds, base, path, problems)
    if problems:
        raise InputError(problems)
    runs = len(design.points) * spec.replicates
    if runs > MAX_RUNS:
        raise InputError(
            [
                Problem(
                    shown,
                    "replicates",
                    f"makes {runs:,} runs ({len(design.points):,} points); expected at most {MAX_RUNS:,}",
                    spec.replicates,
                    True,
                )
            ]
        )
    experiment = Experiment(
        file=path, text=text, spec=spec, base=base, base_file=base_file, design=design, outcomes=()
    )
    scenarios = _check_points(experiment, shown)
    last_years = {last_review_year(s.calendar.end_date) for s in scenarios}
    outcomes = check_outcomes(spec.outcomes, FIRST_REVIEW_YEAR, min(last_years), shown)
    return Experiment(
        file=path, text=text, spec=spec, base=base, base_file=base_file, design=design, outcomes=outcomes
    )


def _load_base(spec: ExperimentSpec, base_file: Path, shown: str) -> Scenario:
    base = load_base_scenario(spec.scenario, base_file, flatten(spec.overrides), shown)
    return with_overrides(base, {"run.master_seed": spec.master_seed, "run.replicate_count": spec.replicates})


def require_a_table(data: dict, tables: tuple[str, ...], shown: str, complaint: str) -> None:
    """Refuse, with `complaint`, a file that has none of the tables that make it what it claims."""
    if not any(key in data for key in tables):
        raise InputError([Problem(shown, "", complaint)])


def validate_named[T: BaseModel](data: dict, shown: str, root: type[T]) -> tuple[T, list[Problem]]:
    """A file's table validated against `root`, and a problem if its `name` cannot name a folder.

    Raises:
        InputError: the table does not fit the schema (every problem, with key, value and expectation).
    """
    try:
        spec = root.model_validate(data)
    except ValidationError as error:
        raise InputError([explain_schema_error(e, shown, root) for e in error.errors()]) from None
    problems = []
    name = getattr(spec, "name", "")
    if not NAME_PATTERN.match(name):
        message = "expected letters, digits, '.', '_' or '-' (it names a folder)"
        problems.append(Problem(shown, "name", message, name, True))
    return spec, problems


def load_base_scenario(named: str, base_file: Path, overrides: dict[str, Any], shown: str) -> Scenario:
    """The scenario a file names under `scenario`, with its `[overrides]` (by dotted path) applied.

    Args:
        named: the `scenario` value as written.
        base_file: where it points, resolved against the naming file's folder.
        overrides: the fixed overrides; `run.master_seed` and `run.replicate_count` are refused.
        shown: the naming file, as messages show it.

    Raises:
        InputError: the scenario is missing or invalid, or an override is reserved or invalid.
    """
    if not base_file.is_file():
        raise InputError(
            [
                Problem(
                    shown,
                    "scenario",
                    f"names a scenario file that does not exist (looked for {base_file})",
                    named,
                    True,
                )
            ]
        )
    base = load_scenario(base_file)
    problems = []
    for key in overrides:
        if key in RESERVED_PATHS:
            problems.append(
                Problem(
                    shown,
                    f"overrides.{key}",
                    f"cannot be overridden: {RESERVED_PATHS[key]}",
                    overrides[key],
                    True,
                )
            )
    if problems:
        raise InputError(problems)
    posterior = overrides.get(POSTERIOR_KEY)
    if isinstance(posterior, str) and posterior and not Path(posterior).is_absolute():
        # A path in the file is relative to the file, as in scenario files.
        overrides = {**overrides, POSTERIOR_KEY: str((Path(shown).parent / posterior).resolve())}
    try:
        base = with_overrides(base, overrides)
    except InputError as error:
        raise InputError(
            [
                Problem(
                    shown,
                    f"overrides.{p.key_path}" if p.key_path else "overrides",
                    p.message,
                    p.value,
                    p.has_value,
                )
                for p in error.problems
            ]
        ) from None
    return base


def posterior_conflicts(base: Scenario, paths: dict[str, str], shown: str) -> list[Problem]:
    """Varied parameters the base scenario's posterior draws (every draw would replace their values).

    Args:
        base: the base scenario.
        paths: scenario paths by the file's key that names them.
        shown: the file, as messages show it.
    """
    if not base.posterior.file:
        return []
    drawn = set(load_posterior(base.posterior.file).paths)
    return [
        Problem(
            shown,
            key,
            f"is drawn from the base scenario's posterior ({base.posterior.file}), so each replicate would "
            "replace the value set here; expected a parameter the posterior does not draw, or a base "
            "scenario without [posterior]",
            path,
            True,
        )
        for key, path in paths.items()
        if path in drawn
    ]


def _check_points(experiment: Experiment, shown: str) -> list[Scenario]:
    """Every design point must make a valid scenario; report the first few that do not."""
    scenarios, problems = [], []
    for point in range(len(experiment.design.points)):
        try:
            scenarios.append(experiment.point_scenario(point))
        except InputError as error:
            values = experiment.design.points[point]
            shown_values = ", ".join(f"{k} = {v!r}" for k, v in values.items())
            for p in error.problems:
                name = next(
                    (n for n in experiment.design.names if experiment.spec.parameters[n].path == p.key_path),
                    None,
                )
                key = f"parameters.{name}" if name else "parameters"
                problems.append(
                    Problem(
                        shown,
                        key,
                        f"design point {point} ({shown_values}) makes an invalid scenario: {p.message}"
                        + (f" (scenario key {p.key_path})" if p.key_path else ""),
                        p.value,
                        p.has_value,
                    )
                )
            if len(problems) >= 5:
                break
    if problems:
        raise InputError(problems)
    return scenarios


def explain_schema_error(error: dict, file: str, root: type[BaseModel]) -> Problem:
    """A pydantic error of a file validated against `root` as a problem naming key, value and expectation."""
    loc = [str(part) for part in error["loc"]]
    key_path = ".".join(loc)
    kind = error["type"]
    owner, key = _owner(loc, root)
    if kind == "extra_forbidden":
        valid = list(owner.model_fields) if owner else []
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        where = ".".join(loc[:-1]) or "the top level"
        return Problem(
            file,
            key_path,
            f"unknown key{hint} (valid keys in {where}: {', '.join(valid)})",
            error["input"],
            True,
        )
    expected = _describe(owner, key)
    if kind == "missing":
        return Problem(file, key_path, f"is missing; expected {expected}" if expected else "is missing")
    message = error["msg"][0].lower() + error["msg"][1:]
    if expected:
        message += f"; expected {expected}"
    return Problem(file, key_path, message, error["input"], True)


def _owner(loc: list[str], root: type[BaseModel]) -> tuple[type[BaseModel] | None, str]:
    """The schema class under `root` holding the key at `loc`, skipping table names."""
    owner: type[BaseModel] | None = root
    index = 0
    while index < len(loc) - 1 and owner is not None:
        field = owner.model_fields.get(loc[index])
        if field is None:
            return None, loc[-1]
        annotation = field.annotation
        if typing.get_origin(annotation) is dict:
            value_type = typing.get_args(annotation)[1]
            if index + 2 >= len(loc) or not (
                isinstance(value_type, type) and issubclass(value_type, BaseModel)
            ):
                return None, loc[-1]
            owner, index = value_type, index + 2
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            owner, index = annotation, index + 1
        else:
            return None, loc[-1]
    return owner, loc[-1]


def _describe(owner: type[BaseModel] | None, key: str) -> str:
    if owner is None or key not in owner.model_fields:
        return ""
    field = owner.model_fields[key]
    annotation = field.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"a table [{key}]"
    kind = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}.get(annotation, "")
    if not kind and typing.get_origin(annotation) is Literal:
        kind = "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    elif not kind and typing.get_origin(annotation) is dict:
        kind = "a table"
    elif not kind and typing.get_origin(annotation) is list:
        kind = "a list"
    lower = upper = None
    for rule in field.metadata:
        lower = getattr(rule, "ge", getattr(rule, "gt", lower))
        upper = getattr(rule, "le", upper)
    if lower is not None and upper is not None:
        kind += f" from {lower:,} to {upper:,}"
    elif lower is not None:
        kind += f" of at least {lower:,}" if not any(hasattr(m, "gt") for m in field.metadata) else " above 0"
    if field.description:
        kind += f" ({field.description})"
    return kind.strip()


def looks_like_experiment(path: Path) -> bool:
    """Whether a TOML file is an experiment (it has a design, parameters or outcomes), not a scenario."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return any(key in data for key in EXPERIMENT_TABLES)
