"""numpy's SFC64 generator stepped inside compiled loops, on the generator's own state.

Every stream of the model is a `numpy.random.Generator` over an `SFC64` bit generator.
numpy draws each number through a function pointer and writes it to an array that the
caller then reads back; a compiled loop that needs one draw per household can instead step
the same generator itself and use each draw where it is made. The loops here read and
write the four 64-bit words of the bit generator's state in place (through its `ctypes`
interface), so a draw made here is the draw numpy would have made next, and numpy's own
calls continue the stream where the loop left it.

The algorithm is Chris Doty-Humphrey's SFC64 as numpy implements it (`sfc64.h`): the
output is a + b + counter, and a uniform on [0, 1) is the output's top 53 bits times 2**-53,
as in numpy's `random()`. `check_matches_numpy` compares it with numpy's own output; it
runs once at import, so a numpy whose state layout differed would stop the model at once,
not skew its draws. Unlike numpy's own methods, the loops take no lock: a generator they
step must not be drawn from by another thread at the same time (the model's streams belong
to one model, and a model runs in one thread).
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np
from numba import njit

from povsim.household_loops import COMPILE

_STATE_WORDS = ctypes.c_uint64 * 4
TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def state_words(rng: np.random.Generator) -> np.ndarray:
    """The four uint64 words of `rng`'s SFC64 state, as an array over the generator's memory."""
    bit_generator = rng.bit_generator
    if not isinstance(bit_generator, np.random.SFC64):
        raise TypeError(
            f"compiled draws need a generator over numpy's SFC64, not {type(bit_generator).__name__}"
        )
    return _state_view(bit_generator)


# Building the view costs a few microseconds, paid at every draw of a month's few dozen; the
# cache holds its bit generators (so that a view never outlives its memory), a bounded number.
@functools.lru_cache(maxsize=256)
def _state_view(bit_generator: np.random.SFC64) -> np.ndarray:
    return np.frombuffer(_STATE_WORDS.from_address(state_address(bit_generator)), dtype=np.uint64)


_capsule_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi)
)


def state_address(bit_generator: np.random.BitGenerator) -> int:
    """Address of a bit generator's state: `bit_generator.ctypes.state_address`, 5-10x faster.

    The bit generator's `capsule` holds numpy's `bitgen_t` (numpy/random/bitgen.h), whose
    first field is the state pointer. `ctypes` builds four function pointers besides, which
    a model paid for each of its streams' first compiled draw.
    """
    bitgen = _capsule_pointer(bit_generator.capsule, b"BitGenerator")
    return ctypes.c_void_p.from_address(bitgen).value


@njit(inline="always", **COMPILE)
def next_word(
    a: np.uint64, b: np.uint64, c: np.uint64, counter: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64, np.uint64]:
    """SFC64's next 64-bit output and its next state (a, b, c, counter)."""
    word = a + b + counter
    return (
        word,
        b ^ (b >> np.uint64(11)),
        c + (c << np.uint64(3)),
        ((c << np.uint64(24)) | (c >> np.uint64(40))) + word,
        counter + np.uint64(1),
    )


@njit(inline="always", **COMPILE)
def unit_uniform(word: np.uint64) -> float:
    """A uniform on [0, 1) from a word's top 53 bits, as numpy's `Generator.random` makes it."""
    return (word >> np.uint64(11)) * TO_UNIT


@njit(**COMPILE)
def fill_uniforms(state: np.ndarray, out: np.ndarray) -> None:
    """Fill `out` with the next uniforms of the stream, exactly as `rng.random(out.size)` would."""
    a, b, c, counter = state[0], state[1], state[2], state[3]
    for i in range(out.size):
        word, a, b, c, counter = next_word(a, b, c, counter)
        out[i] = unit_uniform(word)
    state[0], state[1], state[2], state[3] = a, b, c, counter


@njit(**COMPILE)
def fill_words(state: np.ndarray, out: np.ndarray) -> None:
    """Fill `out` with the next raw words, exactly as `rng.bit_generator.random_raw(out.size)` would."""
    a, b, c, counter = state[0], state[1], state[2], state[3]
    for i in range(out.size):
        out[i], a, b, c, counter = next_word(a, b, c, counter)
    state[0], state[1], state[2], state[3] = a, b, c, counter


def raw_words(rng: np.random.Generator, count: int) -> np.ndarray:
    """The stream's next `count` raw 64-bit words: `random_raw(count)`, compiled for SFC64."""
    if not isinstance(rng.bit_generator, np.random.SFC64):
        return rng.bit_generator.random_raw(count)
    out = np.empty(count, dtype=np.uint64)
    fill_words(state_words(rng), out)
    return out


def uniforms(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """The stream's next uniforms on [0, 1): `rng.random(shape)`, compiled for SFC64."""
    if not isinstance(rng.bit_generator, np.random.SFC64):
        return rng.random(shape)
    out = np.empty(shape)
    fill_uniforms(state_words(rng), out.reshape(-1))
    return out


def check_matches_numpy() -> None:
    """Raise RuntimeError unless the compiled generator continues numpy's SFC64 stream exactly."""
    ours, numpys = (np.random.Generator(np.random.SFC64(20220101)) for _ in range(2))
    drawn, words = np.empty(5), np.empty(5, dtype=np.uint64)
    fill_uniforms(state_words(ours), drawn)
    fill_words(state_words(ours), words)
    same = (
        state_address(ours.bit_generator) == ours.bit_generator.ctypes.state_address
        and np.array_equal(drawn, numpys.random(5))
        and np.array_equal(words, numpys.bit_generator.random_raw(5))
        and np.array_equal(ours.random(5), numpys.random(5))
    )
    if not same:
        raise RuntimeError(
            f"povsim's compiled SFC64 does not reproduce numpy {np.__version__}'s SFC64 stream; "
            "its state layout may have changed"
        )


check_matches_numpy()
