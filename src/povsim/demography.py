"""Births, ageing and deaths of household members, once a year.

Earnings are held per household, so a birth shares the same income among more members; a
working-age member who ages out gives up a regular job if the household had no other.
"""

from __future__ import annotations

import numpy as np

from povsim.household_loops import age_households
from povsim.households import HouseholdState
from povsim.sampling import binomial_cdf
from povsim.scenario.schema import Scenario
from povsim.sfc64 import uniforms

# Chance per year of moving to the next age group: one over the group's width in years.
AGE_OUT_PROB_PER_YEAR = {"n_under6": 1 / 6, "n_6_15": 1 / 10, "n_16_59": 1 / 44}


def advance_year(state: HouseholdState, scenario: Scenario, rng: np.random.Generator) -> None:
    """Age members one year, add births and remove deaths; every household keeps a member."""
    d = scenario.demography
    groups = (state.n_under6, state.n_6_15, state.n_16_59, state.n_60plus)
    if min(int(members.min(initial=0)) for members in groups) < 0:
        raise ValueError("member counts must be non-negative")
    # Leavers of each group, and the elderly's deaths, are binomial in the group's members.
    chances = (*AGE_OUT_PROB_PER_YEAR.values(), d.elderly_death_prob_per_year)
    tables = [
        binomial_cdf(int(members.max(initial=0)), chance)
        for members, chance in zip(groups, chances, strict=True)
    ]
    # One uniform per household for each age group's leavers, the elderly's deaths and a birth.
    draws = uniforms(rng, (len(chances) + 1, state.count))
    age_households(*groups, state.jobless, state.wage_workers, draws, *tables, d.birth_prob_per_year)
