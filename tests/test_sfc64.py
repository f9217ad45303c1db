"""The compiled SFC64 continues numpy's own stream, draw for draw, in both directions."""

import numpy as np
import pytest

from povsim.sfc64 import check_matches_numpy, fill_uniforms, fill_words, raw_words, state_address, state_words


def pair(seed):
    return np.random.Generator(np.random.SFC64(seed)), np.random.Generator(np.random.SFC64(seed))


@pytest.mark.parametrize("size", [0, 1, 7, 10_000])
def test_uniforms_and_words_are_numpys(size):
    ours, numpys = pair(size + 1)
    uniforms, words = np.empty(size), np.empty(size, dtype=np.uint64)
    fill_uniforms(state_words(ours), uniforms)
    fill_words(state_words(ours), words)
    assert uniforms.tobytes() == numpys.random(size).tobytes()
    assert words.tobytes() == numpys.bit_generator.random_raw(size).tobytes()
    assert uniforms.size == 0 or (uniforms.min() >= 0.0 and uniforms.max() < 1.0)


def test_numpy_and_compiled_draws_interleave_as_one_stream():
    ours, numpys = pair(2027)
    got = [ours.random(3)]
    block = np.empty(5)
    fill_uniforms(state_words(ours), block)
    got += [block, ours.standard_normal(2), raw_words(ours, 4).astype(float), ours.random(2)]
    want = [
        numpys.random(3),
        numpys.random(5),
        numpys.standard_normal(2),
        numpys.bit_generator.random_raw(4).astype(float),
        numpys.random(2),
    ]
    for a, b in zip(got, want, strict=True):
        assert a.tobytes() == b.tobytes()
    ours_state, numpys_state = ours.bit_generator.state["state"], numpys.bit_generator.state["state"]
    np.testing.assert_array_equal(ours_state["state"], numpys_state["state"])


@pytest.mark.parametrize("kind", [np.random.SFC64, np.random.PCG64, np.random.MT19937, np.random.Philox])
def test_state_address_is_the_ctypes_one(kind):
    bit_generator = kind(3)
    assert state_address(bit_generator) == bit_generator.ctypes.state_address


def test_raw_words_fall_back_to_numpy_for_other_generators():
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    np.testing.assert_array_equal(raw_words(a, 9), b.bit_generator.random_raw(9))


def test_state_words_refuse_other_generators():
    with pytest.raises(TypeError, match="PCG64"):
        state_words(np.random.default_rng(1))


def test_self_check_passes_on_this_numpy():
    check_matches_numpy()
