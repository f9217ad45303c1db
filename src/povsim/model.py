"""PovertyModel: the calendar and the order of events; the mechanisms live in their modules.

One step is one month, from January 2022. Each month: shocks begin, incomes move,
ongoing shocks count down. Each December, members age and conditions change, then the
annual review measures and classifies every household. The population is synthesised to
match the end-2021 review, which is recorded as the first review.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from povsim import demography, living_conditions
from povsim.communes import son_duong_communes
from povsim.economy import update_income
from povsim.households import Household
from povsim.population import synthesize
from povsim.review import measure, record_review
from povsim.scenario import Scenario, load_scenario
from povsim.scenario.loading import with_overrides
from povsim.shocks import end_month_of_illness, start_illnesses
from povsim.standards import PovertyStandard, decree_07, standard_in_force

FIRST_REVIEW_YEAR = 2021
MONTHS_PER_YEAR = 12


def replicate_seed(master_seed: int, replicate: int) -> np.random.SeedSequence:
    """The random stream of one replicate: the same index gives the same stream everywhere."""
    return np.random.SeedSequence(master_seed, spawn_key=(replicate,))


def last_review_year(end_date: dt.date) -> int:
    """Year of the last December review on or before `end_date`."""
    return end_date.year if end_date >= dt.date(end_date.year, 12, 31) else end_date.year - 1


def review_date(year: int) -> dt.date:
    """The date a year's review is taken to hold (its lists apply from the next January)."""
    return dt.date(year, 12, 31)


class PovertyModel(mesa.Model):
    """Households of Son Duong district, month by month, reviewed every December.

    Args:
        scenario: a validated `Scenario`, a path to a scenario TOML file, or None for the
            built-in baseline.
        rng: seed or generator for all randomness. None uses the scenario's master seed
            (replicate 0), so that a bare `PovertyModel()` is reproducible.
        households: number of households, overriding `run.household_count`.
        agent_views: create a `Household` agent (a view onto its row) for every household.
        **overrides: scenario values by dotted path, written `section__key` (or with
            dots, through `**{"economy.nominal_income_growth_per_year": 0.1}`).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        rng: Any = None,
        households: int | None = None,
        agent_views: bool = False,
        **overrides: Any,
    ) -> None:
        params = resolve_scenario(scenario, households, overrides)
        if rng is None:
            rng = replicate_seed(params.run.master_seed, 0)
        super().__init__(rng=rng)
        self.params = params
        self.communes = son_duong_communes()
        self.months_elapsed = 0
        self.total_months = MONTHS_PER_YEAR * (last_review_year(params.calendar.end_date) - FIRST_REVIEW_YEAR)
        self.new_illnesses = 0
        first_standard = decree_07(params)
        self.households, measured_income = synthesize(
            params, self.communes, first_standard, params.run.household_count, self.rng
        )
        # The end-2021 review scores the synthesised deprivations without error.
        self.reviews: list[dict[str, Any]] = [
            record_review(
                self.households,
                first_standard,
                FIRST_REVIEW_YEAR,
                measured_income,
                first_standard.deprivations(self.households),
            )
        ]
        self.datacollector = mesa.DataCollector(model_reporters=MODEL_REPORTERS)
        self.datacollector.collect(self)
        if agent_views:
            self.create_household_agents()

    @property
    def year(self) -> int:
        """Calendar year of the current month."""
        return FIRST_REVIEW_YEAR + (self.months_elapsed + MONTHS_PER_YEAR - 1) // MONTHS_PER_YEAR

    @property
    def month(self) -> int:
        """Calendar month (1-12) of the current step; 12 before the first step."""
        return (self.months_elapsed - 1) % MONTHS_PER_YEAR + 1

    @property
    def standard(self) -> PovertyStandard:
        """The standard this year's review classifies households under."""
        return standard_in_force(review_date(self.year), self.params)

    @property
    def latest_review(self) -> dict[str, Any]:
        """The most recent review's figures."""
        return self.reviews[-1]

    def step(self) -> None:
        """Advance one month; in December, advance the year and hold the review."""
        state = self.households
        self.months_elapsed += 1
        normals = self.rng.standard_normal((2, state.count))
        self.new_illnesses = start_illnesses(state, self.params, self.rng.random(state.count))
        update_income(state, self.params, self.months_elapsed, normals)
        end_month_of_illness(state)
        if self.month == MONTHS_PER_YEAR:
            self.hold_annual_review()
        self.datacollector.collect(self)
        if self.months_elapsed >= self.total_months:
            self.running = False

    def hold_annual_review(self) -> None:
        """Year-end changes of members and living conditions, then the review."""
        state, standard = self.households, self.standard
        demography.advance_year(state, self.params, self.rng)
        living_conditions.advance_year(state, self.params, standard.income_line(state.urban), self.rng)
        r = self.params.review
        income, deprived = measure(
            state,
            standard,
            MONTHS_PER_YEAR,
            r.income_measurement_error_log_sd,
            r.indicator_misscoring_prob_per_review,
            self.rng,
        )
        self.reviews.append(record_review(state, standard, self.year, income, deprived))

    def run(self) -> None:
        """Step until the last review of the scenario's calendar."""
        while self.running:
            self.step()

    def create_household_agents(self) -> mesa.agent.AgentSet:
        """Create the `Household` agent views (once) and return them."""
        if Household not in self.agent_types:
            Household.create_agents(self, self.households.count, row=np.arange(self.households.count))
        return self.agents_by_type[Household]


def resolve_scenario(
    scenario: Scenario | str | Path | None, households: int | None, overrides: dict[str, Any]
) -> Scenario:
    """The scenario a model runs: loaded if a path, with `households` and overrides applied."""
    if households is not None:
        overrides = {**overrides, "run.household_count": households}
    if isinstance(scenario, Scenario):
        return with_overrides(scenario, overrides) if overrides else scenario
    return load_scenario(scenario, overrides)


def _share_below_line_this_month(model: PovertyModel) -> float:
    state = model.households
    line = model.standard.income_line(state.urban)
    return float((state.income_vnd_per_person_month <= line).mean())


MODEL_REPORTERS = {
    "year": lambda m: m.year,
    "month": lambda m: m.month,
    "mean_income_vnd_per_person_month": lambda m: float(m.households.income_vnd_per_person_month.mean()),
    "median_income_vnd_per_person_month": lambda m: float(
        np.median(m.households.income_vnd_per_person_month)
    ),
    "share_below_line_this_month": _share_below_line_this_month,
    "ill_household_share": lambda m: float((m.households.illness_months_left > 0).mean()),
    "new_illnesses": lambda m: m.new_illnesses,
    "poor_rate": lambda m: m.latest_review["poor_rate"],
    "near_poor_rate": lambda m: m.latest_review["near_poor_rate"],
    "poor_or_near_poor_rate": lambda m: m.latest_review["poor_or_near_poor_rate"],
}
