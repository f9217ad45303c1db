"""The model the dashboard drives: `PovertyModel` with the policy levers as keyword arguments.

Mesa's SolaraViz rebuilds a model on Reset as `type(model)(**params)`, so every control of
the dashboard must be a keyword of the model's `__init__`. `DashboardModel` gives each
lever an explicit keyword in the units a reader thinks in (VND billion a year, VND million,
shares, a switch) and turns the levers into scenario overrides; the scenario itself
validates them (an out-of-range value raises `povsim.InputError`). A lever left at None
keeps the scenario's value.

The model also keeps a light monthly trace of every household (income per person, support
received so far, shocks that struck) so that the household inspector can show any
household's history, whichever household is picked and whenever. The trace only reads the
model's arrays; it changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from povsim.model import PovertyModel, replicate_seed
from povsim.policies import INSTRUMENT_IDS
from povsim.scenario import InputError, Scenario, load_scenario
from povsim.scenario.errors import problem

DEFAULT_HOUSEHOLDS = 10_000
BN, MILLION = 1e9, 1e6

# Support for households that have just left poverty: none at all, the scenario's own
# (loans, training, work abroad and the tea value chain in the baseline), or also the
# entitlements that guard against the usual causes of relapse (an illness's costs, taking
# a child out of school).
NEWLY_ESCAPED_MODES = ("none", "as in scenario", "extended")
EXTENDED_INSTRUMENTS = ("health_insurance", "tuition_exemption", "study_cost_support")

# Shocks recorded in the household trace: the bit set in a month when the count rose.
TRACE_SHOCKS: dict[str, str] = {
    "illness_count": "serious illness",
    "worker_loss_count": "worker lost",
    "job_loss_count": "job lost",
    "herd_disease_count": "herd disease",
    "disaster_hit_count": "disaster",
}


@dataclass(frozen=True)
class Lever:
    """A control of the dashboard and the scenario values it sets.

    Attributes:
        name: the `DashboardModel` keyword.
        label: what the control says.
        widget: Mesa's input type (`SliderFloat`, `SliderInt`, `Checkbox`, `Select`).
        read: the scenario's value in the lever's units (None: the lever does not apply).
        write: the scenario overrides (dotted path -> value) for a lever value, given the
            overrides of the levers before it (two levers may change one list).
        low: smallest slider value.
        high: largest slider value.
        step: slider step.
        values: the choices of a `Select`.
    """

    name: str
    label: str
    widget: str
    read: Callable[[Scenario], Any]
    write: Callable[[Scenario, Any, dict[str, Any]], dict[str, Any]]
    low: float = 0.0
    high: float = 1.0
    step: float = 1.0
    values: tuple[str, ...] = field(default_factory=tuple)

    def spec(self, scenario: Scenario) -> dict[str, Any] | Any:
        """Mesa's `model_params` entry for this lever, starting at the scenario's value."""
        value = self.read(scenario)
        if value is None:
            return None  # fixed: the scenario's value stays
        spec: dict[str, Any] = {"type": self.widget, "label": self.label, "value": value}
        if self.widget.startswith("Slider"):
            spec.update(min=self.low, max=self.high, step=self.step)
        if self.widget == "Select":
            spec["values"] = list(self.values)
        return spec


def scalar_lever(
    name: str,
    label: str,
    path: str,
    scale: float,
    low: float,
    high: float,
    step: float,
    *,
    integer: bool = False,
) -> Lever:
    """A slider for one numeric scenario value, shown divided by `scale`."""

    def read(scenario: Scenario) -> float | int | None:
        value = _get(scenario, path)
        if value is None:
            return None
        shown = value / scale
        return round(shown) if integer else float(shown)

    def write(scenario: Scenario, value: float, pending: dict[str, Any]) -> dict[str, Any]:
        current = _get(scenario, path)
        wanted = int(value) if isinstance(current, int) and not isinstance(current, bool) else float(value)
        return {path: wanted * scale if scale != 1 else wanted}

    return Lever(name, label, "SliderInt" if integer else "SliderFloat", read, write, low, high, step)


def _get(scenario: Scenario, path: str) -> Any:
    value: Any = scenario
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _groups(scenario: Scenario, instrument: str, pending: dict[str, Any] | None = None) -> tuple[str, ...]:
    """An instrument's eligible groups, as changed by levers already applied (`pending`)."""
    path = f"instruments.{instrument}.eligible_groups"
    if pending and path in pending:
        return tuple(pending[path])
    return tuple(getattr(scenario.instruments, instrument).eligible_groups)


def _read_near_poor_insurance(scenario: Scenario) -> bool:
    return "near_poor" in _groups(scenario, "health_insurance")


def _write_near_poor_insurance(scenario: Scenario, value: bool, pending: dict[str, Any]) -> dict[str, Any]:
    groups = [g for g in _groups(scenario, "health_insurance", pending) if g != "near_poor"]
    if value:
        groups.append("near_poor")
    return {"instruments.health_insurance.eligible_groups": groups}


def _write_newly_escaped(scenario: Scenario, mode: str, pending: dict[str, Any]) -> dict[str, Any]:
    if mode not in NEWLY_ESCAPED_MODES:
        raise problem(
            "dashboard",
            "newly_escaped_support",
            f"expected one of {', '.join(repr(m) for m in NEWLY_ESCAPED_MODES)}",
            mode,
        )
    overrides: dict[str, Any] = {}
    if mode == "as in scenario":
        return overrides
    for instrument in INSTRUMENT_IDS:
        groups = list(_groups(scenario, instrument, pending))
        if mode == "none" and "newly_escaped" in groups:
            groups.remove("newly_escaped")
            if groups:
                overrides[f"instruments.{instrument}.eligible_groups"] = groups
            else:  # it served only newly escaped households
                overrides[f"instruments.{instrument}.enabled"] = False
        elif mode == "extended" and instrument in EXTENDED_INSTRUMENTS and "newly_escaped" not in groups:
            overrides[f"instruments.{instrument}.eligible_groups"] = [*groups, "newly_escaped"]
    return overrides


def _write_newly_escaped_years(scenario: Scenario, years: int, pending: dict[str, Any]) -> dict[str, Any]:
    return {f"instruments.{i}.newly_escaped_max_years": int(years) for i in INSTRUMENT_IDS}


LEVERS: tuple[Lever, ...] = (
    scalar_lever(
        "loan_budget_bn_vnd",
        "Loan budget (VND bn/year)",
        "instruments.preferential_loans.annual_budget_vnd",
        BN,
        0.0,
        300.0,
        1.0,
    ),
    scalar_lever(
        "loan_size_million_vnd",
        "Loan size (VND million)",
        "instruments.preferential_loans.amount_vnd_per_unit",
        MILLION,
        5.0,
        100.0,
        1.0,
    ),
    scalar_lever(
        "housing_budget_bn_vnd",
        "Housing budget (VND bn/year)",
        "instruments.housing_support.annual_budget_vnd",
        BN,
        0.0,
        150.0,
        1.0,
    ),
    Lever(
        "near_poor_insurance",
        "Health insurance for the near-poor",
        "Checkbox",
        _read_near_poor_insurance,
        _write_near_poor_insurance,
    ),
    Lever(
        "newly_escaped_support",
        "Support for newly escaped",
        "Select",
        lambda scenario: "as in scenario",
        _write_newly_escaped,
        values=NEWLY_ESCAPED_MODES,
    ),
    Lever(
        "newly_escaped_years",
        "Years counted as newly escaped",
        "SliderInt",
        lambda scenario: scenario.instruments.preferential_loans.newly_escaped_max_years,
        _write_newly_escaped_years,
        1,
        10,
        1,
    ),
    scalar_lever(
        "exclusion_error_share",
        "Eligible missed (share)",
        "targeting.exclusion_error_share",
        1.0,
        0.0,
        0.5,
        0.01,
    ),
    scalar_lever(
        "inclusion_error_share",
        "Ineligible included (share)",
        "targeting.inclusion_error_share",
        1.0,
        0.0,
        0.2,
        0.005,
    ),
    scalar_lever(
        "flood_prob_per_month",
        "Flood chance per month",
        "disasters.flood_prob_per_month",
        1.0,
        0.0,
        0.2,
        0.005,
    ),
    scalar_lever(
        "landslide_prob_per_month",
        "Landslide chance per month",
        "disasters.landslide_prob_per_month",
        1.0,
        0.0,
        0.2,
        0.005,
    ),
    scalar_lever(
        "storm_prob_per_month",
        "Storm chance per month",
        "disasters.storm_prob_per_month",
        1.0,
        0.0,
        0.2,
        0.005,
    ),
    scalar_lever(
        "disaster_household_share",
        "Disaster: households hit (share)",
        "disasters.affected_household_share",
        1.0,
        0.0,
        1.0,
        0.05,
    ),
    scalar_lever(
        "disaster_crop_loss_share",
        "Disaster: crop income lost (share)",
        "disasters.crop_loss_share",
        1.0,
        0.0,
        1.0,
        0.05,
    ),
    scalar_lever(
        "illness_cost_million_vnd",
        "Illness cost (VND million)",
        "shocks.illness_treatment_cost_vnd",
        MILLION,
        0.0,
        50.0,
        0.5,
    ),
)
LEVER_NAMES = tuple(lever.name for lever in LEVERS)


def load_base(scenario: Scenario | str | Path | None) -> Scenario:
    """The scenario to start from: a validated scenario, a scenario file, or None for the built-in one."""
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(None if scenario in (None, "") else Path(scenario))


def parse_seed(seed: Any) -> int | None:
    """A master seed from the seed box (text) or from Python (an int); None or blank: the scenario's."""
    if seed is None or (isinstance(seed, str) and not seed.strip()):
        return None
    if isinstance(seed, bool):
        raise problem("dashboard", "seed", "expected a whole number of 0 or more", seed)
    try:
        value = int(seed.strip().replace(",", "").replace("_", "")) if isinstance(seed, str) else int(seed)
    except (TypeError, ValueError):
        raise problem("dashboard", "seed", "expected a whole number of 0 or more", seed) from None
    if value < 0 or (not isinstance(seed, str) and value != seed):
        raise problem("dashboard", "seed", "expected a whole number of 0 or more", seed)
    return value


def lever_overrides(base: Scenario, levers: dict[str, Any]) -> dict[str, Any]:
    """Scenario overrides (dotted path -> value) for the levers that are set (not None)."""
    unknown = set(levers) - set(LEVER_NAMES)
    if unknown:
        raise problem("dashboard", sorted(unknown)[0], f"unknown lever; levers: {', '.join(LEVER_NAMES)}")
    overrides: dict[str, Any] = {}
    for lever in LEVERS:
        value = levers.get(lever.name)
        if value is not None:
            overrides.update(lever.write(base, value, overrides))
    return overrides


class HouseholdTrace:
    """Every household's month-by-month income, support received and shocks, from the model's arrays.

    Row 0 is the synthesised population (December 2021); row t is month t. About 9 bytes
    per household and month: 10 MB for 10,000 households over 108 months.
    """

    def __init__(self, model: PovertyModel) -> None:
        months, n = model.total_months + 1, model.households.count
        self.income_vnd_per_person_month = np.zeros((months, n), np.float32)
        self.support_vnd = np.zeros((months, n), np.float32)  # received since 2021, all instruments
        self.shocks = np.zeros((months, n), np.uint8)  # bit i: TRACE_SHOCKS[i] struck that month
        self._counts = self._shock_counts(model)
        self.months = 0
        self._store(model, 0)

    @staticmethod
    def _shock_counts(model: PovertyModel) -> np.ndarray:
        return np.stack([getattr(model.households, name) for name in TRACE_SHOCKS]).astype(np.int32)

    def _store(self, model: PovertyModel, month: int) -> None:
        self.income_vnd_per_person_month[month] = model.households.income_vnd_per_person_month
        self.support_vnd[month] = model.ledger.household_vnd.sum(axis=1)

    def record(self, model: PovertyModel) -> None:
        """Store the month just simulated."""
        month = model.months_elapsed
        if month >= len(self.shocks):
            return
        self._store(model, month)
        counts = self._shock_counts(model)
        struck = counts > self._counts
        bits = np.zeros(model.households.count, np.uint8)
        for i, row in enumerate(struck):
            bits |= row.astype(np.uint8) << i
        self.shocks[month] = bits
        self._counts = counts
        self.months = month

    def household(self, row: int) -> dict[str, np.ndarray]:
        """One household's history to the current month: income, support so far, shocks by name."""
        end = self.months + 1
        bits = self.shocks[:end, row]
        return {
            "month": np.arange(end),
            "income_vnd_per_person_month": self.income_vnd_per_person_month[:end, row].astype(float),
            "support_vnd": self.support_vnd[:end, row].astype(float),
            **{label: (bits >> i) & 1 == 1 for i, label in enumerate(TRACE_SHOCKS.values())},
        }


class DashboardModel(PovertyModel):
    """`PovertyModel` with the dashboard's levers as explicit keywords, a step timer and a household trace.

    Args:
        base_scenario: the scenario to start from: a `Scenario`, a scenario file, or None
            for the built-in baseline. (Not `scenario`: SolaraViz passes its own object
            under that name on Reset.)
        rng: master seed (an int, or text from the seed box); the model runs replicate 0
            of it, as `povsim run --seed N` does first. None: the scenario's master seed.
        households: households in the synthetic district (fewer is faster).
        loan_budget_bn_vnd: preferential loans, VND billion a year.
        loan_size_million_vnd: preferential loan size, VND million.
        housing_budget_bn_vnd: housing support, VND billion a year.
        near_poor_insurance: whether near-poor households get state-paid health insurance.
        newly_escaped_support: "none", "as in scenario", or "extended" (also health
            insurance, tuition exemption and study-cost support).
        newly_escaped_years: reviews after leaving poverty during which a household counts
            as newly escaped (every instrument).
        exclusion_error_share: eligible households the commune officials miss.
        inclusion_error_share: ineligible households of average living standard included.
        flood_prob_per_month: chance of a flood in a river commune in a rainy-season month.
        landslide_prob_per_month: chance of landslides in a remote upland commune.
        storm_prob_per_month: chance of a damaging storm in a storm-season month.
        disaster_household_share: share of a struck commune's households hit.
        disaster_crop_loss_share: share of crop income a hit household loses.
        illness_cost_million_vnd: mean treatment cost of a serious illness, VND million.
        lenient_seed: if True, a seed that is not a whole number (a typo in the seed box)
            falls back to the scenario's master seed and is reported in `notes` instead of
            raising.

    Raises:
        InputError: a lever or the seed is out of range or of the wrong kind.
    """

    def __init__(
        self,
        base_scenario: Scenario | str | Path | None = None,
        rng: int | str | None = None,
        households: int | None = DEFAULT_HOUSEHOLDS,
        loan_budget_bn_vnd: float | None = None,
        loan_size_million_vnd: float | None = None,
        housing_budget_bn_vnd: float | None = None,
        near_poor_insurance: bool | None = None,
        newly_escaped_support: str | None = None,
        newly_escaped_years: int | None = None,
        exclusion_error_share: float | None = None,
        inclusion_error_share: float | None = None,
        flood_prob_per_month: float | None = None,
        landslide_prob_per_month: float | None = None,
        storm_prob_per_month: float | None = None,
        disaster_household_share: float | None = None,
        disaster_crop_loss_share: float | None = None,
        illness_cost_million_vnd: float | None = None,
        lenient_seed: bool = False,
    ) -> None:
        base = load_base(base_scenario)
        levers = {name: value for name, value in locals().items() if name in LEVER_NAMES}
        overrides = lever_overrides(base, levers)
        self.notes: list[str] = []
        try:
            seed = parse_seed(rng)
        except InputError as error:
            if not lenient_seed:
                raise
            seed = None
            self.notes.append(f"{error.problems[0].message}: {rng!r}; the scenario's seed is used")
        master_seed = base.run.master_seed if seed is None else seed
        if households is not None:
            households = int(households)
        self.base_scenario = base
        self.levers = levers
        self.master_seed = master_seed
        super().__init__(
            scenario=base, rng=replicate_seed(master_seed, 0), households=households, **overrides
        )
        self.last_step_seconds = 0.0
        self.trace = HouseholdTrace(self)

    def step(self) -> None:
        """One month of the model, timed, then the household trace."""
        started = time.perf_counter()
        super().step()
        self.last_step_seconds = time.perf_counter() - started
        self.trace.record(self)


def model_params(base: Scenario, scenario_file: str | Path | None = None) -> dict[str, Any]:
    """SolaraViz `model_params`: seed, households and every lever, starting at the scenario's values.

    Args:
        base: the scenario the controls start from.
        scenario_file: what `DashboardModel` reloads on Reset (the file, or None for the
            built-in baseline); `base` itself when omitted.
    """
    params: dict[str, Any] = {
        "base_scenario": base if scenario_file is None else str(scenario_file),
        "lenient_seed": True,
        "rng": {"type": "InputText", "label": "Seed", "value": str(base.run.master_seed)},
        "households": {
            "type": "SliderInt",
            "label": "Households",
            "value": min(DEFAULT_HOUSEHOLDS, base.run.household_count),
            "min": 1_000,
            "max": 58_000,
            "step": 1_000,
        },
    }
    for lever in LEVERS:
        params[lever.name] = lever.spec(base)
    return params
