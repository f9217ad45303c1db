"""Yearly change in the state behind the indicators: houses, water, latrines, cards, schooling.

Households remedy deprivations more often when their income is well above the line, and
conditions lapse at a small rate (houses decay, insurance cards expire unrenewed). Program
instruments act on the same state.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from povsim.exponentials import ACCEPT_BELOW, DENSITY_AT_EDGE, WIDTH_PER_UNIT
from povsim.household_loops import COMPILE
from povsim.households import HouseholdState
from povsim.sampling import chance_rows, thinned_chance_rows
from povsim.scenario.schema import Scenario
from povsim.sfc64 import state_words

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
    lacking or on incomes. `rng` must be over numpy's SFC64 (as the model's streams are):
    the draws are made by compiled code on its state (`povsim.sfc64`).
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

    change_conditions(
        state_words(rng),
        state.lacks,
        state.house_type,
        state.floor_area_m2,
        state.size,
        improve,
        bound,
        c.worsen_prob_per_year,
        np.float32(1.0 + FLOOR_AREA_EXTENSION_SHARE),
        ACCEPT_BELOW,
        WIDTH_PER_UNIT,
        DENSITY_AT_EDGE,
    )


@njit(**COMPILE)
def change_conditions(
    stream: np.ndarray,
    lacks: np.ndarray,
    house_type: np.ndarray,
    floor_area_m2: np.ndarray,
    size: np.ndarray,
    improve: np.ndarray,
    bound: float,
    worsen: float,
    extension_factor: np.float32,
    accept_below: np.ndarray,
    width_per_unit: np.ndarray,
    density_at_edge: np.ndarray,
) -> None:
    """Draw and make the year's changes, in one compiled call (`advance_year` says which).

    The draws, from the SFC64 `stream` (`sfc64.state_words`; the exponential ziggurat's
    tables last), in this order: conditions remedied (cells of `lacks`, thinned by each
    household's `improve` chance under `bound`), conditions lapsed (cells, chance
    `worsen`), houses upgraded (thinned), houses decayed, houses extended (thinned). Which
    changes apply is judged on the state before any of them: a remedied cell must have been
    lacking and a lapsed one met, an upgraded house below the top type, a decayed house
    above the lowest and not upgraded, an extended house cramped.
    """
    households, conditions = lacks.shape
    tables = (accept_below, width_per_unit, density_at_edge)
    remedied = thinned_chance_rows(stream, households * conditions, bound, improve, conditions, *tables)
    lapsed = chance_rows(stream, households * conditions, worsen, *tables)
    upgrade = thinned_chance_rows(stream, households, bound, improve, 1, *tables)
    decay = chance_rows(stream, households, worsen, *tables)
    extend = thinned_chance_rows(stream, households, bound, improve, 1, *tables)

    cells = lacks.reshape(-1)
    lapses = 0  # lapsed cells that were met, gathered at the front of `lapsed`
    for k in range(lapsed.size):
        lapsed[lapses] = lapsed[k]
        lapses += not cells[lapsed[k]]
    for cell in remedied:
        cells[cell] = False
    for cell in lapsed[:lapses]:
        cells[cell] = True

    upgraded = np.zeros(households, dtype=np.bool_)
    for row in upgrade:
        upgraded[row] = house_type[row] < TOP_HOUSE_TYPE
    for row in decay:
        if house_type[row] > 0 and not upgraded[row]:
            house_type[row] -= 1
    for row in upgrade:
        house_type[row] += upgraded[row]
    for row in extend:
        if floor_area_m2[row] < ROOMY_FLOOR_AREA_M2_PER_PERSON * size[row]:
            floor_area_m2[row] *= extension_factor
