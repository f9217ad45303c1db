"""Household income: a permanent level, a persistent AR(1) component, trend growth and noise.

Income is per person per month in nominal VND. The trend is common to all households;
the persistent component moves households across the line over several years (transient
poverty); the monthly noise averages out over the review's twelve-month window.
"""

from __future__ import annotations

import numpy as np

from povsim.households import HouseholdState
from povsim.scenario.schema import Scenario
from povsim.shocks import illness_income_factor


def persistent_monthly_autocorrelation(scenario: Scenario) -> float:
    """The month-to-month autocorrelation implied by the configured year-on-year one."""
    return scenario.economy.persistent_income_autocorrelation_per_year ** (1.0 / 12.0)


def update_income(
    state: HouseholdState, scenario: Scenario, months_elapsed: int, normals: np.ndarray
) -> None:
    """Advance incomes by one month and add this month's income to the review window.

    Args:
        state: the households, updated in place.
        scenario: the parameters.
        months_elapsed: months since December 2021 (1 for January 2022).
        normals: two rows of standard normal draws, one column per household.
    """
    e = scenario.economy
    phi = persistent_monthly_autocorrelation(scenario)
    innovation_sd = np.sqrt(1.0 - phi**2) * scenario.population.persistent_income_log_sd
    state.income_persistent *= phi
    state.income_persistent += innovation_sd * normals[0]

    noise_sd = e.monthly_income_noise_log_sd
    trend = months_elapsed / 12.0 * np.log1p(e.nominal_income_growth_per_year)
    log_income = state.log_income_permanent + state.income_persistent
    log_income += trend - 0.5 * noise_sd**2
    log_income += noise_sd * normals[1]
    income = np.exp(log_income, out=log_income)
    income *= illness_income_factor(state, scenario)
    state.income_vnd_per_person_month = income
    state.income_since_review_vnd += income
