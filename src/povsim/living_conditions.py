"""Yearly change in the state behind the indicators: houses, water, latrines, cards, schooling.

Households remedy deprivations more often when their income is well above the line, and
conditions lapse at a small rate (houses decay, insurance cards expire unrenewed). Program
instruments act on the same state.
"""

from __future__ import annotations

import numpy as np

from povsim.household_loops import change_living_conditions
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

    Each lacking condition is remedied with the household's improvement chance, and each
    condition it has lapses with the worsening chance; the house is upgraded with the
    improvement chance (or else decays a grade with the worsening chance), and a cramped
    house is extended by a fifth with the improvement chance. Income is judged on the year's
    mean income per person (the months since the last review).
    """
    c = scenario.living_conditions
    mean_income = state.income_since_review_vnd / months_of_income
    comfortable = mean_income > scenario.standards.average_living_line_multiple * income_line_vnd
    draws = rng.random((state.lacks.shape[1] + 3, state.count))
    change_living_conditions(
        state.lacks,
        state.house_type,
        state.floor_area_m2,
        state.size,
        comfortable,
        draws,
        c.improve_prob_per_year,
        c.improve_prob_per_year * c.low_income_improve_multiplier,
        c.worsen_prob_per_year,
        TOP_HOUSE_TYPE,
        ROOMY_FLOOR_AREA_M2_PER_PERSON,
        np.float32(1.0 + FLOOR_AREA_EXTENSION_SHARE),
    )
