"""Education support: tuition exemption and study-cost cash for school-age children (6-15)."""

from __future__ import annotations

import numpy as np

from povsim.policies.context import PolicyContext
from povsim.policies.targeting import applicants

SCHOOL_YEAR_MONTHS = 12


def school_children(ctx: PolicyContext) -> np.ndarray:
    """Children aged 6-15 attending school in each household."""
    state = ctx.state
    return state.n_6_15 * ~state.lacks[:, state.condition("child_school_attendance")]


def tuition_exemption(ctx: PolicyContext) -> None:
    """Waive tuition for the school year: lowers the household's school costs."""
    config = ctx.scenario.instruments.tuition_exemption
    children = school_children(ctx)
    candidates = applicants(ctx, "tuition_exemption", config, children > 0)
    funded = ctx.ledger.pay(
        "tuition_exemption",
        ctx.year,
        candidates,
        children[candidates] * config.amount_vnd_per_unit,
        children[candidates],
    )
    ctx.state.tuition_exempt_months_left[funded] = SCHOOL_YEAR_MONTHS


def study_cost_support(ctx: PolicyContext) -> None:
    """Pay study-cost support for the school year as cash this month."""
    config = ctx.scenario.instruments.study_cost_support
    children = school_children(ctx)
    candidates = applicants(ctx, "study_cost_support", config, children > 0)
    cash = children[candidates] * config.amount_vnd_per_unit
    funded = ctx.ledger.pay("study_cost_support", ctx.year, candidates, cash, children[candidates])
    ctx.state.transfers_vnd_this_month[funded] += cash[: funded.size]
