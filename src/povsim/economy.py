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
    phi = persistent_monthly_autocorrelation(scenario)
    state.income_persistent *= phi
    state.income_persistent += (
        np.sqrt(1.0 - phi**2) * scenario.population.persistent_income_log_sd * normals[0]
    )

    crop_kept = 1.0 - state.crop_loss_share * (state.crop_loss_months_left > 0)
    farm = (
        state.crops_vnd_month * (CROP_SEASON[month - 1] * market.price_factor("crops", scenario)) * crop_kept
    )
    farm += state.tea_vnd_month * (TEA_SEASON[month - 1] * market.price_factor("tea", scenario))
    farm += state.forestry_vnd_month
    farm += state.livestock_units * (
        scenario.livelihoods.livestock_net_return_vnd_per_unit_month
        * market.price_factor("livestock", scenario)
    )
    epidemic = market.epidemic_months_left > 0
    wages = state.wage_workers * state.wage_vnd_per_worker_month
    if epidemic:
        wages *= 1.0 - s.epidemic_wage_loss_share
    noise_sd = e.monthly_income_noise_log_sd
    luck = np.exp(state.income_persistent + noise_sd * normals[1] - 0.5 * noise_sd**2)
    ill = np.where(state.illness_months_left > 0, 1.0 - s.illness_income_loss_share, 1.0)
    trend = trend_factor(scenario, months_elapsed)
    earned = (farm + wages) * luck * ill * trend

    remittances = state.remittance_vnd_month * trend
    remittances += state.abroad * scenario.instruments.labour_export.remittance_vnd_month
    if epidemic:
        remittances *= 1.0 - s.epidemic_remittance_loss_share
    income = earned + remittances + state.transfers_vnd_this_month
    per_person = income / state.size
    state.income_vnd_per_person_month = per_person
    state.income_since_review_vnd += per_person
    return income


def settle_month(
    state: HouseholdState,
    scenario: Scenario,
    income_vnd: np.ndarray,
    extra_costs_vnd: np.ndarray,
    uniforms: np.ndarray,
    livestock_price_vnd: float,
) -> None:
    """Spend, save, service debts and cope with any shortfall, for one month.

    Args:
        state: the households, updated in place.
        scenario: the parameters.
        income_vnd: this month's household income.
        extra_costs_vnd: unplanned spending this month (treatment, repairs).
        uniforms: one row of uniform draws, one column per household.
        livestock_price_vnd: what one livestock unit sells for this month.
    """
    c = scenario.coping
    interest = state.formal_debt_vnd * state.formal_rate_per_year / 12.0
    interest += state.informal_debt_vnd * c.informal_interest_rate_per_year / 12.0
    principal_due = np.minimum(state.formal_instalment_vnd_month, state.formal_debt_vnd)
    # Debt service comes out of income before discretionary spending; subsistence does not.
    floor = c.subsistence_vnd_per_person_month * state.size
    disposable = income_vnd - interest - principal_due
    consumption = floor + c.consumption_share_of_income_above_subsistence * np.maximum(
        disposable - floor, 0.0
    )
    in_school = state.n_6_15 * ~state.lacks[:, state.condition("child_school_attendance")]
    school = in_school * (
        c.school_cost_vnd_per_child_month
        - scenario.instruments.tuition_exemption.amount_vnd_per_unit
        / 12.0
        * (state.tuition_exempt_months_left > 0)
    )

    state.savings_vnd += income_vnd - consumption - school - interest - extra_costs_vnd
    # The formal instalment is paid only out of what is left.
    paid = np.clip(state.savings_vnd, 0.0, principal_due)
    state.savings_vnd -= paid
    repay_loans(state, paid, principal_due - paid)
    repay_informal(state, c.informal_repayment_share_per_month)
    cope_with_shortfall(state, scenario, income_vnd, uniforms, livestock_price_vnd)
    state.usual_income_vnd_month += (income_vnd - state.usual_income_vnd_month) / USUAL_INCOME_MONTHS
    buffer = c.savings_buffer_months_of_income * np.maximum(state.usual_income_vnd_month, 0.0)
    np.minimum(state.savings_vnd, buffer, out=state.savings_vnd)


def repay_loans(state: HouseholdState, paid_vnd: np.ndarray, unpaid_vnd: np.ndarray) -> None:
    """Book formal principal repaid and instalments missed; write off long arrears."""
    state.formal_debt_vnd -= paid_vnd
    behind = unpaid_vnd > 0
    state.arrears_vnd += unpaid_vnd
    state.arrears_months = np.where(behind, state.arrears_months + 1, 0).astype(np.int16)
    cleared = state.formal_debt_vnd <= 1.0
    state.formal_debt_vnd[cleared] = 0.0
    state.formal_instalment_vnd_month[cleared] = 0.0


def write_off_defaults(state: HouseholdState, after_months: int) -> int:
    """Write off the formal debt of households long in arrears; return how many."""
    default = state.arrears_months >= after_months
    state.formal_debt_vnd[default] = 0.0
    state.formal_instalment_vnd_month[default] = 0.0
    state.arrears_vnd[default] = 0.0
    state.arrears_months[default] = 0
    state.loan_defaulted |= default
    return int(default.sum())


def repay_informal(state: HouseholdState, share_per_month: float) -> None:
    """Pay down informal debt from positive savings."""
    repay = np.minimum(np.maximum(state.savings_vnd, 0.0), state.informal_debt_vnd * share_per_month)
    state.savings_vnd -= repay
    state.informal_debt_vnd -= repay


def cope_with_shortfall(
    state: HouseholdState,
    scenario: Scenario,
    income_vnd: np.ndarray,
    uniforms: np.ndarray,
    livestock_price_vnd: float,
) -> None:
    """Cover negative savings by borrowing, then selling livestock, then cutting back."""
    c = scenario.coping
    shortfall = np.maximum(-state.savings_vnd, 0.0)
    state.savings_vnd = np.maximum(state.savings_vnd, 0.0)
    capacity = np.maximum(
        c.informal_borrowing_limit_months_of_income * np.maximum(state.usual_income_vnd_month, 0.0)
        - state.informal_debt_vnd,
        0.0,
    )
    borrowed = np.minimum(shortfall, capacity)
    state.informal_debt_vnd += borrowed
    shortfall -= borrowed
    if livestock_price_vnd > 0:
        sold = np.minimum(state.livestock_units, shortfall / livestock_price_vnd)
        state.livestock_units -= sold
        shortfall -= sold * livestock_price_vnd
    short = shortfall > 1.0
    state.short_this_month = short
    withdraw = short & (state.n_6_15 > 0) & (uniforms < c.child_withdrawal_prob_per_short_month)
    state.lacks[withdraw, state.condition("child_school_attendance")] = True
