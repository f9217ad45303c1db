"""PovertyModel: the calendar and the order of events; the mechanisms live in their modules.

One step is one month, from January 2022. Each month: shocks begin, incomes move,
ongoing shocks count down. Each December, members age and conditions change, then the
annual review measures and classifies every household. The population is synthesised to
match the end-2021 review, which is recorded as the first review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from povsim import demography, living_conditions
from povsim.communes import son_duong_communes
from povsim.economy import PRODUCTS, MarketConditions, earn, settle_month, trend_factor, write_off_defaults
from povsim.household_loops import total_households
from povsim.households import Household, HouseholdState
from povsim.normals import standard_normals
from povsim.policies import INSTRUMENT_IDS, Ledger, PolicyContext, instruments_due, run_instruments
from povsim.population import synthesize
from povsim.review import measure, review_households
from povsim.scenario import Scenario, load_scenario
from povsim.scenario.loading import with_overrides
from povsim.sfc64 import state_words
from povsim.shocks import (
    NO_DISASTER,
    advance_market,
    apply_month_shocks,
    count_down,
    disaster_possible,
    draw_month_shocks,
    strike_disasters,
)
from povsim.standards import PovertyStandard, decree_07, standard_in_force

FIRST_REVIEW_YEAR = 2021
SHOCK_COUNTS = (
    "illness_count",
    "worker_loss_count",
    "job_loss_count",
    "herd_disease_count",
    "disaster_hit_count",
)
MONTHS_PER_YEAR = 12
STREAMS = (
    "population",
    "market",
    "illness",
    "work",
    "migration",
    "livestock",
    "coping",
    "economy",
    "disasters",
    "demography",
    "living_conditions",
    "review",
    *INSTRUMENT_IDS,
)


@dataclass(slots=True)
class HouseholdTotals:
    """Totals over the households at a month's end, for the monthly table."""

    mean_income_vnd_per_person_month: float
    share_below_line_this_month: float  # at or below the line of the lists in force
    ill_household_share: float
    mean_savings_vnd: float
    mean_informal_debt_vnd: float
    formal_debt_vnd: float
    short_household_share: float
    households_abroad: int

    @classmethod
    def of(cls, state: HouseholdState, list_income_line_vnd: np.ndarray) -> HouseholdTotals:
        """The totals of `state`, taken in one pass over the households."""
        income, below, ill, savings, informal, formal, short, abroad = total_households(
            state.income_vnd_per_person_month,
            list_income_line_vnd,
            state.illness_months_left,
            state.savings_vnd,
            state.informal_debt_vnd,
            state.formal_debt_vnd,
            state.short_this_month,
            state.abroad_months_left,
        )
        n = state.count
        return cls(income / n, below / n, ill / n, savings / n, informal / n, formal, short / n, abroad)


@dataclass(slots=True)
class MonthEvents:
    """Counts of what happened this month, for the monthly table."""

    illnesses: int = 0
    workers_lost: int = 0
    herds_hit: int = 0
    disaster_households_hit: int = 0
    houses_damaged: int = 0
    communes_hit: tuple[str, ...] = ()
    loan_defaults: int = 0
    program_spending_vnd: float = 0.0


def replicate_seed(master_seed: int, replicate: int) -> np.random.SeedSequence:
    """The random stream of one replicate: the same index gives the same stream everywhere."""
    return np.random.SeedSequence(master_seed, spawn_key=(replicate,))


def last_review_year(end_date: dt.date) -> int:
    """Year of the last December review on or before `end_date`."""
    return end_date.year if end_date >= dt.date(end_date.year, 12, 31) else end_date.year - 1


def review_date(year: int) -> dt.date:
    """The date a year's review is taken to hold (its lists apply from the next January)."""
    return dt.date(year, 12, 31)


class MonthlyTable(mesa.DataCollector):
    """Mesa's `DataCollector` for model reporters that return numbers, strings or booleans.

    Mesa deep-copies every reported value in case it is mutable; these values are not, and
    the twenty-odd copies were about three quarters of the collection's cost. Agent
    reporters, if any are added, go through Mesa's own collection.
    """

    def collect(self, model: mesa.Model) -> None:
        """Add the model reporters' values at `model.time` (and any agent data, by Mesa)."""
        if self.agent_reporters or self.agenttype_reporters:
            super().collect(model)
            return
        self._collection_steps.append(model.time)
        for name, reporter in self.model_reporters.items():
            self.model_vars[name].append(reporter(model))


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
        # Independent streams, so that switching one process or instrument off leaves the
        # random draws of all others unchanged (common random numbers across scenarios).
        # SFC64 (each seed expanded by numpy's SeedSequence) draws uniforms 1.25x and normals
        # 1.13x as fast as numpy's default PCG64 (benchmarks/bench_streams.py); draws are
        # about a third of a run's time.
        stream_seeds = self.rng.integers(0, 2**63, size=len(STREAMS))
        self.streams = {
            name: np.random.Generator(np.random.SFC64(seed))
            for name, seed in zip(STREAMS, stream_seeds, strict=True)
        }
        # The state views of compiled draws (`sfc64.state_words`, kept by it), made back to
        # back: made at each stream's first compiled draw, amid a month's work, they cost
        # several times as much.
        for stream in self.streams.values():
            state_words(stream)
        first_standard = decree_07(params)
        self.list_standard = first_standard  # the standard of the lists in force
        self._line_standard: PovertyStandard | None = None  # the standard `_list_line` is for
        self._list_line = np.empty(0)
        self.households, measured_income = synthesize(
            params, self.communes, first_standard, params.run.household_count, self.streams["population"]
        )
        self.market = MarketConditions(price_log_deviation=np.zeros(len(PRODUCTS)))
        # Which instruments fall due in each calendar month (index 0: January).
        self.instruments_due = tuple(
            instruments_due(params, month) for month in range(1, MONTHS_PER_YEAR + 1)
        )
        self.ledger = Ledger(
            self.households.count,
            FIRST_REVIEW_YEAR + 1,
            last_review_year(params.calendar.end_date),
            scaled_budgets(params),
        )
        self.month_events = MonthEvents()
        # The end-2021 review scores the synthesised deprivations without error.
        self.reviews: list[dict[str, Any]] = [
            review_households(
                self.households,
                params,
                first_standard,
                FIRST_REVIEW_YEAR,
                measured_income,
                first_standard.deprivations(self.households),
            )
        ]
        self.status_history = [self.households.status.copy()]
        self.measured_income_history = [measured_income.astype(np.float32)]
        self.datacollector = MonthlyTable(model_reporters=MODEL_REPORTERS)
        self.record_month()
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
    def list_income_line(self) -> np.ndarray:
        """Each household's income line under the lists in force (do not modify).

        The monthly table compares incomes with it every month, but it changes only when a
        review brings new lists, so it is computed once per standard of the lists.
        """
        if self._line_standard is not self.list_standard:
            self._list_line = self.list_standard.income_line(self.households.urban)
            self._line_standard = self.list_standard
        return self._list_line

    @property
    def latest_review(self) -> dict[str, Any]:
        """The most recent review's figures."""
        return self.reviews[-1]

    def step(self) -> None:
        """Advance one month; in December, advance the year and hold the review."""
        state, p = self.households, self.params
        self.months_elapsed += 1
        n, year, month = state.count, self.year, self.month
        earnings_normals = standard_normals(self.streams["economy"], (2, n), np.float32)
        advance_market(self.market, p, self.streams["market"].random(len(PRODUCTS) + 2))

        training = p.instruments.vocational_training
        shocks = draw_month_shocks(n, p, self.market, self.streams, training.job_finding_multiplier)
        health_cost, illnesses, workers_lost, herds_hit = apply_month_shocks(
            state,
            p,
            shocks,
            self.streams["illness"].standard_normal(shocks.illness.size),
            p.livelihoods.district_wage_vnd_per_worker_month,
            training.wage_premium_share,
        )
        disaster = NO_DISASTER
        if disaster_possible(p, year, month):
            disaster = strike_disasters(
                state,
                p,
                self.communes,
                year,
                month,
                self.streams["disasters"].random((3, self.communes.count)),
                self.streams["disasters"],
            )

        trend = trend_factor(p, self.months_elapsed)
        livestock_price = (
            p.livelihoods.livestock_unit_price_vnd * trend * self.market.price_factor("livestock", p)
        )
        state.transfers_vnd_this_month[:] = 0.0
        spending = 0.0
        due = self.instruments_due[month - 1]
        if due:
            spent_before = self.ledger.vnd.sum()
            run_instruments(
                PolicyContext(
                    state,
                    p,
                    self.ledger,
                    year,
                    month,
                    self.months_elapsed,
                    trend,
                    livestock_price,
                    self.streams,
                ),
                due,
            )
            spending = float(self.ledger.vnd.sum() - spent_before)
        income = earn(state, p, self.market, month, self.months_elapsed, earnings_normals)
        # Without a disaster there is no repair cost to add (adding zeros would only copy).
        extra_costs = health_cost if disaster is NO_DISASTER else health_cost + disaster.repair_cost_vnd
        settle_month(state, p, income, extra_costs, shocks.school_withdrawal, livestock_price)
        defaults = write_off_defaults(state, p.instruments.preferential_loans.default_after_arrears_months)
        count_down(state)
        self.month_events = MonthEvents(
            illnesses=illnesses,
            workers_lost=workers_lost,
            herds_hit=herds_hit,
            disaster_households_hit=disaster.households_hit,
            houses_damaged=disaster.houses_damaged,
            communes_hit=disaster.communes_hit,
            loan_defaults=defaults,
            program_spending_vnd=spending,
        )
        if month == MONTHS_PER_YEAR:
            self.hold_annual_review()
        self.record_month()
        if self.months_elapsed >= self.total_months:
            self.running = False

    def record_month(self) -> None:
        """Take the households' totals at the month's end and add the month's row to the monthly table."""
        self.totals = HouseholdTotals.of(self.households, self.list_income_line)
        self.datacollector.collect(self)

    def hold_annual_review(self) -> None:
        """Year-end changes of members and living conditions, then the review."""
        state, standard = self.households, self.standard
        demography.advance_year(state, self.params, self.streams["demography"])
        living_conditions.advance_year(
            state,
            self.params,
            standard.income_line(state.urban),
            MONTHS_PER_YEAR,
            self.streams["living_conditions"],
        )
        r = self.params.review
        income, deprived = measure(
            state,
            standard,
            MONTHS_PER_YEAR,
            r.income_measurement_error_log_sd,
            r.indicator_misscoring_prob_per_review,
            self.streams["review"],
        )
        self.reviews.append(review_households(state, self.params, standard, self.year, income, deprived))
        self.list_standard = standard
        self.status_history.append(state.status.copy())
        self.measured_income_history.append(income.astype(np.float32))

    def household_panel(self) -> dict[str, np.ndarray]:
        """One row per household, as columns.

        Attributes, status and measured income at every review, escape and relapse history,
        shocks suffered, and support received by instrument.
        """
        state = self.households
        years = [r["year"] for r in self.reviews]
        panel: dict[str, np.ndarray] = {
            "household": np.arange(state.count, dtype=np.int32),
            "commune": np.asarray(self.communes.names, dtype=object)[state.commune],
            "urban": state.urban.copy(),
            "ethnic_minority": state.ethnic_minority.copy(),
            "remote": state.remote.copy(),
            "members": state.size.astype(np.int16),
        }
        for year, status, income in zip(
            years, self.status_history, self.measured_income_history, strict=True
        ):
            panel[f"status_{year}"] = status
            panel[f"measured_income_vnd_per_person_month_{year}"] = income
        for name in ("ever_poor", "escape_year", "relapse_count", *SHOCK_COUNTS):
            panel[name] = getattr(state, name).copy()
        for i, instrument in enumerate(INSTRUMENT_IDS):
            panel[f"support_vnd_{instrument}"] = self.ledger.household_vnd[:, i].copy()
        return panel

    def run(self) -> None:
        """Step until the last review of the scenario's calendar."""
        while self.running:
            self.step()

    def create_household_agents(self) -> mesa.agent.AgentSet:
        """Create the `Household` agent views (once) and return them."""
        if Household not in self.agent_types:
            Household.create_agents(self, self.households.count, row=np.arange(self.households.count))
        return self.agents_by_type[Household]


def scaled_budgets(scenario: Scenario) -> dict[str, float | None]:
    """Each instrument's yearly budget for the simulated households (district budget x scale)."""
    budgets = {}
    for instrument in INSTRUMENT_IDS:
        budget = getattr(scenario.instruments, instrument).annual_budget_vnd
        budgets[instrument] = None if budget is None else budget * scenario.district_scale
    return budgets


def resolve_scenario(
    scenario: Scenario | str | Path | None, households: int | None, overrides: dict[str, Any]
) -> Scenario:
    """The scenario a model runs: loaded if a path, with `households` and overrides applied."""
    if households is not None:
        overrides = {**overrides, "run.household_count": households}
    if isinstance(scenario, Scenario):
        return with_overrides(scenario, overrides) if overrides else scenario
    return load_scenario(scenario, overrides)


MODEL_REPORTERS = {
    "year": lambda m: m.year,
    "month": lambda m: m.month,
    "mean_income_vnd_per_person_month": lambda m: m.totals.mean_income_vnd_per_person_month,
    "share_below_line_this_month": lambda m: m.totals.share_below_line_this_month,
    "ill_household_share": lambda m: m.totals.ill_household_share,
    "new_illnesses": lambda m: m.month_events.illnesses,
    "workers_lost": lambda m: m.month_events.workers_lost,
    "herds_hit_by_disease": lambda m: m.month_events.herds_hit,
    "disaster_households_hit": lambda m: m.month_events.disaster_households_hit,
    "houses_damaged": lambda m: m.month_events.houses_damaged,
    "communes_hit": lambda m: ";".join(m.month_events.communes_hit),
    "loan_defaults": lambda m: m.month_events.loan_defaults,
    "epidemic": lambda m: m.market.epidemic_months_left > 0,
    "mean_savings_vnd": lambda m: m.totals.mean_savings_vnd,
    "mean_informal_debt_vnd": lambda m: m.totals.mean_informal_debt_vnd,
    "formal_debt_vnd": lambda m: m.totals.formal_debt_vnd,
    "short_household_share": lambda m: m.totals.short_household_share,
    "households_abroad": lambda m: m.totals.households_abroad,
    "program_spending_vnd": lambda m: m.month_events.program_spending_vnd,
    "poor_rate": lambda m: m.latest_review["poor_rate"],
    "near_poor_rate": lambda m: m.latest_review["near_poor_rate"],
    "poor_or_near_poor_rate": lambda m: m.latest_review["poor_or_near_poor_rate"],
}
