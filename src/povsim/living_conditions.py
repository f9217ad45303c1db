"""Yearly change in the state behind the indicators: houses, water, latrines, cards, schooling.

Households remedy deprivations more often when their income is well above the line, and
conditions lapse at a small rate (houses decay, insurance cards expire unrenewed). Program
instruments act on the same state.
"""

from __future__ import annotations

import numpy as np

from povsim.households import HouseholdState
from povsim.sampling import chance_indices, thinned_indices, thinned_rows
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

    Each lacking condition is remedied with the household's improvement chance, each met
    one lapses with the worsening chance; houses are upgraded, decay or are extended the
    same way. Income is judged on the year's mean income per person (the months since the
    last review). Only the cells hit are drawn (`povsim.sampling`), in a number that depends
    on the configured chances and the household count, never on which conditions are
    lacking or on incomes.
    """
    c = scenario.living_conditions
    mean_income = state.income_since_review_vnd / months_of_income
    comfortable = mean_income > scenario.standards.average_living_line_multiple * income_line_vnd
    improve = np.where(
        comfortable,
        c.improve_prob_per_year,
        c.improve_prob_per_year * c.low_income_improve_multiplier,
    )
    # The multiplier is at most 1, so comfortable households have the highest chance.
    bound = c.improve_prob_per_year

    conditions = state.lacks.shape[1]
    lacking = state.lacks.reshape(-1)  # cell h * conditions + k is household h's condition k
    remedied = thinned_rows(rng, lacking.size, bound, lambda hit: improve[hit // conditions])
    lapsed = chance_indices(rng, lacking.size, c.worsen_prob_per_year)
    changed = np.concatenate([remedied[lacking[remedied]], lapsed[~lacking[lapsed]]])
    households, condition = np.divmod(changed, conditions)
    state.lacks[households, condition] = ~state.lacks[households, condition]

    upgrade = thinned_indices(rng, improve, bound)
    upgrade = upgrade[state.house_type[upgrade] < TOP_HOUSE_TYPE]
    decay = chance_indices(rng, state.count, c.worsen_prob_per_year)
    upgraded = np.zeros(state.count, bool)
    upgraded[upgrade] = True
    decay = decay[(state.house_type[decay] > 0) & ~upgraded[decay]]
    state.house_type[upgrade] += 1
    state.house_type[decay] -= 1
    extend = thinned_indices(rng, improve, bound)
    extend = extend[state.floor_area_m2[extend] < ROOMY_FLOOR_AREA_M2_PER_PERSON * state.size[extend]]
    state.floor_area_m2[extend] *= 1.0 + FLOOR_AREA_EXTENSION_SHARE
