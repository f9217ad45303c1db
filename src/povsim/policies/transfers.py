"""Cash and in-kind transfers: electricity bill support and rice in the crop gap."""

from __future__ import annotations

import numpy as np

from povsim.policies.context import PolicyContext
from povsim.policies.targeting import applicants


def electricity_support(ctx: PolicyContext) -> None:
    """The year's electricity support, paid to households on the list."""
    config = ctx.scenario.instruments.electricity_support
    state = ctx.state
    candidates = applicants(ctx, "electricity_support", config, np.ones(state.count, bool))
    funded = ctx.ledger.pay("electricity_support", ctx.year, candidates, config.amount_vnd_per_unit, 1)
    state.transfers_vnd_this_month[funded] += config.amount_vnd_per_unit


def food_aid(ctx: PolicyContext) -> None:
    """Rice for listed households with no savings left in a crop-gap month."""
    config = ctx.scenario.instruments.food_aid
    state = ctx.state
    food_insecure = state.savings_vnd < ctx.scenario.coping.subsistence_vnd_per_person_month * state.size
    candidates = applicants(ctx, "food_aid", config, food_insecure)
    value = state.size[candidates] * config.amount_vnd_per_unit
    funded = ctx.ledger.pay("food_aid", ctx.year, candidates, value, 1)
    state.transfers_vnd_this_month[funded] += value[: funded.size]
