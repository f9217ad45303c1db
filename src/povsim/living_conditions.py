"""Yearly change in the state behind the indicators: houses, water, latrines, cards, schooling.

Households remedy deprivations more often when their income is well above the line, and
conditions lapse at a small rate (houses decay, insurance cards expire unrenewed). Program
instruments act on the same state.
"""

from __future__ import annotations

import numpy as np

from povsim.households import HouseholdState
from povsim.scenario.schema import Scenario

TOP_HOUSE_TYPE = 3
FLOOR_AREA_EXTENSION_SHARE = 0.2
# Households with this much floor area per person do not extend their house (assumption).
ROOMY_FLOOR_AREA_M2_PER_PERSON = 20.0


def advance_year(
    state: HouseholdState,
    scenario: Scenario,
    income_line_vnd: np.ndarray,
    months_of_income: int,
    rng: np.random.Generator,
) -> None:
    """One year of improvement and decay of every household's living conditions.

    Each lacking condition is remedied with the household's improvement chance; income is
    judged on the year's mean income per person (the months since the last review).
    """
    c = scenario.living_conditions
    mean_income = state.income_since_review_vnd / months_of_income
    comfortable = mean_income > scenario.standards.average_living_line_multiple * income_line_vnd
    improve = np.where(
        comfortable,
        c.improve_prob_per_year,
        c.improve_prob_per_year * c.low_income_improve_multiplier,
    )

    draws = rng.random((state.lacks.shape[1] + 3, state.count))
    # Conditions x households, the layout of the draws: about 3x faster than comparing
    # against the transposed draws.
    lacking = np.ascontiguousarray(state.lacks.T)
    condition_draws = draws[:-3]
    changed = lacking & (improve > condition_draws)  # remedied
    changed |= ~lacking & (c.worsen_prob_per_year > condition_draws)  # or lapsed
    state.lacks ^= changed.T

    upgrade = (state.house_type < TOP_HOUSE_TYPE) & (draws[-3] < improve)
    decay = ~upgrade & (state.house_type > 0) & (draws[-2] < c.worsen_prob_per_year)
    state.house_type += upgrade.astype(np.int8) - decay.astype(np.int8)
    cramped = state.floor_area_m2 < ROOMY_FLOOR_AREA_M2_PER_PERSON * state.size
    extend = cramped & (draws[-1] < improve)
    state.floor_area_m2[extend] *= 1.0 + FLOOR_AREA_EXTENSION_SHARE
