"""Births, ageing and deaths of household members, once a year.

Earnings are held per household, so a birth shares the same income among more members; a
working-age member who ages out gives up a regular job if the household had no other.
"""

from __future__ import annotations

import numpy as np

from povsim.households import HouseholdState
from povsim.sampling import binomial_counts
from povsim.scenario.schema import Scenario

# Chance per year of moving to the next age group: one over the group's width in years.
AGE_OUT_PROB_PER_YEAR = {"n_under6": 1 / 6, "n_6_15": 1 / 10, "n_16_59": 1 / 44}


def advance_year(state: HouseholdState, scenario: Scenario, rng: np.random.Generator) -> None:
    """Age members one year, add births and remove deaths; every household keeps a member."""
    d = scenario.demography
    # One uniform per household for each age group's leavers, the elderly's deaths and a birth.
    draws = rng.random((len(AGE_OUT_PROB_PER_YEAR) + 2, state.count))
    leaving = {
        group: binomial_counts(getattr(state, group), prob, draws[row])
        for row, (group, prob) in enumerate(AGE_OUT_PROB_PER_YEAR.items())
    }
    deaths = binomial_counts(state.n_60plus, d.elderly_death_prob_per_year, draws[-2])
    births = (state.n_16_59 > 0) & (draws[-1] < d.birth_prob_per_year)

    state.n_under6 += births - leaving["n_under6"]
    state.n_6_15 += leaving["n_under6"] - leaving["n_6_15"]
    state.n_16_59 += leaving["n_6_15"] - leaving["n_16_59"]
    state.n_60plus += leaving["n_16_59"] - deaths
    # A household whose last member would die keeps that member (households are conserved).
    emptied = state.size == 0
    state.n_60plus[emptied] = 1

    state.jobless = np.minimum(state.jobless, state.n_16_59).astype(np.int16)
    state.wage_workers = np.minimum(state.wage_workers, state.n_16_59 - state.jobless).astype(np.int16)
