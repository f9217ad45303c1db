"""Standard normal draws by the ziggurat: the right distribution, reproducible, any block size."""

import numpy as np
import pytest
from scipy import stats

from povsim.normals import (
    ACCEPT_BELOW,
    DENSITY_AT_EDGE,
    LAYER_AREA,
    TAIL_START,
    WIDTH_PER_UNIT,
    fill_normals,
    standard_normals,
)

DRAWS = 2_000_000


@pytest.fixture(scope="module")
def draws():
    return standard_normals(np.random.Generator(np.random.SFC64(11)), DRAWS)


def test_the_layers_have_equal_areas_and_close_at_the_top():
    edges = WIDTH_PER_UNIT * 2.0**52
    # Layers 1..255: width x[i] times the density step up to the next edge.
    areas = edges[1:] * (DENSITY_AT_EDGE[2:] - DENSITY_AT_EDGE[1:-1])
    np.testing.assert_allclose(areas, LAYER_AREA, rtol=1e-8)
    # The base strip and the tail together also hold one layer's area.
    tail = np.sqrt(np.pi / 2) * stats.norm.sf(TAIL_START) * 2
    assert edges[1] * DENSITY_AT_EDGE[1] + tail == pytest.approx(LAYER_AREA, rel=1e-6)
    assert DENSITY_AT_EDGE[-1] == 1.0
    # A 52-bit draw is accepted at once when its point lies left of the next edge inward.
    inner = np.append(edges[1:], 0.0)
    np.testing.assert_array_equal(ACCEPT_BELOW, np.floor(inner / edges * 2.0**52).astype(np.uint64))


def test_moments_and_shape_are_those_of_the_standard_normal(draws):
    se = 1 / np.sqrt(DRAWS)
    assert abs(draws.mean()) < 4 * se
    assert abs(draws.var() - 1) < 4 * np.sqrt(2) * se
    assert abs(stats.skew(draws)) < 4 * np.sqrt(6) * se
    assert abs(stats.kurtosis(draws)) < 4 * np.sqrt(24) * se
    assert stats.kstest(draws, "norm").pvalue > 1e-3


@pytest.mark.parametrize("threshold", [0.5, 1.0, 2.0, 3.0, TAIL_START, 4.0])
def test_tails_beyond_the_base_strip_are_as_frequent_as_they_should_be(draws, threshold):
    """The tail (beyond 3.65) and the wedges are drawn by the rare paths: count them."""
    expected = 2 * stats.norm.sf(threshold)
    observed = np.mean(np.abs(draws) > threshold)
    assert abs(observed - expected) <= 4 * np.sqrt(expected * (1 - expected) / DRAWS)


def test_a_histogram_over_the_layers_fits_the_density(draws):
    edges = np.linspace(-4.5, 4.5, 181)
    counts, _ = np.histogram(draws, bins=edges)
    expected = DRAWS * np.diff(stats.norm.cdf(edges))
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert stats.chi2.sf(chi2, len(counts) - 1) > 1e-3


def test_same_stream_same_numbers_and_the_dtype_asked_for():
    a = standard_normals(np.random.Generator(np.random.SFC64(3)), (2, 5_000), np.float32)
    b = standard_normals(np.random.Generator(np.random.SFC64(3)), (2, 5_000), np.float32)
    assert a.dtype == np.float32
    assert a.shape == (2, 5_000)
    assert a.tobytes() == b.tobytes()
    c = standard_normals(np.random.Generator(np.random.SFC64(4)), (2, 5_000), np.float32)
    assert a.tobytes() != c.tobytes()


def test_filling_resumes_where_the_words_ran_out():
    """Words given a few at a time give exactly the normals that one long block gives."""
    words = np.random.Generator(np.random.SFC64(5)).bit_generator.random_raw(20_000)
    whole = np.empty(15_000)
    filled, used = fill_normals(words, whole, 0, WIDTH_PER_UNIT, ACCEPT_BELOW, DENSITY_AT_EDGE, TAIL_START)
    assert filled == 15_000
    pieces = np.empty(15_000)
    filled, pending, start, calls = 0, np.empty(0, np.uint64), 0, 0
    while filled < pieces.size:
        pending = np.concatenate([pending, words[start : start + 3]])  # 3 words at a time
        start += 3
        filled, consumed = fill_normals(
            pending, pieces, filled, WIDTH_PER_UNIT, ACCEPT_BELOW, DENSITY_AT_EDGE, TAIL_START
        )
        pending = pending[consumed:]
        calls += 1
    assert calls > 4_000
    assert pieces.tobytes() == whole.tobytes()
    assert start - pending.size == used


def test_generators_without_64_random_bits_a_word_are_refused():
    with pytest.raises(TypeError, match="MT19937"):
        standard_normals(np.random.Generator(np.random.MT19937(1)), 10)
