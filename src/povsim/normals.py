"""Standard normal draws by the ziggurat method, from a generator's raw 64-bit output.

The month's earnings need two normals per household. numpy's own normal sampler calls
the bit generator through a pointer for every draw and branches on the sign, and on this
project's machines costs about four uniforms a normal (`benchmarks/bench_streams.py`).
Here the raw 64-bit words are taken in one block (`BitGenerator.random_raw`'s words,
made by the compiled generator of `povsim.sfc64` for the model's SFC64 streams) and a
compiled loop turns them into normals with the ziggurat of Marsaglia and Tsang (2000),
256 layers, the sign taken without a branch. Which words are used, and how many, depend
only on the stream, so a run is reproducible and its other streams unaffected.

The layers: x[1] = R is where the tail begins, every layer has area V, and x[i+1] is
found from f(x[i+1]) = f(x[i]) + V / x[i] for f(x) = exp(-x^2 / 2), up to x[256] = 0 (the
top of the curve). Layer 0 is the base strip of width V / f(R), with the tail beyond R.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from povsim.sfc64 import raw_words

# Tail start and layer area of the 256-layer normal ziggurat (Marsaglia and Tsang 2000).
TAIL_START = 3.6541528853610088
LAYER_AREA = 0.00492867323399
LAYERS = 256
MANTISSA_BITS = 52
# Extra raw words drawn with a block, beyond one a normal: rejections take about 2 % more.
SPARE_WORDS_SHARE = 0.05
SPARE_WORDS_MIN = 64


def _density(x: float) -> float:
    return math.exp(-0.5 * x * x)


def ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per layer: the width scale of a 52-bit draw, the fast-accept bound, and f at the edges.

    Returns (width_per_unit, accept_below, density_at_edge): layer i accepts a draw `d` of
    52 bits at once if d < accept_below[i] (the point lies left of the next layer's edge),
    giving x = d * width_per_unit[i]; `density_at_edge` has the 257 values f(x[i]).
    """
    edges = np.empty(LAYERS + 1)
    edges[0] = LAYER_AREA / _density(TAIL_START)
    edges[1] = TAIL_START
    for i in range(1, LAYERS - 1):
        edges[i + 1] = math.sqrt(-2.0 * math.log(_density(edges[i]) + LAYER_AREA / edges[i]))
    edges[LAYERS] = 0.0
    scale = float(2**MANTISSA_BITS)
    width_per_unit = edges[:LAYERS] / scale
    accept_below = np.floor(edges[1:] / edges[:LAYERS] * scale).astype(np.uint64)
    density_at_edge = np.exp(-0.5 * edges * edges)
    return width_per_unit, accept_below, density_at_edge


WIDTH_PER_UNIT, ACCEPT_BELOW, DENSITY_AT_EDGE = ziggurat_tables()


@njit(cache=True, error_model="numpy")
def _uniform(word: np.uint64) -> float:
    """A uniform on [0, 1) from the top 53 bits of a raw word."""
    return (word >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, error_model="numpy")
def fill_normals(
    words: np.ndarray,
    out: np.ndarray,
    start: int,
    width_per_unit: np.ndarray,
    accept_below: np.ndarray,
    density_at_edge: np.ndarray,
    tail_start: float,
) -> tuple[int, int]:
    """Fill out[start:] with normals from `words`; return the position reached and the words used.

    If the words run out in the middle of a draw, stops before that draw: the words it
    began with are not counted as used, so the caller continues with them followed by a
    fresh block, exactly as if the words had been one block.
    """
    w = 0
    i = start
    n_words = words.size
    while i < out.size:
        attempt = w
        if w >= n_words:
            return i, attempt
        word = words[w]
        w += 1
        layer = word & np.uint64(0xFF)
        sign = np.float64((word >> np.uint64(8)) & np.uint64(1))
        draw = (word >> np.uint64(9)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = draw * width_per_unit[layer]
        if draw < accept_below[layer]:
            out[i] = x - 2.0 * sign * x
            i += 1
            continue
        if layer == 0:
            # The tail beyond the base strip (Marsaglia 1964): exponential proposals.
            while True:
                if w + 2 > n_words:
                    return i, attempt
                a = -math.log1p(-_uniform(words[w])) / tail_start
                b = -math.log1p(-_uniform(words[w + 1]))
                w += 2
                if b + b > a * a:
                    break
            x = tail_start + a
        else:
            # A wedge between the layer's edge and the curve: accept under the curve.
            if w >= n_words:
                return i, attempt
            height = density_at_edge[layer] + _uniform(words[w]) * (
                density_at_edge[layer + 1] - density_at_edge[layer]
            )
            w += 1
            if height >= math.exp(-0.5 * x * x):
                continue
        out[i] = x - 2.0 * sign * x
        i += 1
    return i, w


# Bit generators whose raw output is 64 random bits a word (MT19937's is 32).
SIXTY_FOUR_BIT_GENERATORS = (np.random.SFC64, np.random.PCG64, np.random.PCG64DXSM, np.random.Philox)


def standard_normals(rng: np.random.Generator, shape: int | tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """Standard normal draws of the given shape and dtype from `rng`'s bit generator."""
    if not isinstance(rng.bit_generator, SIXTY_FOUR_BIT_GENERATORS):
        raise TypeError(
            f"standard_normals needs a generator with 64 random bits a raw word "
            f"(SFC64, PCG64, PCG64DXSM, Philox), not {type(rng.bit_generator).__name__}"
        )
    out = np.empty(shape, dtype=dtype)
    flat = out.reshape(-1)
    filled = 0
    words = np.empty(0, np.uint64)
    while filled < flat.size:
        missing = flat.size - filled
        fresh = raw_words(rng, missing + max(int(missing * SPARE_WORDS_SHARE), SPARE_WORDS_MIN))
        words = np.concatenate([words, fresh]) if words.size else fresh
        filled, used = fill_normals(
            words, flat, filled, WIDTH_PER_UNIT, ACCEPT_BELOW, DENSITY_AT_EDGE, TAIL_START
        )
        words = words[used:]
    return out
