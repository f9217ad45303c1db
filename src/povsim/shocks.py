"""Shocks to households. So far: serious illness of a member, which costs months of work."""

from __future__ import annotations

import numpy as np

from povsim.households import HouseholdState
from povsim.scenario.schema import Scenario


def start_illnesses(state: HouseholdState, scenario: Scenario, uniforms: np.ndarray) -> int:
    """Start new illness episodes among households not already ill; return how many began."""
    s = scenario.shocks
    healthy = state.illness_months_left == 0
    new = healthy & (uniforms < s.illness_prob_per_month)
    state.illness_months_left[new] = s.illness_duration_months
    return int(new.sum())


def illness_income_factor(state: HouseholdState, scenario: Scenario) -> np.ndarray:
    """Share of normal income each household earns this month given its illness episodes."""
    return np.where(state.illness_months_left > 0, 1.0 - scenario.shocks.illness_income_loss_share, 1.0)


def end_month_of_illness(state: HouseholdState) -> None:
    """Count down the ongoing illness episodes by one month."""
    np.subtract(
        state.illness_months_left,
        1,
        out=state.illness_months_left,
        where=state.illness_months_left > 0,
    )
