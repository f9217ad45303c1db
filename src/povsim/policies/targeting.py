"""Who receives an instrument: eligibility by list and group, officials' errors, take-up, order.

Eligibility uses the official lists of the last review. Commune officials miss some
eligible households (exclusion error) and include some households of average living
standard (inclusion error); both errors shrink as officials' capacity grows. Of those
selected, a share apply (take-up, raised by awareness campaigns). Budget-limited
instruments fund applicants poorest list first, in random order within a list.
"""

from __future__ import annotations

import numpy as np

from povsim.households import NO_YEAR
from povsim.policies.context import PolicyContext
from povsim.sampling import true_rows
from povsim.scenario.instruments import Instrument
from povsim.standards import Status

FIRST_PROGRAM_YEAR = 2022


def in_groups(ctx: PolicyContext, config: Instrument) -> np.ndarray:
    """Households on any of the instrument's lists or in any of its groups."""
    state = ctx.state
    members = {
        "poor": lambda: state.status == Status.POOR,
        "near_poor": lambda: state.status == Status.NEAR_POOR,
        "newly_escaped": lambda: (
            (state.escape_year != NO_YEAR)
            & (state.status != Status.POOR)
            & (ctx.year - state.escape_year <= config.newly_escaped_max_years)
        ),
        "ethnic_minority": lambda: state.ethnic_minority,
        "remote": lambda: state.remote,
        "ethnic_minority_remote": lambda: state.ethnic_minority & state.remote,
        "rural": lambda: ~state.urban,
        "all": lambda: np.ones(state.count, bool),
    }
    eligible = np.zeros(state.count, bool)
    for group in config.eligible_groups:
        eligible |= members[group]()
    return eligible


def is_active(ctx: PolicyContext, config: Instrument) -> bool:
    """Whether the instrument runs this month (enabled, within its dates, its month)."""
    first_of_month = (ctx.year, ctx.month)
    return (
        config.enabled
        and (config.start_date.year, config.start_date.month) <= first_of_month
        and first_of_month <= (config.end_date.year, config.end_date.month)
    )


def applicants(ctx: PolicyContext, instrument: str, config: Instrument, needs: np.ndarray) -> np.ndarray:
    """Indices of households that are selected and apply, in funding order.

    Args:
        ctx: this month's context.
        instrument: the instrument id (selects its random stream).
        config: the instrument's settings.
        needs: households the instrument can serve at all (e.g. a makeshift house).
    """
    state = ctx.state
    t = ctx.scenario.targeting
    rng = ctx.rngs[instrument]
    capacity = (1.0 - t.error_reduction_per_year) ** max(ctx.year - FIRST_PROGRAM_YEAR, 0)
    take_up = config.take_up_share
    if (ctx.year, ctx.month) >= (t.awareness_campaign_start_date.year, t.awareness_campaign_start_date.month):
        take_up = min(take_up * (1.0 + t.awareness_take_up_gain_share), 1.0)
    # Two uniforms per household, drawn whoever is eligible (so the draws do not depend on
    # state). The first decides the officials' error: an eligible household is missed if
    # it falls below the exclusion share, an ineligible one included if it falls above one
    # minus the inclusion share. The second decides take-up, and, among those who apply
    # (uniform on [0, take-up)), the funding order within a list.
    error_draw, apply_draw = rng.random((2, state.count))
    eligible = in_groups(ctx, config) & needs
    selected = eligible & (error_draw >= t.exclusion_error_share * capacity)
    selected |= (
        ~eligible
        & needs
        & (state.status == Status.AVERAGE)
        & (error_draw > 1.0 - t.inclusion_error_share * capacity)
    )
    chosen = true_rows(selected & (apply_draw < take_up))
    # Poorest list first (status codes rise with welfare), random order within a list.
    return chosen[funding_order(state.status[chosen], apply_draw[chosen])]


def funding_order(status: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Positions by status, then by draw: exactly `np.lexsort((draws, status))`, about 3x faster.

    An unstable sort of the draws followed by a stable (radix) sort of the small status
    codes gives lexsort's order whenever no two draws are equal; ties, practically never
    seen among 53-bit uniforms, fall back to lexsort, which orders them by position.
    """
    by_draw = np.argsort(draws)
    sorted_draws = draws[by_draw]
    if np.any(sorted_draws[1:] == sorted_draws[:-1]):
        return np.lexsort((draws, status))
    return by_draw[np.argsort(status[by_draw], kind="stable")]
