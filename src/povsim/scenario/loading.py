"""Reading scenario files: TOML, `extends` chains, dotted overrides, and validation.

Every problem is reported as an `InputError` naming the file that set the offending key,
its dotted path, the value and what was expected.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from povsim.posterior import PosteriorFileError, load_posterior, parameter_ranges
from povsim.scenario.errors import InputError, Problem, problem
from povsim.scenario.schema import Scenario

SIMULATION_START = dt.date(2022, 1, 1)
FIRST_REVIEW_DATE = dt.date(2021, 12, 31)
COMMAND_LINE = "--set"
POSTERIOR_KEY = "posterior.file"
MAX_NON_WORKING_AGE_SHARE = 0.9
# Smallest non-zero instrument budget and unit amount taken to be in VND (smaller ones are
# almost certainly written in millions or billions).
MIN_BUDGET_VND = 1_000_000
MIN_AMOUNT_VND = 1_000
MONTHS_PER_YEAR = 12
MAX_BELOW_LINE_SHARE = 0.98
MIN_BELOW_LINE_SHARE = 0.001


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file, turning every read or syntax failure into an InputError."""
    shown = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise problem(shown, "", "file not found") from None
    except IsADirectoryError:
        raise problem(shown, "", "is a folder; expected a TOML file") from None
    except OSError as error:
        raise problem(shown, "", f"cannot be read: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise problem(
            shown, "", f"is not UTF-8 text (bad byte at offset {error.start}); save it as UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise problem(shown, "", f"is not valid TOML: {error}") from None
    if not data:
        raise problem(shown, "", "is empty; expected a TOML scenario (at least `name = ...`)")
    return data


def resolve_extends(path: Path, _chain: tuple[Path, ...] = ()) -> tuple[dict, dict[str, str]]:
    """Load a scenario file and every file it extends, child values over parent values.

    Returns the merged table and, for each dotted key, the file that set it. `extends` is
    resolved relative to the file that names it.
    """
    identity = path.resolve()
    if identity in (p.resolve() for p in _chain):
        cycle = " -> ".join(str(p) for p in (*_chain, path))
        raise problem(str(_chain[-1]), "extends", f"circular extends: {cycle}", path.name)
    data = read_toml(path)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data, dict.fromkeys(_leaf_paths(data), str(path))
    if not isinstance(parent_name, str) or not parent_name:
        raise problem(str(path), "extends", "expected the name of a TOML file", parent_name)
    parent_path = path.parent / parent_name
    if not parent_path.is_file():
        raise problem(
            str(path),
            "extends",
            f"names a file that does not exist (looked for {parent_path})",
            parent_name,
        )
    base, origins = resolve_extends(parent_path, (*_chain, path))
    merged = deep_merge(base, data)
    origins.update(dict.fromkeys(_leaf_paths(data), str(path)))
    return merged, origins


def deep_merge(base: dict, override: dict) -> dict:
    """A new table: `override`'s values over `base`'s, merging nested tables key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split a `dotted.key=value` override; the value is read as TOML, else kept as a string."""
    key, sep, raw_value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise problem(COMMAND_LINE, text, "expected dotted.key=value, e.g. run.replicate_count=5")
    raw_value = raw_value.strip()
    try:
        value = tomllib.loads(f"v = {raw_value}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw_value
    return key, value


def set_dotted(data: dict, key_path: str, value: Any) -> None:
    """Set `value` at a dotted path in nested tables, creating tables on the way."""
    parts = key_path.split(".")
    table = data
    for depth, part in enumerate(parts[:-1]):
        child = table.setdefault(part, {})
        if not isinstance(child, dict):
            raise problem(COMMAND_LINE, ".".join(parts[: depth + 1]), "is a value, not a table", child)
        table = child
    table[parts[-1]] = value


def load_scenario(
    path: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
) -> Scenario:
    """Load and validate a scenario file (or the built-in baseline when `path` is None).

    Args:
        path: a scenario TOML file, possibly with `extends`.
        overrides: dotted-key values applied on top, as a mapping or as `key=value` strings
            (the command line's `--set`).

    Raises:
        InputError: naming the file, key path, value and expectation for each problem.
    """
    if path is None:
        data, origins, top = {}, {}, "<defaults>"
    else:
        top = str(path)
        data, origins = resolve_extends(Path(path))
    data = dict(data)
    items = overrides.items() if isinstance(overrides, dict) else map(parse_assignment, overrides or [])
    for key, value in items:
        key = key.replace("__", ".")
        set_dotted(data, key, value)
        origins[key] = COMMAND_LINE
    resolve_posterior_file(data, origins)
    return validate_scenario(data, origins, top)


def resolve_posterior_file(data: dict, origins: dict[str, str]) -> None:
    """Make `posterior.file` absolute: relative to the file that names it (the working folder for --set)."""
    table = data.get("posterior")
    if not isinstance(table, dict) or not isinstance(table.get("file"), str) or not table["file"]:
        return
    origin = origins.get(POSTERIOR_KEY, COMMAND_LINE)
    folder = Path.cwd() if origin == COMMAND_LINE else Path(origin).parent
    table["file"] = str((folder / table["file"]).resolve())


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A copy of a validated scenario with dotted-key overrides applied and re-validated."""
    data = scenario.model_dump()
    origins: dict[str, str] = {}
    for key, value in overrides.items():
        dotted = key.replace("__", ".")
        set_dotted(data, dotted, value)
        origins[dotted] = "override"
    return validate_scenario(data, origins, f"scenario {scenario.name!r}")


def validate_scenario(data: dict, origins: dict[str, str], top: str) -> Scenario:
    """Validate merged scenario data, translating schema errors into actionable problems."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        problems = [_explain(e, origins, top) for e in error.errors()]
        raise InputError(problems) from None
    check_consistency(scenario, origins, top)
    return scenario


def check_consistency(scenario: Scenario, origins: dict[str, str], top: str) -> None:
    """Cross-field checks the per-field ranges cannot express."""
    check_dates(scenario, origins, top)
    check_population(scenario, origins, top)
    check_instruments(scenario, origins, top)
    check_disasters(scenario, origins, top)
    check_posterior(scenario, origins, top)


def check_posterior(scenario: Scenario, origins: dict[str, str], top: str) -> None:
    """A named posterior must be readable, with valid values for parameters nothing else sets."""
    file = scenario.posterior.file
    if not file:
        return
    where = origins.get(POSTERIOR_KEY, top)
    try:
        sample = load_posterior(file)
    except PosteriorFileError as error:
        raise problem(
            where, POSTERIOR_KEY, f"{error}; expected a posterior.parquet from povsim calibrate", file
        ) from None
    problems = []
    for path, (low, high) in parameter_ranges(sample).items():
        reason = _out_of_range(path, low, high)
        if reason:
            problems.append(Problem(where, POSTERIOR_KEY, f"draws {path}, which {reason}", file, True))
        setter = origins.get(path)
        if setter is not None and (setter == COMMAND_LINE or Path(setter).suffix == ".toml"):
            problems.append(
                Problem(
                    setter,
                    path,
                    f"is drawn from the posterior {file} (named by {where}), so this value would be replaced "
                    "in every replicate; expected no value here, or no [posterior]",
                    _dotted_value(scenario, path),
                    True,
                )
            )
    if problems:
        raise InputError(problems)


def _out_of_range(path: str, low: float, high: float) -> str | None:
    """Why values from `low` to `high` do not fit the scenario field at `path`, or None if they do."""
    owner, name = _field_owner(path.split("."))
    if owner is None or name not in owner.model_fields:
        return "is not a scenario parameter"
    field = owner.model_fields[name]
    if field.annotation is not float:
        return "is not a real-valued scenario parameter"
    for rule in field.metadata:
        ge, le = getattr(rule, "ge", None), getattr(rule, "le", None)
        if (ge is not None and low < ge) or (le is not None and high > le):
            return f"takes values {low:g} to {high:g}, outside its valid range"
    return None


def _dotted_value(scenario: Scenario, path: str) -> Any:
    node: Any = scenario
    for part in path.split("."):
        node = getattr(node, part, None)
    return node


def check_instruments(scenario: Scenario, origins: dict[str, str], top: str) -> None:
    """Each instrument needs someone to serve and a disbursement period in the right order."""
    problems = []
    for name in type(scenario.instruments).model_fields:
        config = getattr(scenario.instruments, name)
        prefix = f"instruments.{name}"
        if config.start_date > config.end_date:
            key = f"{prefix}.end_date"
            problems.append(
                Problem(
                    origins.get(key, origins.get(f"{prefix}.start_date", top)),
                    key,
                    f"is before {prefix}.start_date ({config.start_date}); expected an end after the start",
                    config.end_date,
                    True,
                )
            )
        for field, smallest in (
            ("annual_budget_vnd", MIN_BUDGET_VND),
            ("amount_vnd_per_unit", MIN_AMOUNT_VND),
        ):
            value = getattr(config, field)
            if value is not None and 0 < value < smallest:
                key = f"{prefix}.{field}"
                problems.append(
                    Problem(
                        origins.get(key, top),
                        key,
                        "is implausibly small for an amount in VND (looks like millions or billions); "
                        f"expected VND (69_666_666_667.0 for VND 69.7 billion), 0, or at least {smallest:,}",
                        value,
                        True,
                    )
                )
        if not config.eligible_groups:
            key = f"{prefix}.eligible_groups"
            problems.append(
                Problem(
                    origins.get(key, top),
                    key,
                    "names no eligible group; expected at least one of poor, near_poor, newly_escaped, "
                    "ethnic_minority, remote, ethnic_minority_remote, rural, all",
                    list(config.eligible_groups),
                    True,
                )
            )
    months = scenario.instruments.food_aid.crop_gap_months
    if any(not 1 <= m <= MONTHS_PER_YEAR for m in months):
        key = "instruments.food_aid.crop_gap_months"
        problems.append(
            Problem(origins.get(key, top), key, "expected calendar months from 1 to 12", list(months), True)
        )
    if problems:
        raise InputError(problems)


def check_disasters(scenario: Scenario, origins: dict[str, str], top: str) -> None:
    """Scheduled disasters must name communes of the district."""
    from povsim.communes import son_duong_communes

    known = son_duong_communes().names
    problems = []
    for i, event in enumerate(scenario.disasters.scheduled):
        key = f"disasters.scheduled.{i}.communes"
        for commune in event.communes:
            if commune not in known:
                close = difflib.get_close_matches(commune, known, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problems.append(
                    Problem(
                        origins.get("disasters.scheduled", top),
                        key,
                        f"names an unknown commune; {hint}expected one of: {', '.join(known)}",
                        commune,
                        True,
                    )
                )
    if problems:
        raise InputError(problems)


def check_population(scenario: Scenario, origins: dict[str, str], top: str) -> None:
    """The end-2021 targets must be reachable by some population."""
    p = scenario.population
    key = "population.age60plus_member_share"
    non_working = p.under6_member_share + p.age6_15_member_share + p.age60plus_member_share
    if non_working > MAX_NON_WORKING_AGE_SHARE:
        raise problem(
            origins.get(key, top),
            key,
            f"makes members outside working age {non_working:.0%} of all members; expected the "
            f"three age shares (under 6, 6-15, 60+) to sum to at most {MAX_NON_WORKING_AGE_SHARE}",
            p.age60plus_member_share,
        )
    minority, others = scenario.initial_below_line_shares()
    key = "targets.ethnic_minority_rate_ratio"
    ratio = scenario.targets.ethnic_minority_rate_ratio
    if minority > MAX_BELOW_LINE_SHARE:
        raise problem(
            origins.get(key, top),
            key,
            f"asks for {minority:.0%} of ethnic-minority households at or below the income line "
            f"at the end-2021 review; expected a ratio that keeps it under "
            f"{MAX_BELOW_LINE_SHARE:.0%} given targets.initial_rate_share and targets.measure",
            ratio,
        )
    if others < MIN_BELOW_LINE_SHARE:
        raise problem(
            origins.get(key, top),
            key,
            f"leaves {others:.2%} of other households at or below the line, given "
            f"population.ethnic_minority_household_share = "
            f"{scenario.population.ethnic_minority_household_share}; expected a smaller ratio or "
            "minority share so that the overall rate can be met",
            ratio,
        )


def check_dates(scenario: Scenario, origins: dict[str, str], top: str) -> None:
    """The calendar must contain a review, and the standards must apply in order."""
    end = scenario.calendar.end_date
    if end < dt.date(SIMULATION_START.year, 12, 31):
        key = "calendar.end_date"
        raise problem(
            origins.get(key, top),
            key,
            f"ends before the first simulated review (end-{SIMULATION_START.year}); "
            f"the simulation starts on {SIMULATION_START}, expected a date on or after "
            f"{SIMULATION_START.year}-12-31",
            end,
        )
    switch = scenario.standards.decree_351_first_review_date
    if switch <= FIRST_REVIEW_DATE:
        key = "standards.decree_351_first_review_date"
        raise problem(
            origins.get(key, top),
            key,
            f"is on or before the end-2021 review ({FIRST_REVIEW_DATE}), which Decree 07/2021 "
            "governs; expected a later date (default 2026-12-31)",
            switch,
        )


def scenario_values(scenario: Scenario) -> dict[str, Any]:
    """Every value of a scenario as JSON types, with a posterior identified by its contents.

    A posterior counts by its SHA-256, not its path, so that a posterior rewritten in place
    changes the fingerprint and a moved checkout does not. Scenarios without a posterior keep
    the fingerprints they had before posteriors existed.
    """
    values = scenario.model_dump(mode="json")
    file = values.pop("posterior")["file"]
    if file:
        values["posterior"] = {"sha256": load_posterior(file).sha256}
    return values


def scenario_hash(scenario: Scenario) -> str:
    """A stable fingerprint of every parameter value, for manifests and result stores."""
    canonical = json.dumps(scenario_values(scenario), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _leaf_paths(data: dict, prefix: str = "") -> list[str]:
    paths = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, dict):
            paths.extend(_leaf_paths(value, path + "."))
    return paths


def _explain(error: dict, origins: dict[str, str], top: str) -> Problem:
    loc = [str(part) for part in error["loc"]]
    key_path = ".".join(loc)
    file = _origin(key_path, origins, top)
    kind = error["type"]
    if kind == "extra_forbidden":
        return Problem(file, key_path, _unknown_key_message(loc), error["input"], True)
    expected = describe_expected(loc)
    message = error["msg"][0].lower() + error["msg"][1:]
    if expected:
        message += f"; expected {expected}"
    return Problem(file, key_path, message, error["input"], True)


def _origin(key_path: str, origins: dict[str, str], top: str) -> str:
    parts = key_path.split(".")
    for end in range(len(parts), 0, -1):
        found = origins.get(".".join(parts[:end]))
        if found:
            return found
    return top


def _field_owner(loc: list[str]) -> tuple[type[BaseModel] | None, str]:
    """The schema class holding the field at `loc`, and the field's name."""
    owner: type[BaseModel] = Scenario
    parts = [part for part in loc[:-1] if not part.isdigit()]
    for part in parts:
        field = owner.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        items = typing.get_args(annotation)
        if items and isinstance(items[0], type) and issubclass(items[0], BaseModel):
            annotation = items[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None, loc[-1]
        owner = annotation
    return owner, loc[-1]


def _unknown_key_message(loc: list[str]) -> str:
    owner, key = _field_owner(loc)
    if owner is None:
        return "unknown key"
    valid = list(owner.model_fields)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    where = ".".join(loc[:-1]) or "the top level"
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (valid keys in {where}: {', '.join(valid)})"


def describe_expected(loc: list[str]) -> str:
    """What the schema accepts at `loc`, in words: type, range and meaning."""
    owner, key = _field_owner(loc)
    if owner is None or key not in owner.model_fields:
        return ""
    field = owner.model_fields[key]
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"a table [{'.'.join(loc)}]"
    kind = {
        float: "a number",
        int: "an integer",
        bool: "true or false",
        str: "a string",
        dt.date: "a date (YYYY-MM-DD)",
    }.get(annotation, "")
    if not kind and getattr(annotation, "__args__", None):
        kind = "one of " + ", ".join(repr(a) for a in annotation.__args__)
    lower = upper = None
    for rule in field.metadata:
        lower = getattr(rule, "ge", lower)
        upper = getattr(rule, "le", upper)
    if lower is not None and upper is not None:
        kind += f" from {lower:,} to {upper:,}"
    elif lower is not None:
        kind += f" of at least {lower:,}"
    if field.description:
        kind += f" ({field.description})"
    return kind
