"""Sparse event sampling: right frequencies, and draws that do not depend on state."""

import numpy as np
import pytest
from scipy import stats

from povsim.exponentials import ACCEPT_BELOW, DENSITY_AT_EDGE, WIDTH_PER_UNIT
from povsim.sampling import (
    DENSE_ABOVE,
    binomial_counts,
    chance_indices,
    chance_rows,
    gap_positions,
    gap_rows,
    thinned_chance_rows,
    thinned_indices,
    thinned_rows,
)
from povsim.sfc64 import state_words


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


@pytest.mark.parametrize("block", [1, 3, 50])
def test_gap_positions_give_each_trial_its_chance_whatever_the_block(block):
    """Small blocks make the sampler draw many blocks; the distribution must not change."""
    rng = np.random.default_rng(5)
    n, rounds, prob = 300, 2_000, 0.05
    hits = np.zeros(n)
    for _ in range(rounds):
        positions = gap_positions(rng, n, prob, block=block)
        assert np.all(np.diff(positions) > 0)
        assert positions.size == 0 or 0 <= positions[0] <= positions[-1] < n
        hits[positions] += 1
    expected = rounds * prob
    assert abs(hits.sum() - n * expected) <= 4 * np.sqrt(n * expected * (1 - prob))
    assert hits.var() == pytest.approx(expected * (1 - prob), rel=0.25)


@pytest.mark.parametrize("prob", [1e-300, 1e-310])  # the second overflows the gaps to infinity
def test_gap_positions_with_a_vanishing_chance_hit_no_one(prob):
    rng = np.random.default_rng(6)
    assert gap_positions(rng, 10**9, prob).size == 0


def test_the_number_of_hits_per_call_is_binomial():
    rng = np.random.default_rng(8)
    n, prob = 5_000, 0.03
    hits = np.array([gap_positions(rng, n, prob).size for _ in range(3_000)])
    assert abs(hits.mean() - n * prob) <= 4 * np.sqrt(n * prob * (1 - prob) / hits.size)
    assert hits.var() == pytest.approx(n * prob * (1 - prob), rel=0.1)


@pytest.mark.parametrize("prob", [0.0, 1.0, float("nan")])
def test_gap_positions_refuse_chances_outside_the_open_interval(prob):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        gap_positions(np.random.default_rng(9), 100, prob)


@pytest.mark.parametrize("prob", [0.0, 1 / 44, 0.1, 0.5, 1.0])
def test_binomial_counts_follow_the_binomial_distribution(prob):
    rng = np.random.default_rng(7)
    counts = np.repeat(np.arange(8, dtype=np.int16), 20_000)
    drawn = binomial_counts(counts, prob, rng.random(counts.size))
    assert drawn.dtype == counts.dtype
    assert np.all((drawn >= 0) & (drawn <= counts))
    for k in range(8):
        observed = np.bincount(drawn[counts == k], minlength=k + 1) / 20_000
        expected = stats.binom.pmf(np.arange(k + 1), k, prob)
        assert np.all(np.abs(observed - expected) <= 4 * np.sqrt(expected * (1 - expected) / 20_000) + 1e-9)


def test_binomial_counts_refuse_negative_counts_and_mismatched_draws():
    with pytest.raises(ValueError, match="non-negative"):
        binomial_counts(np.array([1, -1]), 0.5, np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        binomial_counts(np.array([1, 2]), 0.5, np.zeros(3))


CHANCE_CASES = [
    (0, 0.1),
    (100, 0.0),
    (100, 1.0),
    (100, 0.5),
    (3_000, DENSE_ABOVE),
    (1_000, 0.25),
    (58_000, 0.01),
    (638_000, 0.12),
    (50, 0.003),
    (5, 1e-300),
]


@pytest.mark.parametrize(("count", "prob"), CHANCE_CASES)
def test_compiled_chance_rows_are_chance_indices_draws(count, prob):
    """Same rows, same dtype, and the stream left where `chance_indices` leaves it."""
    ours, numpys = (np.random.Generator(np.random.SFC64(count + 7)) for _ in range(2))
    for _ in range(5):
        got = chance_rows(state_words(ours), count, prob, ACCEPT_BELOW, WIDTH_PER_UNIT, DENSITY_AT_EDGE)
        want = chance_indices(numpys, count, prob)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert ours.random() == numpys.random()


def test_compiled_chance_rows_refuse_a_nan_chance():
    rng = np.random.Generator(np.random.SFC64(1))
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        chance_rows(state_words(rng), 10, float("nan"), ACCEPT_BELOW, WIDTH_PER_UNIT, DENSITY_AT_EDGE)


@pytest.mark.parametrize("block", [1, 7, 50])
def test_compiled_gaps_in_several_blocks_are_gap_positions_draws(block):
    ours, numpys = (np.random.Generator(np.random.SFC64(block)) for _ in range(2))
    tables = (ACCEPT_BELOW, WIDTH_PER_UNIT, DENSITY_AT_EDGE)
    got = gap_rows(state_words(ours), 5_000, 0.05, block, *tables)
    want = gap_positions(numpys, 5_000, 0.05, block=block)
    assert want.size > 3 * block  # several blocks were needed
    np.testing.assert_array_equal(got, want)
    assert ours.random() == numpys.random()


@pytest.mark.parametrize(
    ("count", "bound", "rows_per_prob"),
    [(4_000, 0.12, 1), (48_000, 0.12, 12), (3_000, 0.3, 3), (500, 1.0, 5), (500, 0.0, 1)],
)
def test_compiled_thinned_rows_are_thinned_rows_draws(count, bound, rows_per_prob):
    """Same rows, and the stream left where `thinned_rows` leaves it, each group of rows sharing a chance."""
    ours, numpys = (np.random.Generator(np.random.SFC64(count)) for _ in range(2))
    probs = np.random.default_rng(count).uniform(0.0, bound, count // rows_per_prob)
    tables = (ACCEPT_BELOW, WIDTH_PER_UNIT, DENSITY_AT_EDGE)
    for _ in range(3):
        got = thinned_chance_rows(state_words(ours), count, bound, probs, rows_per_prob, *tables)
        want = thinned_rows(numpys, count, bound, lambda rows: probs[rows // rows_per_prob])
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert ours.random() == numpys.random()
