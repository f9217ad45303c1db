"""Drawing rare events in time proportional to the number of events, not of households.

Each household is hit independently with its own chance, exactly as with one uniform draw
per household, but the draws depend only on the household count and the chances' upper
bound, never on other state. Switching a policy on or off therefore leaves every later
draw of the stream unchanged (common random numbers), and a month costs O(events).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

NO_ONE = np.empty(0, dtype=np.intp)
# Above this chance, one uniform per unit is cheaper than choosing the hits directly.
DENSE_ABOVE = 0.02


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
        return true_rows(rng.random(count) < prob)
    hits = rng.binomial(count, prob)
    return np.sort(rng.choice(count, size=hits, replace=False)) if hits else NO_ONE


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
    candidates = chance_indices(rng, count, bound)
    keep = rng.random(candidates.size) * bound < probs_at(candidates)
    return candidates[keep]
