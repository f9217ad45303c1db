"""Who receives an instrument: eligibility by list and group, officials' errors, take-up, order.

Eligibility uses the official lists of the last review. Commune officials miss some
eligible households (exclusion error) and include some households of average living
standard (inclusion error); both errors shrink as officials' capacity grows. Of those
selected, a share apply (take-up, raised by awareness campaigns). Budget-limited
instruments fund applicants poorest list first, in random order within a list.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from povsim.household_loops import COMPILE
from povsim.households import NO_YEAR
from povsim.policies.context import PolicyContext
from povsim.scenario.instruments import Instrument
from povsim.sfc64 import fill_uniforms, next_word, state_words, unit_uniform
from povsim.standards import Status

FIRST_PROGRAM_YEAR = 2022
# Fewer applicants than this are ordered by one `np.lexsort` call (see `funding_order`).
LEXSORT_BELOW = 1_000
# From `LEXSORT_BELOW` up to this many applicants, `funding_order` sorts by buckets (with
# about `POSITIONS_PER_BUCKET` a bucket); beyond, its scattered writes miss the cache, and
# two numpy sorts are faster (benchmarks/README.md, eighth pass).
BUCKET_SORT_UP_TO = 300_000
POSITIONS_PER_BUCKET = 8
# More positions than this in one bucket of `bucket_order` (equal draws) send the sort to lexsort.
CROWDED_BUCKET = 64
POOR, NEAR_POOR, AVERAGE = int(Status.POOR), int(Status.NEAR_POOR), int(Status.AVERAGE)


# The lists and groups an instrument may be open to, as bits of one flag word.
POOR_LIST, NEAR_POOR_LIST, NEWLY_ESCAPED, MINORITY, REMOTE, MINORITY_REMOTE, RURAL, EVERYONE = (
    1 << bit for bit in range(8)
)
GROUP_BITS = {
    "poor": POOR_LIST,
    "near_poor": NEAR_POOR_LIST,
    "newly_escaped": NEWLY_ESCAPED,
    "ethnic_minority": MINORITY,
    "remote": REMOTE,
    "ethnic_minority_remote": MINORITY_REMOTE,
    "rural": RURAL,
    "all": EVERYONE,
}


def group_flags(config: Instrument) -> int:
    """The instrument's eligible lists and groups as bits of `GROUP_BITS`."""
    return flags_of_groups(config.eligible_groups)


@functools.cache
def flags_of_groups(groups: tuple[str, ...]) -> int:
    """`GROUP_BITS` of the named groups, or-ed (kept: the same few tuples recur every month)."""
    flags = 0
    for group in groups:
        flags |= GROUP_BITS[group]
    return flags


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
    capacity = (1.0 - t.error_reduction_per_year) ** max(ctx.year - FIRST_PROGRAM_YEAR, 0)
    take_up = config.take_up_share
    if (ctx.year, ctx.month) >= (t.awareness_campaign_start_date.year, t.awareness_campaign_start_date.month):
        take_up = min(take_up * (1.0 + t.awareness_take_up_gain_share), 1.0)
    # Two uniforms per household, drawn whoever is eligible (so the draws do not depend on
    # state): a first block of one per household, then a second. The first decides the
    # officials' error: an eligible household is missed if it falls below the exclusion
    # share, an ineligible one included if it falls above one minus the inclusion share. The
    # second decides take-up, and, among those who apply (uniform on [0, take-up)), the
    # funding order within a list.
    chosen, draws = applying_rows(
        group_flags(config),
        ctx.year - config.newly_escaped_max_years,
        state.status,
        state.escape_year,
        state.ethnic_minority,
        state.remote,
        state.urban,
        needs,
        state_words(ctx.rngs[instrument]),
        t.exclusion_error_share * capacity,
        1.0 - t.inclusion_error_share * capacity,
        take_up,
    )
    # Poorest list first (status codes rise with welfare), random order within a list.
    return chosen[funding_order(state.status[chosen], draws)]


@njit(**COMPILE)
def applying_rows(
    groups: int,
    escaped_since_year: int,
    status: np.ndarray,
    escape_year: np.ndarray,
    ethnic_minority: np.ndarray,
    remote: np.ndarray,
    urban: np.ndarray,
    needs: np.ndarray,
    stream: np.ndarray,
    missed_below: float,
    included_above: float,
    take_up: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows the officials select that apply, in row order, and their apply draws.

    The error draws, one uniform a row from the SFC64 `stream` (`sfc64.state_words`) as
    `rng.random(rows)` would give them, then `selected_rows` on them (see there for the
    arguments) and `rows_applying`. One call from Python instead of three: an instrument
    runs a month's few dozen numpy and numba calls, whose fixed cost outweighs a few
    thousand households' work.
    """
    errors = np.empty(status.size)
    fill_uniforms(stream, errors)
    selected = selected_rows(
        groups,
        escaped_since_year,
        status,
        escape_year,
        ethnic_minority,
        remote,
        urban,
        needs,
        errors,
        missed_below,
        included_above,
    )
    return rows_applying(selected, stream, take_up)


@njit(**COMPILE)
def rows_applying(selected: np.ndarray, stream: np.ndarray, take_up: float) -> tuple[np.ndarray, np.ndarray]:
    """Selected rows that apply, in row order, and their apply draws.

    Draws one uniform a row, selected or not, from the SFC64 `stream` (`sfc64.state_words`),
    exactly as `rng.random(rows)` would; a selected row applies if its draw is below
    `take_up`. The draws are used where they are made (a compiled loop on the stream's own
    state, rather than numpy writing them to memory to be read back), and only the
    applicants' are kept, for the funding order.
    """
    chosen = np.empty(selected.size, dtype=np.intp)
    draws = np.empty(selected.size)
    count = 0
    a, b, c, counter = stream[0], stream[1], stream[2], stream[3]
    for row in range(selected.size):
        word, a, b, c, counter = next_word(a, b, c, counter)
        draw = unit_uniform(word)
        chosen[count] = row
        draws[count] = draw
        count += selected[row] & (draw < take_up)
    stream[0], stream[1], stream[2], stream[3] = a, b, c, counter
    return chosen[:count], draws[:count]


@njit(**COMPILE)
def selected_rows(
    groups: int,
    escaped_since_year: int,
    status: np.ndarray,
    escape_year: np.ndarray,
    ethnic_minority: np.ndarray,
    remote: np.ndarray,
    urban: np.ndarray,
    needs: np.ndarray,
    error_draws: np.ndarray,
    missed_below: float,
    included_above: float,
) -> np.ndarray:
    """Whether each row is selected by the officials.

    Eligible rows (in a group of `groups`, and in `needs`) are selected unless their error
    draw falls below `missed_below`; ineligible rows in `needs` of average status are
    included if it falls above `included_above`. Newly escaped are non-poor rows that left
    poverty at a review in `escaped_since_year` or later.

    One compiled pass, because an instrument's selection written as numpy expressions is some
    twenty calls whose fixed cost, not the households, dominates below 100,000 households.
    The draws come in an array rather than from the generator inside the loop: apart from
    the generator's serial chain the loop is compiled to work on several rows at once.
    """
    for_poor, for_near_poor = groups & POOR_LIST != 0, groups & NEAR_POOR_LIST != 0
    for_escaped, for_minority = groups & NEWLY_ESCAPED != 0, groups & MINORITY != 0
    for_remote, for_minority_remote = groups & REMOTE != 0, groups & MINORITY_REMOTE != 0
    for_rural, for_all = groups & RURAL != 0, groups & EVERYONE != 0
    selected = np.empty(status.size, dtype=np.bool_)
    # Bitwise, not short-circuit, logic: branches would follow random draws, and their
    # mispredictions cost more than the work they skip.
    for row in range(status.size):
        code, escaped = status[row], escape_year[row]
        minority, far = ethnic_minority[row], remote[row]
        newly_escaped = (escaped != NO_YEAR) & (code != POOR) & (escaped >= escaped_since_year)
        eligible = (
            (for_poor & (code == POOR))
            | (for_near_poor & (code == NEAR_POOR))
            | (for_escaped & newly_escaped)
            | (for_minority & minority)
            | (for_remote & far)
            | (for_minority_remote & minority & far)
            | (for_rural & (urban[row] == 0))
            | for_all
        )
        error = error_draws[row]
        selected[row] = needs[row] & (
            (eligible & (error >= missed_below))
            | ((eligible ^ True) & (code == AVERAGE) & (error > included_above))
        )
    return selected


def funding_order(status: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Positions by status, then by draw, then by position: exactly `np.lexsort((draws, status))`.

    Below `LEXSORT_BELOW` applicants lexsort's single call costs least. Up to
    `BUCKET_SORT_UP_TO`, a compiled bucket sort (`bucket_order`) takes 0.45-0.8 of the time
    of the sorts below (`benchmarks/bench_kernels.py`); inputs it would sort slowly (many
    equal draws crowding a bucket) go to lexsort. Beyond, `two_sort_order`: an unstable sort
    of the draws followed by a stable (radix) sort of the small status codes (ties,
    practically never seen among 53-bit uniforms, fall back to lexsort). Numba's own sorts
    were measured 2-3x slower than these at a million households.
    """
    if draws.size < LEXSORT_BELOW:
        return np.lexsort((draws, status))
    if draws.size <= BUCKET_SORT_UP_TO:
        order = bucket_order(status, draws, CROWDED_BUCKET)
        return order if order.size == draws.size else np.lexsort((draws, status))
    return two_sort_order(status, draws)


def two_sort_order(status: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """`np.lexsort((draws, status))` by an unstable sort of the draws, then a stable one of the statuses.

    The two give lexsort's order whenever no two draws are equal; ties fall back to lexsort.
    """
    by_draw = draws.argsort()
    sorted_draws = draws[by_draw]
    if (sorted_draws[1:] == sorted_draws[:-1]).any():
        return np.lexsort((draws, status))
    return by_draw[status[by_draw].argsort(kind="stable")]


@njit(**COMPILE)
def bucket_order(status: np.ndarray, draws: np.ndarray, crowded: int) -> np.ndarray:
    """`np.lexsort((draws, status))` for non-negative finite draws, by buckets; empty if crowded.

    Each status code gets a bucket for every `POSITIONS_PER_BUCKET` positions, spread evenly
    over [0, largest draw]; a position goes to its status's bucket of its draw (a
    non-decreasing map, so buckets keep the draws' order), then each bucket is sorted by
    insertion, which keeps equal draws in position order. Uniform draws leave a few
    positions a bucket.
    Returns an empty array if a bucket would hold more than `crowded` positions.
    """
    size = draws.size
    if size == 0:
        return np.empty(0, dtype=np.intp)
    lowest, highest, largest = status[0], status[0], 0.0
    for k in range(size):
        lowest, highest = min(lowest, status[k]), max(highest, status[k])
        largest = max(largest, draws[k])
    per_status = max(size // POSITIONS_PER_BUCKET, 1)
    scale = per_status / largest if largest > 0.0 else 0.0
    bucket = np.empty(size, dtype=np.int64)
    starts = np.zeros((np.int64(highest) - lowest + 1) * per_status + 1, dtype=np.int64)
    for k in range(size):
        b = (np.int64(status[k]) - lowest) * per_status + min(np.int64(draws[k] * scale), per_status - 1)
        bucket[k] = b
        starts[b + 1] += 1
    for b in range(starts.size - 1):
        if starts[b + 1] > crowded:
            return np.empty(0, dtype=np.intp)
        starts[b + 1] += starts[b]
    order = np.empty(size, dtype=np.intp)
    for k in range(size):  # in position order, so each bucket starts in position order
        b = bucket[k]
        order[starts[b]] = k
        starts[b] += 1
    begin = 0
    for b in range(starts.size - 1):
        end = starts[b]  # after the placing pass, each bucket's start is its end
        for k in range(begin + 1, end):
            moving, draw = order[k], draws[order[k]]
            m = k - 1
            while m >= begin and draws[order[m]] > draw:
                order[m + 1] = order[m]
                m -= 1
            order[m + 1] = moving
        begin = end
    return order
