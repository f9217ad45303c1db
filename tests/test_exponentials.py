"""The compiled exponentials are numpy's `standard_exponential`, draw for draw and word for word."""

import numpy as np
import pytest

from povsim.exponentials import (
    ACCEPT_BELOW,
    DENSITY_AT_EDGE,
    WIDTH_PER_UNIT,
    check_matches_numpy,
    fill_exponentials,
    read_tables,
    stream_with_next_word,
    ziggurat_tables,
)
from povsim.sfc64 import state_words

TOP_POINT = 2**53


def compiled(rng: np.random.Generator, size: int) -> np.ndarray:
    out = np.empty(size)
    fill_exponentials(state_words(rng), out, ACCEPT_BELOW, WIDTH_PER_UNIT, DENSITY_AT_EDGE)
    return out


def test_stored_tables_are_the_computed_ones():
    for stored, computed in zip(read_tables(), ziggurat_tables(), strict=True):
        assert stored.tobytes() == computed.tobytes()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_million_draws_are_numpys_and_the_stream_continues(seed):
    ours, numpys = (np.random.Generator(np.random.SFC64(seed)) for _ in range(2))
    got = compiled(ours, 1_000_000)
    assert got.tobytes() == numpys.standard_exponential(1_000_000).tobytes()
    assert ours.bit_generator.random_raw(3).tobytes() == numpys.bit_generator.random_raw(3).tobytes()


def test_each_layers_acceptance_bound_is_numpys():
    """At the last point a layer accepts at once and the first it does not, the draw and the
    words used are numpy's: so every table entry, not only those a sample reaches, is numpy's."""
    probed = 0
    for layer in range(256):
        bound = int(ACCEPT_BELOW[layer])
        for point in (bound - 1, bound):
            if not 0 <= point < TOP_POINT:
                continue
            word = ((point << 8) | layer) << 3
            ours, numpys = stream_with_next_word(word), stream_with_next_word(word)
            assert compiled(ours, 1).tobytes() == numpys.standard_exponential(1).tobytes(), (layer, point)
            assert ours.bit_generator.random_raw(2).tobytes() == numpys.bit_generator.random_raw(2).tobytes()
            probed += 1
    assert probed > 500


def test_self_check_passes_on_this_numpy():
    check_matches_numpy()
