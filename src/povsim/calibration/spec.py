"""The calibration file's schema, and the validated `Calibration` it becomes.

A calibration names a base scenario and fixed overrides (like an experiment), the uncertain
parameters with their priors and sources, the observed moments (each a target or held out
for validation, with the tolerance that makes one unit of distance), and the settings of
the screen, the ABC-SMC fit and the posterior predictive check.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from povsim.experiments.outcomes import Outcome
from povsim.scenario import Scenario
from povsim.scenario.loading import scenario_values

PriorKind = Literal["uniform", "loguniform", "normal"]
Role = Literal["target", "validation"]


class Strict(BaseModel):
    """A table of a calibration file: unknown keys and loose types are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PriorSpec(Strict):
    """One uncertain parameter: where it goes in the scenario, its prior and why."""

    path: str = Field(
        description="dotted path into the scenario, e.g. economy.nominal_income_growth_per_year"
    )
    distribution: PriorKind = Field(
        "uniform", description="uniform, loguniform or normal (truncated to low..high)"
    )
    low: float = Field(description="lower end of the prior's support")
    high: float = Field(description="upper end of the prior's support")
    mean: float | None = Field(None, description="normal prior: mean")
    sd: float | None = Field(None, gt=0, description="normal prior: standard deviation")
    source: str = Field(min_length=1, description="the evidence or reasoning behind the prior")


class MomentSpec(Strict):
    """One observed figure the model reproduces: a target of the fit or a held-out check."""

    path: str = Field(
        description="outcome path, as in experiments: reviews.2024.poor_rate or review:YEAR:COLUMN"
    )
    observed: float = Field(description="the observed value, in the outcome's units")
    tolerance: float = Field(gt=0, description="the discrepancy that counts as one unit of distance")
    role: Role = Field("target", description="target (fitted) or validation (held out, only reported)")
    district_total: bool = Field(
        False, description="the outcome is a count for the simulated households: scale it to the district"
    )
    source: str = Field(min_length=1, description="where the observed value comes from and how it is read")


class ScreenSpec(Strict):
    """The Morris screen of the targets over the priors' supports, run before the fit."""

    trajectories: int = Field(10, ge=2, le=1000, description="Morris trajectories")
    grid_levels: int = Field(4, ge=2, le=20, description="levels of the Morris grid")
    replicates: int = Field(2, ge=1, le=100, description="replicates per screen point")


class AbcSpec(Strict):
    """ABC-SMC settings (population Monte Carlo with adaptive tolerances)."""

    particles: int = Field(200, ge=10, le=100_000, description="accepted particles per generation")
    initial_draws_per_particle: int = Field(
        4,
        ge=1,
        le=100,
        description="generation 0 simulates this many prior draws per particle and keeps the closest",
    )
    epsilon_quantile: float = Field(
        0.5, gt=0.0, lt=1.0, description="next tolerance: this quantile of the last generation's distances"
    )
    final_epsilon: float = Field(
        1.0,
        gt=0.0,
        description="stop once the tolerance reaches this distance (1: every target within tolerance)",
    )
    max_generations: int = Field(
        10,
        ge=1,
        le=19,
        description="generations at most, generation 0 included (19 at most: later ones would reuse "
        "the random streams of the report's predictive runs)",
    )
    min_acceptance_rate: float = Field(
        0.02, ge=0.0, lt=1.0, description="stop when a generation accepts fewer of its proposals than this"
    )
    max_simulations: int = Field(
        50_000, ge=10, le=10_000_000, description="simulations at most, over all generations"
    )
    batch_size: int = Field(16, ge=1, le=10_000, description="simulations per task sent to a worker")


class PredictiveSpec(Strict):
    """The posterior predictive check behind the fit report."""

    draws: int = Field(100, ge=2, le=100_000, description="posterior draws, one run each")
    household_count: int | None = Field(
        None, ge=100, le=10_000_000, description="households per run (default: the calibration's)"
    )


class CalibrationSpec(Strict):
    """A whole calibration file."""

    name: str = Field(description="short name used for the output folder")
    description: str = Field("", description="what the calibration fits and why")
    scenario: str = Field(description="base scenario TOML file, relative to the calibration file")
    master_seed: int = Field(ge=0, le=2**63 - 1, description="master seed of every draw and run")
    overrides: dict = Field(
        default_factory=dict, description="scenario values fixed for every run, by dotted path"
    )
    priors: dict[str, PriorSpec] = Field(description="the uncertain parameters, by name")
    moments: dict[str, MomentSpec] = Field(description="the observed moments, by name")
    screen: ScreenSpec = ScreenSpec()
    abc: AbcSpec = AbcSpec()
    predictive: PredictiveSpec = PredictiveSpec()


@dataclass(frozen=True)
class Prior:
    """A prior as the sampler uses it: on a unit interval where the kernel moves particles.

    Uniform priors are uniform on the unit interval; log-uniform ones are uniform in the log;
    normal ones are truncated to low..high and have a density there.
    """

    name: str
    path: str
    kind: PriorKind
    low: float
    high: float
    mean: float | None = None
    sd: float | None = None

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Parameter values as positions on the unit interval."""
        if self.kind == "loguniform":
            return (np.log(values) - np.log(self.low)) / (np.log(self.high) - np.log(self.low))
        return (values - self.low) / (self.high - self.low)

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Positions on the unit interval as parameter values."""
        if self.kind == "loguniform":
            return np.exp(np.log(self.low) + unit * (np.log(self.high) - np.log(self.low)))
        return self.low + unit * (self.high - self.low)

    def unit_density(self, unit: np.ndarray) -> np.ndarray:
        """The prior's density on the unit interval (zero outside it)."""
        inside = (unit >= 0.0) & (unit <= 1.0)
        if self.kind != "normal":
            return inside.astype(float)
        return np.where(inside, self._truncated().pdf(self.from_unit(unit)) * (self.high - self.low), 0.0)

    def expected_value(self) -> float:
        """The prior's mean, in the parameter's units."""
        if self.kind == "loguniform":
            return (self.high - self.low) / np.log(self.high / self.low)
        if self.kind == "normal":
            return float(self._truncated().mean())
        return 0.5 * (self.low + self.high)

    def unit_sd(self) -> float:
        """The prior's standard deviation on the unit interval (the scale the kernel works on)."""
        if self.kind == "normal":
            return float(self._truncated().std()) / (self.high - self.low)
        return float(np.sqrt(1.0 / 12.0))

    def sample_unit(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Independent prior draws, as unit-interval positions."""
        if self.kind != "normal":
            return rng.random(count)
        return self.to_unit(self._truncated().rvs(size=count, random_state=rng))

    def _truncated(self) -> stats.rv_continuous:
        assert self.mean is not None
        assert self.sd is not None
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sd)


@dataclass(frozen=True)
class Moment:
    """An observed moment and the outcome that simulates it."""

    name: str
    outcome: Outcome
    observed: float
    tolerance: float
    role: Role
    district_total: bool
    source: str


@dataclass(frozen=True)
class Calibration:
    """A validated calibration file.

    Attributes:
        file: the calibration file.
        text: its text, copied into the results.
        spec: the parsed file.
        base: the base scenario with the fixed overrides and the master seed applied.
        base_file: the base scenario's file.
        priors: the priors, in file order.
        moments: every moment, targets and validation, in file order.
    """

    file: Path
    text: str
    spec: CalibrationSpec
    base: Scenario
    base_file: Path
    priors: tuple[Prior, ...]
    moments: tuple[Moment, ...]

    @property
    def name(self) -> str:
        """The calibration's name."""
        return self.spec.name

    @property
    def targets(self) -> tuple[Moment, ...]:
        """The moments the fit uses."""
        return tuple(m for m in self.moments if m.role == "target")

    def identity(self) -> str:
        """A fingerprint of everything that decides the fit's numbers (to refuse resuming another)."""
        spec = self.spec.model_dump(mode="json")
        for key in ("description", "predictive"):
            spec.pop(key, None)
        for moment in spec["moments"].values():
            moment.pop("source", None)
        for prior in spec["priors"].values():
            prior.pop("source", None)
        canonical = json.dumps(
            {"spec": spec, "base": scenario_values(self.base)}, sort_keys=True, default=str
        )
        return hashlib.sha256(canonical.encode()).hexdigest()
