"""Sparse event sampling: right frequencies, and draws that do not depend on state."""

import numpy as np
import pytest

from povsim.sampling import DENSE_ABOVE, chance_indices, thinned_indices


@pytest.mark.parametrize("prob", [0.0, 0.001, 0.01, DENSE_ABOVE, 0.3, 0.9, 1.0])
def test_each_unit_is_hit_with_its_chance(prob):
    rng = np.random.default_rng(1)
    n, rounds = 2_000, 400
    hits = np.zeros(n)
    for _ in range(rounds):
        idx = chance_indices(rng, n, prob)
        assert np.all(np.diff(idx) > 0)
        hits[idx] += 1
    total = hits.sum()
    expected = n * rounds * prob
    assert abs(total - expected) <= 4 * np.sqrt(expected * (1 - prob)) + 1e-9
    if 0 < prob < 1:
        # No unit is favoured: per-unit counts look binomial (chi-square-like spread check).
        assert hits.var() == pytest.approx(rounds * prob * (1 - prob), rel=0.25)


def test_thinning_gives_each_unit_its_own_chance():
    rng = np.random.default_rng(2)
    probs = np.repeat([0.0, 0.002, 0.01, 0.02], 5_000)
    hits = np.zeros(probs.size)
    rounds = 300
    for _ in range(rounds):
        hits[thinned_indices(rng, probs, 0.02)] += 1
    for p in (0.0, 0.002, 0.01, 0.02):
        group = hits[probs == p].sum()
        expected = 5_000 * rounds * p
        assert abs(group - expected) <= 4 * np.sqrt(expected) + 1e-9


def test_draws_do_not_depend_on_the_chances_below_the_bound():
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    thinned_indices(a, np.full(10_000, 0.001), 0.05)
    thinned_indices(b, np.full(10_000, 0.04), 0.05)
    assert a.random() == b.random()
