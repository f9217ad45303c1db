"""State-paid health insurance cards for the calendar year.

Cards remove the insurance deprivation and make insurance pay most of a treatment's cost.
A household that leaves the eligible lists keeps a card only if it buys one itself, year
by year.
"""

from __future__ import annotations

import numpy as np

from povsim.policies.context import PolicyContext
from povsim.policies.targeting import applicants, is_active
from povsim.sfc64 import uniforms


def health_insurance(ctx: PolicyContext) -> None:
    """Issue this year's state-paid cards (while the instrument runs) and settle last year's.

    Runs every year in the disbursement month, also after the instrument ends, so that
    cards expire. A household whose state or self-bought card is not renewed by the state
    buys one itself with the configured chance, and is uninsured otherwise.
    """
    config = ctx.scenario.instruments.health_insurance
    state = ctx.state
    draws = uniforms(ctx.rngs["health_insurance"], state.count)
    funded = np.empty(0, dtype=np.intp)
    if is_active(ctx, config):
        candidates = applicants(ctx, "health_insurance", config, np.ones(state.count, bool))
        people = state.size[candidates]
        funded = ctx.ledger.pay(
            "health_insurance", ctx.year, candidates, people * config.amount_vnd_per_unit, people
        )
    held = state.state_insurance_card | state.voluntary_insurance_card
    state.state_insurance_card[:] = False
    state.state_insurance_card[funded] = True
    unrenewed = held & ~state.state_insurance_card
    buys = unrenewed & (draws < config.voluntary_purchase_prob_per_year)
    state.voluntary_insurance_card[:] = buys
    column = state.condition("health_insurance")
    state.lacks[funded, column] = False
    state.lacks[unrenewed & ~buys, column] = True
