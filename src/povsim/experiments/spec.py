"""The experiment file's schema, and the validated `Experiment` it becomes.

An experiment names a base scenario, fixed overrides, the parameters to vary (dotted paths
into the scenario, with levels or ranges and distributions), a design, the replicates per
design point, the outcomes to record and the master seed. `povsim.experiments.loading`
reads and checks a file against these classes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from povsim.scenario import InputError, Problem, Scenario
from povsim.scenario.loading import scenario_values, with_overrides

if TYPE_CHECKING:
    from povsim.experiments.designs import Design
    from povsim.experiments.outcomes import Outcome

# Keys the experiment itself sets for every run: varying or overriding them would break
# the seeding scheme (master seed) or duplicate `replicates`.
RESERVED_PATHS = {
    "run.master_seed": "the experiment's `master_seed` sets it for every run",
    "run.replicate_count": "the experiment's `replicates` sets the replicates per design point",
}

Method = Literal["grid", "lhs", "sobol", "morris", "csv"]
Distribution = Literal["uniform", "loguniform", "normal", "triangular"]


class Strict(BaseModel):
    """A table of an experiment file: unknown keys and loose types are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ParameterSpec(Strict):
    """One varied parameter: where it goes in the scenario and which values it takes."""

    path: str = Field(
        description="dotted path into the scenario, e.g. economy.nominal_income_growth_per_year"
    )
    levels: list[Any] | None = Field(
        None, description="explicit values (grid: its levels; sampled designs: equally likely values)"
    )
    low: float | None = Field(None, description="lower end of the range")
    high: float | None = Field(None, description="upper end of the range")
    count: int | None = Field(
        None, ge=2, le=10_000, description="grid only: evenly spaced levels from low to high"
    )
    distribution: Distribution = Field(
        "uniform", description="sampled designs only: how values are drawn within low..high"
    )
    mean: float | None = Field(None, description="normal distribution: mean (truncated to low..high)")
    sd: float | None = Field(None, gt=0, description="normal distribution: standard deviation")
    mode: float | None = Field(None, description="triangular distribution: most likely value")


class DesignSpec(Strict):
    """How the design points are chosen."""

    method: Method = Field(description="grid, lhs, sobol, morris or csv")
    points: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description=(
            "lhs: number of points; sobol: base sample N (a power of 2); morris: number of trajectories"
        ),
    )
    file: str | None = Field(None, description="csv only: a CSV of points, one column per parameter")
    second_order: bool | None = Field(None, description="sobol only: also estimate second-order indices")
    grid_levels: int | None = Field(
        None, ge=2, le=100, description="morris only: levels of the Morris grid (default 4)"
    )
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, description="seed of the design's sampling (default: master_seed)"
    )


class ExperimentSpec(Strict):
    """A whole experiment file."""

    name: str = Field(description="short name used for the output folder")
    description: str = Field("", description="what question the experiment answers")
    scenario: str = Field(description="base scenario TOML file, relative to the experiment file")
    master_seed: int = Field(
        ge=0, le=2**63 - 1, description="master seed; every run's seed is spawned from it"
    )
    replicates: int = Field(ge=1, le=100_000, description="replicates per design point")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="scenario values fixed for every run, by dotted path"
    )
    design: DesignSpec
    parameters: dict[str, ParameterSpec] = Field(description="the varied parameters, by name")
    outcomes: dict[str, str] = Field(description="outcomes to record: name = path")


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: its spec, base scenario, design points and outcomes.

    Attributes:
        file: the experiment file.
        text: the file's text, copied into the results.
        spec: the parsed file.
        base: the base scenario with the fixed overrides and the master seed applied.
        base_file: the base scenario's file.
        design: the design points (`povsim.experiments.designs.Design`).
        outcomes: the parsed outcome paths, in file order.
    """

    file: Path
    text: str
    spec: ExperimentSpec
    base: Scenario
    base_file: Path
    design: Design
    outcomes: tuple[Outcome, ...]

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.spec.name

    @property
    def replicates(self) -> int:
        """Replicates per design point."""
        return self.spec.replicates

    @property
    def run_count(self) -> int:
        """Runs in the whole sweep: design points times replicates."""
        return len(self.design.points) * self.spec.replicates

    def point_overrides(self, point: int) -> dict[str, Any]:
        """The scenario overrides of one design point, by dotted path."""
        values = self.design.points[point]
        return {self.spec.parameters[name].path: values[name] for name in self.design.names}

    def point_scenario(self, point: int) -> Scenario:
        """The scenario of one design point."""
        return with_overrides(self.base, self.point_overrides(point))

    def base_hash(self) -> str:
        """A fingerprint of the base scenario's values, leaving out `run.replicate_count` (see `identity`)."""
        values = scenario_values(self.base)
        values["run"].pop("replicate_count", None)
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()

    def identity(self) -> str:
        """A fingerprint of everything that decides what the runs compute.

        The outcomes and the number of replicates are left out: outcomes are extracted from
        the stored records and can change on `--resume`, and replicate r's stream does not
        depend on how many replicates there are, so more can be added later.
        """
        canonical = json.dumps(
            {
                "base_scenario_sha256": self.base_hash(),
                "parameters": {n: self.spec.parameters[n].path for n in self.design.names},
                "points": [jsonable(p) for p in self.design.points],
                "master_seed": self.spec.master_seed,
            },
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables as dotted paths: {"run": {"household_count": 5}} -> {"run.household_count": 5}."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def reword(error: InputError, file: str, key_path: str, value: Any = None) -> InputError:
    """Re-attribute a scenario problem to the experiment file's key that caused it."""
    problems = []
    for p in error.problems:
        where = f" (scenario key {p.key_path})" if p.key_path else ""
        shown_value = value if value is not None else p.value
        problems.append(
            Problem(file, key_path, f"{p.message}{where}", shown_value, p.has_value or value is not None)
        )
    return InputError(problems)


def jsonable(value: Any) -> Any:
    """A design value as JSON holds it (dates as ISO text)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def parse_value(text: str) -> Any:
    """A CSV cell as a TOML value (number, boolean, date, quoted string), else the text itself."""
    stripped = text.strip()
    try:
        return tomllib.loads(f"v = {stripped}")["v"]
    except tomllib.TOMLDecodeError:
        return stripped
