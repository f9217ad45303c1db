"""Livelihood instruments: breeding livestock, and tea value-chain linkage."""

from __future__ import annotations

import numpy as np

from povsim.policies.context import PolicyContext
from povsim.policies.targeting import applicants


def livestock_support(ctx: PolicyContext) -> None:
    """Give breeding cattle: the herd, and its income, grow by the value given."""
    config = ctx.scenario.instruments.livestock_support
    state = ctx.state
    candidates = applicants(ctx, "livestock_support", config, np.ones(state.count, bool))
    funded = ctx.ledger.pay("livestock_support", ctx.year, candidates, config.amount_vnd_per_unit, 1)
    state.livestock_units[funded] += config.amount_vnd_per_unit / ctx.livestock_unit_price_vnd


def value_chain_support(ctx: PolicyContext) -> None:
    """Link tea growers to a buyer: a lasting rise in tea income."""
    config = ctx.scenario.instruments.value_chain_support
    state = ctx.state
    growers = (state.tea_vnd_month > 0) & ~state.value_chain_member
    candidates = applicants(ctx, "value_chain_support", config, growers)
    funded = ctx.ledger.pay("value_chain_support", ctx.year, candidates, config.amount_vnd_per_unit, 1)
    state.tea_vnd_month[funded] *= 1.0 + config.tea_income_gain_share
    state.value_chain_member[funded] = True
