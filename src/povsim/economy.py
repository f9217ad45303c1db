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
from povsim.sampling import true_rows
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


def nonzero_rows(counts: np.ndarray) -> np.ndarray:
    """Indices of the nonzero entries of an integer array, as `np.flatnonzero` gives them.

    Comparing first and taking the nonzero entries of the boolean result is several times
    faster than `np.flatnonzero` on an int16 array.
    """
    return true_rows(counts != 0)


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
    persistent = state.income_persistent
    persistent *= phi
    persistent += (np.sqrt(1.0 - phi**2) * scenario.population.persistent_income_log_sd) * normals[0]

    crop_rate = CROP_SEASON[month - 1] * market.price_factor("crops", scenario)
    farm = state.crops_vnd_month * crop_rate
    farm += state.tea_vnd_month * (TEA_SEASON[month - 1] * market.price_factor("tea", scenario))
    farm += state.forestry_vnd_month
    farm += state.livestock_units * (
        scenario.livelihoods.livestock_net_return_vnd_per_unit_month
        * market.price_factor("livestock", scenario)
    )
    damaged = nonzero_rows(state.crop_loss_months_left)
    farm[damaged] -= state.crops_vnd_month[damaged] * crop_rate * state.crop_loss_share[damaged]
    epidemic = market.epidemic_months_left > 0
    wage_kept = 1.0 - s.epidemic_wage_loss_share if epidemic else 1.0
    earned = state.wage_vnd_per_worker_month * state.wage_workers
    earned *= wage_kept
    earned += farm
    noise_sd = e.monthly_income_noise_log_sd
    luck = noise_sd * normals[1]
    luck += persistent
    luck -= 0.5 * noise_sd**2
    np.exp(luck, out=luck)
    earned *= luck
    trend = trend_factor(scenario, months_elapsed)
    earned *= trend
    ill = nonzero_rows(state.illness_months_left)
    earned[ill] *= 1.0 - s.illness_income_loss_share

    remittances = state.remittance_vnd_month * trend
    abroad = nonzero_rows(state.abroad_months_left)
    remittances[abroad] += scenario.instruments.labour_export.remittance_vnd_month
    if epidemic:
        remittances *= 1.0 - s.epidemic_remittance_loss_share
    income = earned
    income += remittances
    income += state.transfers_vnd_this_month
    per_person = income / state.size
    state.income_vnd_per_person_month = per_person
    state.income_since_review_vnd += per_person
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
    debtors = true_rows(state.formal_debt_vnd > 0.0)
    borrowers = true_rows(state.informal_debt_vnd > 0.0)
    debt = state.formal_debt_vnd[debtors]
    formal_interest = debt * state.formal_rate_per_year[debtors] / 12.0
    informal_interest = state.informal_debt_vnd[borrowers] * (c.informal_interest_rate_per_year / 12.0)
    principal_due = np.minimum(state.formal_instalment_vnd_month[debtors], debt)

    # Debt service comes out of income before discretionary spending; subsistence does not.
    floor = c.subsistence_vnd_per_person_month * state.size
    disposable = income_vnd.copy()
    disposable[debtors] -= formal_interest + principal_due
    disposable[borrowers] -= informal_interest
    disposable -= floor
    np.maximum(disposable, 0.0, out=disposable)
    consumption = floor
    consumption += c.consumption_share_of_income_above_subsistence * disposable
    school = np.where(
        state.tuition_exempt_months_left > 0,
        c.school_cost_vnd_per_child_month - scenario.instruments.tuition_exemption.amount_vnd_per_unit / 12.0,
        c.school_cost_vnd_per_child_month,
    )
    school *= state.n_6_15
    school *= ~state.lacks[:, state.condition("child_school_attendance")]

    savings = state.savings_vnd
    savings += income_vnd
    savings -= consumption
    savings -= extra_costs_vnd
    savings -= school
    savings[debtors] -= formal_interest
    savings[borrowers] -= informal_interest
    # The formal instalment is paid only out of what is left.
    left = savings[debtors]
    paid = np.clip(left, 0.0, principal_due)
    savings[debtors] = left - paid
    repay_loans(state, debtors, paid, principal_due - paid)
    repay_informal(state, borrowers, c.informal_repayment_share_per_month)
    cope_with_shortfall(state, scenario, withdrawal_candidates, livestock_price_vnd)
    usual = state.usual_income_vnd_month
    usual += (income_vnd - usual) / USUAL_INCOME_MONTHS
    np.minimum(savings, c.savings_buffer_months_of_income * np.maximum(usual, 0.0), out=savings)


def repay_loans(
    state: HouseholdState, debtors: np.ndarray, paid_vnd: np.ndarray, unpaid_vnd: np.ndarray
) -> None:
    """Book the debtors' formal principal repaid and instalments missed.

    Only a few hundred of the debtors miss an instalment in a month, so the arrears of those
    behind are updated by index (the others' months in arrears are reset to zero) rather
    than over every debtor: the same values, without gathering and rewriting the rest.
    """
    remaining = state.formal_debt_vnd[debtors] - paid_vnd
    state.formal_debt_vnd[debtors] = remaining
    late = true_rows(unpaid_vnd > 0)
    behind = debtors[late]
    state.arrears_vnd[behind] += unpaid_vnd[late]
    months_behind = state.arrears_months[behind] + 1
    state.arrears_months[debtors] = 0
    state.arrears_months[behind] = months_behind
    cleared = debtors[remaining <= 1.0]
    state.formal_debt_vnd[cleared] = 0.0
    state.formal_instalment_vnd_month[cleared] = 0.0


def write_off_defaults(state: HouseholdState, after_months: int) -> int:
    """Write off the formal debt of households long in arrears; return how many."""
    default = true_rows(state.arrears_months >= after_months)
    state.formal_debt_vnd[default] = 0.0
    state.formal_instalment_vnd_month[default] = 0.0
    state.arrears_vnd[default] = 0.0
    state.arrears_months[default] = 0
    state.loan_defaulted[default] = True
    return default.size


def repay_informal(state: HouseholdState, borrowers: np.ndarray, share_per_month: float) -> None:
    """Pay down the borrowers' informal debt from positive savings."""
    repay = np.minimum(
        np.maximum(state.savings_vnd[borrowers], 0.0), state.informal_debt_vnd[borrowers] * share_per_month
    )
    state.savings_vnd[borrowers] -= repay
    state.informal_debt_vnd[borrowers] -= repay


def cope_with_shortfall(
    state: HouseholdState,
    scenario: Scenario,
    withdrawal_candidates: np.ndarray,
    livestock_price_vnd: float,
) -> None:
    """Cover negative savings by borrowing, then selling livestock, then cutting back.

    A household still short takes a child out of school if it is among this month's
    withdrawal candidates and has a child aged 6-15.
    """
    c = scenario.coping
    short_of = true_rows(state.savings_vnd < 0.0)
    shortfall = -state.savings_vnd[short_of]
    state.savings_vnd[short_of] = 0.0
    capacity = np.maximum(
        c.informal_borrowing_limit_months_of_income * np.maximum(state.usual_income_vnd_month[short_of], 0.0)
        - state.informal_debt_vnd[short_of],
        0.0,
    )
    borrowed = np.minimum(shortfall, capacity)
    state.informal_debt_vnd[short_of] += borrowed
    shortfall -= borrowed
    if livestock_price_vnd > 0:
        sold = np.minimum(state.livestock_units[short_of], shortfall / livestock_price_vnd)
        state.livestock_units[short_of] -= sold
        shortfall -= sold * livestock_price_vnd
    state.short_this_month[:] = False
    still_short = short_of[shortfall > 1.0]
    state.short_this_month[still_short] = True
    candidates = withdrawal_candidates[state.short_this_month[withdrawal_candidates]]
    withdraw = candidates[state.n_6_15[candidates] > 0]
    state.lacks[withdraw, state.condition("child_school_attendance")] = True
