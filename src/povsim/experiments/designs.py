"""Design points: grids, Latin hypercubes, Sobol (Saltelli) and Morris samples, or a CSV.

Sampled designs are plain arrays on the unit cube (`scipy.stats.qmc`, SALib), mapped to
parameter values through each parameter's distribution, so the sensitivity analysis
works on the same unit-cube sample that produced the points. The design's random stream
is spawned from the master seed on a key no replicate uses.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from povsim.experiments.spec import (
    RESERVED_PATHS,
    ExperimentSpec,
    ParameterSpec,
    flatten,
    parse_value,
    reword,
)
from povsim.scenario import InputError, Problem, Scenario
from povsim.scenario.loading import with_overrides

# Replicate r's stream is SeedSequence(master_seed, spawn_key=(r,)) with r < 100,000; the
# design's sampling stream uses a key no replicate can have.
DESIGN_STREAM = 2**32
DEFAULT_MORRIS_GRID_LEVELS = 4
NUMERIC = (int, float)
SAMPLED = ("lhs", "sobol", "morris")
# Which design keys each method reads; any other is an error rather than silently ignored.
DESIGN_KEYS = {
    "grid": set(),
    "lhs": {"points", "seed"},
    "sobol": {"points", "seed", "second_order"},
    "morris": {"points", "seed", "grid_levels"},
    "csv": {"file"},
}


@dataclass(frozen=True)
class Design:
    """The design points of an experiment.

    Attributes:
        method: grid, lhs, sobol, morris or csv.
        names: the parameter names, in file order.
        points: each point's parameter values, typed as the scenario schema expects.
        unit: for lhs, sobol and morris, the unit-cube sample behind the points (points x
            parameters); None otherwise.
        second_order: sobol: whether the sample supports second-order indices.
        grid_levels: morris: levels of the Morris grid.
        seed: the seed the sample was drawn with (None for grid and csv).
    """

    method: str
    names: tuple[str, ...]
    points: tuple[dict[str, Any], ...]
    unit: np.ndarray | None = None
    second_order: bool = False
    grid_levels: int = DEFAULT_MORRIS_GRID_LEVELS
    seed: int | None = None

    def salib_problem(self) -> dict[str, Any]:
        """The SALib problem the unit-cube sample was drawn for."""
        return {
            "num_vars": len(self.names),
            "names": list(self.names),
            "bounds": [[0.0, 1.0]] * len(self.names),
        }


def scenario_field(path: str) -> tuple[str, Any]:
    """What the scenario schema holds at a dotted path.

    Returns:
        ("value", annotation) for a parameter, ("table", None) for a table, ("unknown", None)
        for a path the schema does not have, or ("open", None) where the schema's type is
        not a table class (a mapping, say) and the value's type cannot be read off.
    """
    owner: type[BaseModel] = Scenario
    parts = path.split(".")
    for depth, part in enumerate(parts):
        field = owner.model_fields.get(part)
        if field is None:
            return "unknown", None
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if depth == len(parts) - 1:
                return "table", None
            owner = annotation
            continue
        if depth == len(parts) - 1:
            return "value", annotation
        return "open", None
    return "unknown", None


def parameter_kinds(
    spec: ExperimentSpec, base: Scenario, file: str, problems: list[Problem]
) -> dict[str, Any]:
    """Each parameter's Python type in the schema; problems with paths are appended."""
    kinds: dict[str, Any] = {}
    fixed = flatten(spec.overrides)
    seen: dict[str, str] = {}
    for name, p in spec.parameters.items():
        key = f"parameters.{name}.path"
        if p.path in RESERVED_PATHS:
            problems.append(Problem(file, key, f"cannot be varied: {RESERVED_PATHS[p.path]}", p.path, True))
            continue
        if p.path in seen:
            problems.append(Problem(file, key, f"is also varied by parameters.{seen[p.path]}", p.path, True))
            continue
        seen[p.path] = name
        if p.path in fixed:
            problems.append(
                Problem(
                    file, key, f"is also fixed by overrides.{p.path}; expected one or the other", p.path, True
                )
            )
        where, annotation = scenario_field(p.path)
        if where == "table":
            problems.append(
                Problem(
                    file,
                    key,
                    "is a table of the scenario, not a parameter; expected a path to a value, "
                    "e.g. economy.nominal_income_growth_per_year",
                    p.path,
                    True,
                )
            )
            continue
        if where == "unknown":
            probe = _probe_value(p)
            try:
                with_overrides(base, {p.path: probe})
            except InputError as error:
                problems.extend(reword(error, file, key, p.path).problems)
                continue
        kinds[name] = _plain_type(annotation)
    return kinds


def build_design(
    spec: ExperimentSpec, kinds: dict[str, Any], base: Scenario, file: Path, problems: list[Problem]
) -> Design:
    """The design points of a checked spec; problems with levels, ranges and design keys are appended."""
    shown = str(file)
    method = spec.design.method
    reads = ", ".join(sorted(DESIGN_KEYS[method])) or "nothing else"
    for key in ("points", "file", "second_order", "grid_levels", "seed"):
        if getattr(spec.design, key) is not None and key not in DESIGN_KEYS[method]:
            problems.append(
                Problem(
                    shown,
                    f"design.{key}",
                    f"is not used by method = {method!r} (it reads: {reads})",
                    getattr(spec.design, key),
                    True,
                )
            )
    names = tuple(spec.parameters)
    for name in names:
        _check_parameter(name, spec.parameters[name], kinds.get(name), method, base, shown, problems)
    if method in SAMPLED and spec.design.points is None:
        what = {"lhs": "points", "sobol": "base samples N (a power of 2)", "morris": "trajectories"}[method]
        problems.append(Problem(shown, "design.points", f"is missing; expected the number of {what}"))
    _check_sample_size(spec, shown, problems)
    if problems:
        return Design(method, names, ())
    seed = spec.design.seed if spec.design.seed is not None else spec.master_seed
    if method == "grid":
        design = _grid(spec, kinds, names)
    elif method == "csv":
        design = _csv(spec, kinds, names, file, problems)
    else:
        design = _sampled(spec, kinds, names, seed)
    if not problems and not design.points:
        problems.append(Problem(shown, "design", "has no points; expected at least one design point"))
    return design


def _grid(spec: ExperimentSpec, kinds: dict[str, Any], names: tuple[str, ...]) -> Design:
    axes = [grid_levels(spec.parameters[n], kinds.get(n)) for n in names]
    points = tuple(dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes))
    return Design("grid", names, points)


def grid_levels(p: ParameterSpec, kind: Any) -> list[Any]:
    """A parameter's grid levels: its `levels`, or `count` values evenly spaced from low to high."""
    if p.levels is not None:
        return [convert(v, kind) for v in p.levels]
    low, high, count = _range(p)
    count = count or 2
    if p.distribution == "loguniform":
        values = np.geomspace(low, high, count)
    else:
        values = np.linspace(low, high, count)
    if kind is int:
        return [int(np.rint(v)) for v in values]
    return [float(f"{v:.12g}") for v in values]


def unit_sample(method: str, d: int, spec: ExperimentSpec, seed: int) -> tuple[np.ndarray, bool, int]:
    """The unit-cube sample of a sampled design, with its second-order flag and Morris levels."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DESIGN_STREAM,)))
    n = int(spec.design.points or 0)
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    if method == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d, rng=rng).random(n), False, DEFAULT_MORRIS_GRID_LEVELS
    if method == "sobol":
        from SALib.sample import sobol

        second = bool(spec.design.second_order)
        return (
            sobol.sample(problem, n, calc_second_order=second, seed=rng),
            second,
            DEFAULT_MORRIS_GRID_LEVELS,
        )
    from SALib.sample import morris

    levels = spec.design.grid_levels or DEFAULT_MORRIS_GRID_LEVELS
    return morris.sample(problem, n, num_levels=levels, seed=rng), False, levels


def values_from_unit(u: np.ndarray, p: ParameterSpec, kind: Any) -> list[Any]:
    """Map unit-cube coordinates to a parameter's values through its levels or distribution."""
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    if p.levels is not None:
        k = len(p.levels)
        index = np.minimum((u * k).astype(int), k - 1)
        return [convert(p.levels[i], kind) for i in index]
    low, high, _ = _range(p)
    if p.distribution == "uniform":
        x = low + np.floor(u * (high - low + 1)) if kind is int else low + u * (high - low)
    elif p.distribution == "loguniform":
        x = np.exp(np.log(low) + u * (np.log(high) - np.log(low)))
    elif p.distribution == "normal":
        from scipy.stats import truncnorm

        mean, sd = float(p.mean or 0.0), float(p.sd or 1.0)
        x = truncnorm.ppf(u, (low - mean) / sd, (high - mean) / sd, loc=mean, scale=sd)
    else:
        from scipy.stats import triang

        mode = float(p.mode if p.mode is not None else (low + high) / 2)
        x = triang.ppf(u, (mode - low) / (high - low), loc=low, scale=high - low)
    x = np.clip(x, low, high)
    if kind is int:
        return [int(np.rint(v)) for v in x]
    return [float(v) for v in x]


def _range(p: ParameterSpec) -> tuple[float, float, int | None]:
    """A checked range parameter's low, high and grid count."""
    if p.low is None or p.high is None:
        raise ValueError(f"parameter {p.path} has no range")
    return p.low, p.high, p.count


def convert(value: Any, kind: Any) -> Any:
    """A value in the type the scenario schema holds (an integer level of a float parameter -> float)."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _sampled(spec: ExperimentSpec, kinds: dict[str, Any], names: tuple[str, ...], seed: int) -> Design:
    method = spec.design.method
    d = len(names)
    unit, second, levels = unit_sample(method, d, spec, seed)
    columns = [
        values_from_unit(unit[:, j], spec.parameters[name], kinds.get(name)) for j, name in enumerate(names)
    ]
    points = tuple({name: columns[j][i] for j, name in enumerate(names)} for i in range(unit.shape[0]))
    return Design(method, names, points, unit, second, levels, seed)


def _check_sample_size(spec: ExperimentSpec, shown: str, problems: list[Problem]) -> None:
    """Sobol' needs a power-of-2 base sample (two parameters for second order); Morris two trajectories."""
    method = spec.design.method
    n = spec.design.points
    if n is None:
        return
    if method == "sobol":
        if n < 2 or n & (n - 1):
            lower = 2 ** max(1, math.floor(math.log2(max(n, 1))))
            problems.append(
                Problem(
                    shown,
                    "design.points",
                    f"expected a power of 2 for Sobol' base samples (e.g. {lower} or {2 * lower})",
                    n,
                    True,
                )
            )
        if spec.design.second_order and len(spec.parameters) < 2:
            problems.append(
                Problem(shown, "design.second_order", "needs at least two parameters", True, True)
            )
    if method == "morris" and n < 2:
        problems.append(Problem(shown, "design.points", "expected at least 2 Morris trajectories", n, True))


def _csv(
    spec: ExperimentSpec, kinds: dict[str, Any], names: tuple[str, ...], file: Path, problems: list[Problem]
) -> Design:
    shown = str(file)
    name = spec.design.file
    if name is None:
        problems.append(Problem(shown, "design.file", "is missing; expected a CSV file of points"))
        return Design("csv", names, ())
    path = file.parent / name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problems.append(
            Problem(shown, "design.file", f"names a file that does not exist (looked for {path})", name, True)
        )
        return Design("csv", names, ())
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(shown, "design.file", f"cannot be read as UTF-8 text: {error}", name, True))
        return Design("csv", names, ())
    rows = list(csv.reader(line for line in text.splitlines() if line.strip()))
    if not rows:
        problems.append(
            Problem(
                shown, "design.file", "is empty; expected a header line and one row per point", name, True
            )
        )
        return Design("csv", names, ())
    header = [h.strip() for h in rows[0]]
    missing = [n for n in names if n not in header]
    extra = [h for h in header if h not in names]
    if missing or extra or len(set(header)) != len(header):
        detail = []
        if missing:
            detail.append(f"no column for {', '.join(missing)}")
        if extra:
            detail.append(f"columns that are not parameters: {', '.join(extra)}")
        if len(set(header)) != len(header):
            detail.append("repeated column names")
        problems.append(
            Problem(
                shown,
                "design.file",
                f"{'; '.join(detail)}; expected a header naming exactly the parameters ({', '.join(names)})",
                name,
                True,
            )
        )
        return Design("csv", names, ())
    points = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header) or any(not cell.strip() for cell in row):
            problems.append(
                Problem(
                    shown,
                    "design.file",
                    f"line {line} has {len(row)} values or an empty one; expected {len(header)} values",
                    name,
                    True,
                )
            )
            return Design("csv", names, ())
        cells = dict(zip(header, row, strict=True))
        points.append({n: convert(parse_value(cells[n]), kinds.get(n)) for n in names})
    if not points:
        problems.append(
            Problem(
                shown, "design.file", "has a header but no points; expected one row per point", name, True
            )
        )
    return Design("csv", names, tuple(points))


def _check_parameter(
    name: str,
    p: ParameterSpec,
    kind: Any,
    method: str,
    base: Scenario,
    shown: str,
    problems: list[Problem],
) -> None:
    key = f"parameters.{name}"
    before = len(problems)

    def add(suffix: str, message: str, *value: Any) -> None:
        problems.append(Problem(shown, f"{key}{suffix}", message, value[0] if value else None, bool(value)))

    has_range = p.low is not None or p.high is not None
    if method == "csv":
        for field in ("levels", "low", "high", "count", "mean", "sd", "mode"):
            if getattr(p, field) is not None:
                add(
                    f".{field}",
                    "is not used by a csv design (values come from design.file)",
                    getattr(p, field),
                )
        if p.distribution != "uniform":
            add(".distribution", "is not used by a csv design (values come from design.file)", p.distribution)
        return
    if p.levels is not None and has_range:
        add("", "has both levels and low/high; expected one or the other")
    elif p.levels is None and not has_range:
        add("", "has no values; expected levels = [...] or low and high")
    elif p.levels is not None:
        if not p.levels:
            add(".levels", "is empty, so the design has no points; expected at least one value", p.levels)
        for field in ("count", "mean", "sd", "mode"):
            if getattr(p, field) is not None:
                add(f".{field}", "is only used with low and high, not with levels", getattr(p, field))
        if p.distribution != "uniform":
            add(".distribution", "is only used with low and high, not with levels", p.distribution)
    else:
        _check_range(p, kind, method, add)
    if len(problems) > before:
        return
    values = [("levels", v) for v in p.levels] if p.levels is not None else [("low", p.low), ("high", p.high)]
    if p.mode is not None:
        values.append(("mode", p.mode))
    for field, value in values:
        try:
            with_overrides(base, {p.path: convert(_typed(value, kind), kind)})
        except InputError as error:
            problems.extend(reword(error, shown, f"{key}.{field}", value).problems)
            return


def _check_range(p: ParameterSpec, kind: Any, method: str, add: Callable[..., None]) -> None:
    if p.low is None or p.high is None:
        add(".low" if p.low is None else ".high", "is missing; a range needs both low and high")
        return
    if kind is not None and kind not in NUMERIC:
        add(
            "",
            f"is not numeric ({getattr(kind, '__name__', kind)}); expected levels = [...] instead of a range",
        )
        return
    if p.low >= p.high:
        add(".low", f"is not below high ({p.high}); expected low < high", p.low)
        return
    if kind is int and not (float(p.low).is_integer() and float(p.high).is_integer()):
        add("", "is an integer parameter; expected whole-number low and high", [p.low, p.high])
    if method == "grid":
        if p.count is None:
            add(".count", "is missing; a grid over low..high needs the number of levels")
        if p.distribution not in ("uniform", "loguniform"):
            add(
                ".distribution",
                "grids space levels evenly ('uniform') or geometrically ('loguniform'); "
                "other distributions apply to lhs, sobol and morris",
                p.distribution,
            )
        if kind is int and p.count is not None and p.count > p.high - p.low + 1:
            add(".count", f"asks for more integer levels than {p.low:g}..{p.high:g} holds", p.count)
    elif p.count is not None:
        add(".count", "is only used by grid designs", p.count)
    if p.distribution == "loguniform" and p.low <= 0:
        add(".low", "must be above 0 for a loguniform distribution", p.low)
    checks = {"mean": "normal", "sd": "normal", "mode": "triangular"}
    for field, distribution in checks.items():
        given = getattr(p, field) is not None
        if given and p.distribution != distribution:
            add(f".{field}", f"is only used with distribution = {distribution!r}", getattr(p, field))
        if not given and p.distribution == distribution and method != "grid":
            add(f".{field}", f"is missing; distribution = {distribution!r} needs it")
    for field in ("mean", "mode"):
        value = getattr(p, field)
        if value is not None and not p.low <= value <= p.high:
            add(f".{field}", f"is outside low..high ({p.low:g}..{p.high:g})", value)


def _typed(value: Any, kind: Any) -> Any:
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _probe_value(p: ParameterSpec) -> Any:
    if p.levels:
        return p.levels[0]
    return p.low if p.low is not None else 0.0


def _plain_type(annotation: Any) -> Any:
    """int, float, bool, str or date for simple annotations; None when it cannot be told."""
    if annotation in (int, float, bool, str, dt.date):
        return annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) and len(args) == 1:
        return _plain_type(args[0])
    return None
