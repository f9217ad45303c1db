"""Housing support: a new house for a makeshift one, a repair for a non-durable one.

A supported house becomes durable (new) or semi-durable (repaired), which removes the
housing-quality deprivation and lowers the chance that a disaster damages it; a new house
also has at least the program's minimum floor area.
"""

from __future__ import annotations

import numpy as np

from povsim.policies.context import PolicyContext
from povsim.policies.targeting import applicants

MAKESHIFT, NON_DURABLE, SEMI_DURABLE, DURABLE = 0, 1, 2, 3
NEW_HOUSE_FLOOR_AREA_M2 = 30.0  # assumption: a small durable house of the program


def housing_support(ctx: PolicyContext) -> None:
    """Fund new houses and repairs, makeshift houses first, within the year's budget."""
    config = ctx.scenario.instruments.housing_support
    state = ctx.state
    candidates = applicants(ctx, "housing_support", config, state.house_type < SEMI_DURABLE)
    candidates = candidates[np.argsort(state.house_type[candidates], kind="stable")]
    new = state.house_type[candidates] == MAKESHIFT
    cost = np.where(new, config.amount_vnd_per_unit, config.repair_amount_vnd)
    funded = ctx.ledger.pay("housing_support", ctx.year, candidates, cost, np.ones(candidates.size))
    rebuilt = funded[new[: funded.size]]
    repaired = funded[~new[: funded.size]]
    state.house_type[rebuilt] = DURABLE
    state.floor_area_m2[rebuilt] = np.maximum(state.floor_area_m2[rebuilt], NEW_HOUSE_FLOOR_AREA_M2)
    state.house_type[repaired] = SEMI_DURABLE
