"""The household economy: monthly earnings by source, spending, debt service and coping.

Earnings sources are held at end-2021 prices and productivity; a common nominal trend, the
district's price indices, the household's persistent earnings component, monthly noise,
seasonality, illness and disaster losses turn them into this month's income. Spending
keeps a subsistence floor; the rest of income above it is partly saved. When money runs
short, households cope in order: savings, informal borrowing, selling livestock, falling
into arrears on formal loans, and finally taking a child out of school or cutting food.
Savings above a buffer of some months of usual income are spent (durables, building, events).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from povsim.household_loops import (
    earn_households,
    log_luck,
    settle_households,
    withdraw_children,
    write_off_households,
)
from povsim.households import HouseholdState
from povsim.scenario.schema import Scenario

# Monthly profiles of crop and tea income (January first), averaging 1. Two rice crops
# are harvested in June and October; February-April and August-September are the gap.
CROP_SEASON = np.array([0.9, 0.3, 0.3, 0.6, 1.2, 2.2, 1.1, 0.6, 0.6, 2.2, 1.2, 0.8])
CROP_SEASON = CROP_SEASON / CROP_SEASON.mean()
TEA_SEASON = np.array([0.2, 0.2, 0.8, 1.3, 1.5, 1.5, 1.5, 1.5, 1.3, 1.2, 0.8, 0.2])
TEA_SEASON = TEA_SEASON / TEA_SEASON.mean()
PRODUCTS = ("crops", "tea", "livestock")
# Months over which a household's usual income is averaged (exponential smoothing).
USUAL_INCOME_MONTHS = 12


@dataclass
class MarketConditions:
    """District-wide conditions this month: prices and epidemics (see `povsim.shocks`)."""

    price_log_deviation: np.ndarray  # one entry per PRODUCTS
    epidemic_months_left: int = 0
    outbreak_months_left: int = 0

    def price_factor(self, product: str, scenario: Scenario) -> float:
        """Price of a product relative to trend, including an epidemic's price fall."""
        factor = float(np.exp(self.price_log_deviation[PRODUCTS.index(product)]))
        if self.epidemic_months_left > 0:
            factor *= 1.0 - scenario.shocks.epidemic_price_fall_share
        return factor


def trend_factor(scenario: Scenario, months_elapsed: int) -> float:
    """Nominal earnings and prices relative to December 2021."""
    return (1.0 + scenario.economy.nominal_income_growth_per_year) ** (months_elapsed / 12.0)


def persistent_monthly_autocorrelation(scenario: Scenario) -> float:
    """The month-to-month autocorrelation implied by the configured year-on-year one."""
    return scenario.economy.persistent_income_autocorrelation_per_year ** (1.0 / 12.0)


def earn(
    state: HouseholdState,
    scenario: Scenario,
    market: MarketConditions,
    month: int,
    months_elapsed: int,
    normals: np.ndarray,
) -> np.ndarray:
    """This month's household income (VND), recorded per person on the state.

    Args:
        state: the households; persistent earnings and income records are updated.
        scenario: the parameters.
        market: this month's prices and epidemics.
        month: calendar month, 1-12.
        months_elapsed: months since December 2021.
        normals: two rows of standard normal draws, one column per household.
    """
    e, s = scenario.economy, scenario.shocks
    # The compiled loop does not check bounds: arrays from outside the state must fit it.
    if normals.shape != (2, state.count):
        raise ValueError(f"normals have shape {normals.shape}, expected (2, {state.count})")
    phi = persistent_monthly_autocorrelation(scenario)
    noise_sd = e.monthly_income_noise_log_sd
    luck = np.empty(state.count, np.float32)
    log_luck(
        state.income_persistent,
        normals,
        phi,
        float(np.sqrt(1.0 - phi**2) * scenario.population.persistent_income_log_sd),
        np.float32(noise_sd),
        np.float32(0.5 * noise_sd**2),
        luck,
    )
    # Kept in numpy: numpy's own exp, whose last bit may differ from libm's.
    np.exp(luck, out=luck)

    crop_rate = CROP_SEASON[month - 1] * market.price_factor("crops", scenario)
    livestock_return = scenario.livelihoods.livestock_net_return_vnd_per_unit_month * market.price_factor(
        "livestock", scenario
    )
    epidemic = market.epidemic_months_left > 0
    income = np.empty(state.count)
    earn_households(
        state.crops_vnd_month,
        state.tea_vnd_month,
        state.forestry_vnd_month,
        state.livestock_units,
        state.crop_loss_months_left,
        state.crop_loss_share,
        state.wage_vnd_per_worker_month,
        state.wage_workers,
        state.illness_months_left,
        state.remittance_vnd_month,
        state.abroad_months_left,
        state.transfers_vnd_this_month,
        state.size,
        luck,
        crop_rate,
        TEA_SEASON[month - 1] * market.price_factor("tea", scenario),
        livestock_return,
        1.0 - s.epidemic_wage_loss_share if epidemic else 1.0,
        trend_factor(scenario, months_elapsed),
        1.0 - s.illness_income_loss_share,
        scenario.instruments.labour_export.remittance_vnd_month,
        1.0 - s.epidemic_remittance_loss_share if epidemic else 1.0,
        income,
        state.income_vnd_per_person_month,
        state.income_since_review_vnd,
    )
    return income


def settle_month(
    state: HouseholdState,
    scenario: Scenario,
    income_vnd: np.ndarray,
    extra_costs_vnd: np.ndarray,
    withdrawal_candidates: np.ndarray,
    livestock_price_vnd: float,
) -> None:
    """Spend, save, service debts and cope with any shortfall, for one month.

    Args:
        state: the households, updated in place.
        scenario: the parameters.
        income_vnd: this month's household income.
        extra_costs_vnd: unplanned spending this month (treatment, repairs).
        withdrawal_candidates: households that would take a child out of school this month
            if they ran short (drawn with the configured chance).
        livestock_price_vnd: what one livestock unit sells for this month.
    """
    c = scenario.coping
    # The compiled loop does not check bounds: arrays from outside the state must fit it.
    for name, values in (("income_vnd", income_vnd), ("extra_costs_vnd", extra_costs_vnd)):
        if values.shape != (state.count,):
            raise ValueError(f"{name} has shape {values.shape}, expected ({state.count},)")
    full_school_cost = c.school_cost_vnd_per_child_month
    not_attending = state.lacks[:, state.condition("child_school_attendance")]
    settle_households(
        income_vnd,
        extra_costs_vnd,
        state.size,
        state.n_6_15,
        not_attending,
        state.tuition_exempt_months_left,
        state.formal_rate_per_year,
        state.savings_vnd,
        state.informal_debt_vnd,
        state.formal_debt_vnd,
        state.formal_instalment_vnd_month,
        state.arrears_vnd,
        state.arrears_months,
        state.livestock_units,
        state.usual_income_vnd_month,
        state.short_this_month,
        c.subsistence_vnd_per_person_month,
        c.consumption_share_of_income_above_subsistence,
        full_school_cost,
        full_school_cost - scenario.instruments.tuition_exemption.amount_vnd_per_unit / 12.0,
        c.informal_interest_rate_per_year / 12.0,
        c.informal_repayment_share_per_month,
        c.informal_borrowing_limit_months_of_income,
        livestock_price_vnd,
        float(USUAL_INCOME_MONTHS),
        c.savings_buffer_months_of_income,
    )
    # Households still short take a child out of school if they are this month's candidates.
    withdraw_children(withdrawal_candidates, state.short_this_month, state.n_6_15, not_attending)


def write_off_defaults(state: HouseholdState, after_months: int) -> int:
    """Write off the formal debt of households long in arrears; return how many."""
    return write_off_households(
        state.arrears_months,
        after_months,
        state.formal_debt_vnd,
        state.formal_instalment_vnd_month,
        state.arrears_vnd,
        state.loan_defaulted,
    )
