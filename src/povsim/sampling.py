"""Drawing rare events in time proportional to the number of events, not of households.

Each household is hit independently with its own chance, exactly as with one uniform draw
per household, but the draws depend only on the household count and the chances' upper
bound, never on other state. Switching a policy on or off therefore leaves every later
draw of the stream unchanged (common random numbers), and a month costs O(events).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit
from scipy.special import bdtr

from povsim.exponentials import fill_exponentials
from povsim.household_loops import COMPILE, invert_binomials
from povsim.sfc64 import fill_uniforms, next_word, uniforms, unit_uniform

NO_ONE = np.empty(0, dtype=np.intp)
# Above this chance, one uniform per unit is drawn rather than the gaps between hits. Since
# the gaps are placed by a compiled loop they cost 0.1-0.2x a uniform per unit at 5 %,
# 0.44-0.56x at 20 % and 1.1-1.2x at 50 % (benchmarks/bench_sampling.py, 10,000 to a million
# units); a higher threshold would change the draws of chances in between, so it waits for
# a recalibration.
DENSE_ABOVE = 0.2
# Gaps drawn at once beyond the expected number of hits, in standard deviations: a second
# block is then needed about once in a billion calls.
GAP_BLOCK_SDS = 6.0


def true_rows(mask: np.ndarray) -> np.ndarray:
    """Indices of the True entries of a 1-D array, exactly as `np.flatnonzero(mask)` gives them.

    `np.flatnonzero` goes through `np.ravel` and `np.nonzero`'s Python dispatch, which on the
    monthly path (a dozen calls a month) costs more than the search itself at 10,000
    households; the array's own method skips them.
    """
    return mask.nonzero()[0]


def chance_indices(rng: np.random.Generator, count: int, prob: float) -> np.ndarray:
    """Sorted indices of the `count` units hit, each independently with chance `prob`."""
    if prob <= 0.0 or count == 0:
        return NO_ONE
    if prob >= 1.0:
        return np.arange(count)
    if prob > DENSE_ABOVE:
        return true_rows(uniforms(rng, count) < prob)
    return gap_positions(rng, count, prob)


def gap_positions(rng: np.random.Generator, count: int, prob: float, block: int | None = None) -> np.ndarray:
    """Positions of the successes among `count` independent trials of chance 0 < `prob` < 1.

    Draws the gaps between successes, geometric on 1, 2, ... (floor(E / -log(1 - prob)) + 1
    for a standard exponential E), so the cost follows the number of hits, not of trials.
    Gaps are drawn in blocks of `block` (by default enough to pass `count` almost always);
    how many are drawn depends only on the stream, `count` and `prob`.
    """
    if not 0.0 < prob < 1.0:  # also refuses NaN, which would never pass `count`
        raise ValueError(f"gap_positions needs a chance strictly between 0 and 1, not {prob}")
    rate = -math.log1p(-prob)
    if block is None:
        expected = count * prob
        block = int(expected + GAP_BLOCK_SDS * math.sqrt(expected) + 8)
    found = []
    last = -1.0
    while True:
        positions = np.empty(block, dtype=np.intp)
        kept, last = place_gaps(rng.standard_exponential(block), rate, last, count, positions)
        found.append(positions[:kept])
        if kept < block:
            break
    return found[0] if len(found) == 1 else np.concatenate(found)


@njit(cache=True, error_model="numpy")
def place_gaps(
    exponentials: np.ndarray, rate: float, last: float, count: int, positions: np.ndarray
) -> tuple[int, float]:
    """Write the positions below `count` that the gaps reach from `last`; return how many and the last.

    A gap is floor(E / rate) + 1 and the positions are `last` plus the running sum of the
    gaps, in float64 as numpy's cumulative sum forms them (whole numbers, exact below
    2**53). A vanishing chance makes a gap overflow to infinity: correctly, no further hit.
    Fewer positions than exponentials means `count` was passed.
    """
    total, position = 0.0, last
    for i in range(exponentials.size):
        total += math.floor(exponentials[i] / rate) + 1.0
        position = total + last
        if position >= count:
            return i, position
        positions[i] = np.intp(position)
    return exponentials.size, position


@njit(**COMPILE)
def chance_rows(
    stream: np.ndarray,
    count: int,
    prob: float,
    accept_below: np.ndarray,
    width_per_unit: np.ndarray,
    density_at_edge: np.ndarray,
) -> np.ndarray:
    """`chance_indices` for an SFC64 stream (`sfc64.state_words`), drawn by compiled code.

    The same draws and rows as `chance_indices`, the exponentials made as numpy makes them
    (`povsim.exponentials`, whose tables are the last three arguments), so that a compiled
    call can draw several events' rows at once. A NaN chance raises ValueError.
    """
    if prob <= 0.0 or count == 0:
        return np.empty(0, dtype=np.intp)
    if prob >= 1.0:
        return np.arange(count)
    if prob > DENSE_ABOVE:
        draws = np.empty(count)
        fill_uniforms(stream, draws)
        return (draws < prob).nonzero()[0]
    if not prob > 0.0:
        raise ValueError("chance_rows needs a chance strictly between 0 and 1")
    expected = count * prob
    block = int(expected + GAP_BLOCK_SDS * math.sqrt(expected) + 8)
    return gap_rows(stream, count, prob, block, accept_below, width_per_unit, density_at_edge)


@njit(**COMPILE)
def gap_rows(
    stream: np.ndarray,
    count: int,
    prob: float,
    block: int,
    accept_below: np.ndarray,
    width_per_unit: np.ndarray,
    density_at_edge: np.ndarray,
) -> np.ndarray:
    """`gap_positions` for an SFC64 stream, compiled: the same draws, in blocks of `block`."""
    rate = -math.log1p(-prob)
    exponentials = np.empty(block)
    found = np.empty(0, dtype=np.intp)
    last = -1.0
    while True:
        fill_exponentials(stream, exponentials, accept_below, width_per_unit, density_at_edge)
        positions = np.empty(block, dtype=np.intp)
        kept, last = place_gaps(exponentials, rate, last, count, positions)
        if kept < block and found.size == 0:
            return positions[:kept]
        found = np.concatenate((found, positions[:kept]))
        if kept < block:
            return found


@njit(**COMPILE)
def thinned_chance_rows(
    stream: np.ndarray,
    count: int,
    bound: float,
    probs: np.ndarray,
    rows_per_prob: int,
    accept_below: np.ndarray,
    width_per_unit: np.ndarray,
    density_at_edge: np.ndarray,
) -> np.ndarray:
    """`thinned_rows` for an SFC64 stream, compiled: row r hit with chance probs[r // rows_per_prob].

    The same draws and rows as `thinned_rows(rng, count, bound, lambda r: probs[r //
    rows_per_prob])`: the candidates at `bound` (`chance_rows`), then one uniform each,
    used where it is made rather than written out and read back. `rows_per_prob` lets a
    household's chance serve each of its cells (cell h * k + j of a households x k table).
    """
    candidates = chance_rows(stream, count, bound, accept_below, width_per_unit, density_at_edge)
    kept = 0
    a, b, c, counter = stream[0], stream[1], stream[2], stream[3]
    for i in range(candidates.size):
        word, a, b, c, counter = next_word(a, b, c, counter)
        row = candidates[i]
        candidates[kept] = row
        kept += unit_uniform(word) * bound < probs[row // rows_per_prob]
    stream[0], stream[1], stream[2], stream[3] = a, b, c, counter
    return candidates[:kept]


def thinned_indices(rng: np.random.Generator, probs: np.ndarray, bound: float) -> np.ndarray:
    """Sorted indices hit, unit i with chance probs[i] <= bound (candidates at `bound`, then thinned).

    The number of uniforms drawn depends on the candidates only, not on `probs`.
    """
    return thinned_rows(rng, len(probs), bound, probs.__getitem__)


def thinned_rows(
    rng: np.random.Generator, count: int, bound: float, probs_at: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """`thinned_indices` with the chances computed for the candidates only.

    `probs_at(rows)` returns the chances of the given rows; the draws are the same as
    `thinned_indices` makes with the chances of every unit, which need not be computed.
    """
    candidates, uniforms = candidates_with_uniforms(rng, count, bound)
    return candidates[uniforms * bound < probs_at(candidates)]


def candidates_with_uniforms(
    rng: np.random.Generator, count: int, bound: float
) -> tuple[np.ndarray, np.ndarray]:
    """The candidates hit at chance `bound`, and a uniform each to thin them by.

    Candidate c is then hit with chance p <= bound if uniform * bound < p: the draws of
    `thinned_rows`, for callers that thin in a compiled loop.
    """
    candidates = chance_indices(rng, count, bound)
    return candidates, rng.random(candidates.size)


def binomial_counts(counts: np.ndarray, prob: float, uniforms: np.ndarray) -> np.ndarray:
    """Successes among each unit's `counts[i]` trials of chance `prob`, from one uniform per unit.

    The same distribution as `rng.binomial(counts, prob)`, by inverting each count's
    cumulative distribution; numpy's binomial sampler pays a set-up per element, several
    times the cost of the uniform. Counts must be non-negative.
    """
    if counts.shape != uniforms.shape:
        raise ValueError(f"counts have shape {counts.shape}, uniforms {uniforms.shape}")
    if counts.min(initial=0) < 0:
        raise ValueError("counts must be non-negative")
    cdf = binomial_cdf(int(counts.max(initial=0)), prob)
    out = np.empty(counts.shape, dtype=counts.dtype)
    invert_binomials(counts.ravel(), uniforms.ravel(), cdf, out.reshape(-1))
    return out


def binomial_cdf(max_count: int, prob: float) -> np.ndarray:
    """cdf[k, x]: the chance of at most x successes in k trials of chance `prob`, k, x <= `max_count`."""
    trials = np.arange(max_count + 1)
    return bdtr(trials[np.newaxis, :], trials[:, np.newaxis], prob)
