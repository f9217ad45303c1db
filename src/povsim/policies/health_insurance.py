"""State-paid health insurance cards for the calendar year.

Cards remove the insurance deprivation and make insurance pay most of a treatment's cost.
A household that leaves the eligible lists keeps its card only if it buys one itself.
"""

from __future__ import annotations

import numpy as np

from povsim.policies.context import PolicyContext
from povsim.policies.targeting import applicants


def health_insurance(ctx: PolicyContext) -> None:
    """Issue this year's state-paid cards; lapse last year's cards not renewed or bought."""
    config = ctx.scenario.instruments.health_insurance
    state = ctx.state
    candidates = applicants(ctx, "health_insurance", config, np.ones(state.count, bool))
    people = state.size[candidates]
    funded = ctx.ledger.pay(
        "health_insurance", ctx.year, candidates, people * config.amount_vnd_per_unit, people
    )
    had_card = state.state_insurance_card.copy()
    state.state_insurance_card[:] = False
    state.state_insurance_card[funded] = True
    lapse = had_card & ~state.state_insurance_card
    lapse &= ctx.rngs["health_insurance"].random(state.count) >= config.voluntary_purchase_prob_per_year
    column = state.condition("health_insurance")
    state.lacks[funded, column] = False
    state.lacks[lapse, column] = True
