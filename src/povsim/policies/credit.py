"""Preferential credit: production loans, student loans, and water and sanitation loans.

A loan creates a debt (principal, rate, equal monthly principal instalments over its term)
and buys something: livestock and farm capital, a student's schooling, or water and
latrine works. Households whose earlier loan was written off, or who still owe most of a
production loan, are not lent to again.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from povsim.policies.context import PolicyContext
from povsim.policies.ledger import INSTRUMENT_IDS
from povsim.policies.targeting import applicants
from povsim.standards import Status


def lend(
    ctx: PolicyContext,
    households: np.ndarray,
    amount_vnd: np.ndarray,
    rate_per_year: np.ndarray,
    term_months: int,
) -> None:
    """Add loans to the households' formal debt: principal-weighted rate, monthly instalments."""
    state = ctx.state
    add_loans(
        households,
        amount_vnd,
        rate_per_year,
        term_months,
        state.formal_debt_vnd,
        state.formal_rate_per_year,
        state.formal_instalment_vnd_month,
    )


@njit(cache=True, error_model="numpy")
def add_loans(
    households: np.ndarray,
    amount_vnd: np.ndarray,
    rate_per_year: np.ndarray,
    term_months: int,
    debt_vnd: np.ndarray,
    debt_rate_per_year: np.ndarray,
    instalment_vnd_month: np.ndarray,
) -> None:
    """`lend` over the listed (distinct) households, as numpy computed it: a rate of 0 with no debt."""
    for k in range(households.size):
        i = households[k]
        old, amount = debt_vnd[i], amount_vnd[k]
        total = old + amount
        if total > 0:
            debt_rate_per_year[i] = (old * debt_rate_per_year[i] + amount * rate_per_year[k]) / max(
                total, 1.0
            )
        else:
            debt_rate_per_year[i] = 0.0
        debt_vnd[i] = total
        instalment_vnd_month[i] += amount / term_months


def preferential_loans(ctx: PolicyContext) -> None:
    """Production loans; part buys livestock, the rest expands crops and tea."""
    config = ctx.scenario.instruments.preferential_loans
    state = ctx.state
    needs = ~state.loan_defaulted & (state.formal_debt_vnd < 0.5 * config.amount_vnd_per_unit)
    candidates = applicants(ctx, "preferential_loans", config, needs)
    loan = config.amount_vnd_per_unit
    funded = ctx.ledger.pay("preferential_loans", ctx.year, candidates, loan, 1)
    # Rates by status code: poor, near-poor, and newly escaped for the rest.
    rate_by_status = np.array(
        [config.poor_rate_per_year, config.near_poor_rate_per_year]
        + [config.newly_escaped_rate_per_year] * (len(Status) - 2)
    )
    lend(ctx, funded, np.full(funded.size, loan), rate_by_status[state.status[funded]], config.term_months)
    on_livestock = config.livestock_use_share * loan
    state.livestock_units[funded] += on_livestock / ctx.livestock_unit_price_vnd
    on_farm = loan - on_livestock
    state.crops_vnd_month[funded] += on_farm * config.farm_investment_return_per_year / 12.0 / ctx.trend


def student_loans(ctx: PolicyContext) -> None:
    """Loans that put a young member lacking schooling through school (repayment starts at once)."""
    config = ctx.scenario.instruments.student_loans
    state = ctx.state
    needs = ~state.loan_defaulted & (state.n_16_59 > 0) & state.lacks[:, state.condition("adult_education")]
    candidates = applicants(ctx, "student_loans", config, needs)
    funded = ctx.ledger.pay("student_loans", ctx.year, candidates, config.amount_vnd_per_unit, 1)
    lend(
        ctx,
        funded,
        np.full(funded.size, config.amount_vnd_per_unit),
        np.full(funded.size, config.rate_per_year),
        config.term_months,
    )
    state.lacks[funded, state.condition("adult_education")] = False


def water_sanitation_loans(ctx: PolicyContext) -> None:
    """Loans for water and latrine works; households lacking either are served first.

    A household that lacks neither borrows once (to upgrade works the indicators do not
    see); one that still lacks water or a latrine may borrow again.
    """
    config = ctx.scenario.instruments.water_sanitation_loans
    state = ctx.state
    lacking = (
        state.lacks[:, state.condition("domestic_water")]
        | state.lacks[:, state.condition("hygienic_latrine")]
    )
    first_loan = ctx.ledger.household_vnd[:, INSTRUMENT_IDS.index("water_sanitation_loans")] == 0
    needs = ~state.loan_defaulted & (lacking | first_loan)
    candidates = applicants(ctx, "water_sanitation_loans", config, needs)
    candidates = candidates[np.argsort(~lacking[candidates], kind="stable")]
    amount = config.amount_vnd_per_unit
    funded = ctx.ledger.pay("water_sanitation_loans", ctx.year, candidates, amount, 1)
    lend(
        ctx,
        funded,
        np.full(funded.size, amount),
        np.full(funded.size, config.rate_per_year),
        config.term_months,
    )
    state.lacks[funded, state.condition("domestic_water")] = False
    state.lacks[funded, state.condition("hygienic_latrine")] = False
