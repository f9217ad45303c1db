"""Standard exponential draws exactly as numpy's `Generator.standard_exponential` makes them.

numpy draws exponentials by the ziggurat method of Marsaglia and Tsang (2000), 256 layers,
from one 64-bit word a draw in 98.9 % of cases: the word's bits 3-10 pick a layer and its
top 53 bits a point in it. Written here as a compiled function of the SFC64 state
(`povsim.sfc64`), a loop that needs exponentials, such as the gaps between rare events, can
make them itself, and they are the draws numpy would have made.

The tables are numpy's. Its layer widths and edge densities were computed in extended
precision (float64 recomputation differs in the last bits of the low layers):
`ziggurat_tables` computes them with 60 significant digits, the layer area being (r + 1) e^-r
for numpy's tail start r, and rounds once. numpy's bounds of immediate acceptance are not
floor(ratio x 2^53) (they are one less for about half of the layers), so they are found by
probing numpy's own sampler around the computed ones. `data/exponential_ziggurat.csv` holds
the result (`write_tables` writes it), so that importing the module costs neither the 254
high-precision steps nor the probes. The widths and bounds are checked exactly
(`tests/test_exponentials.py`); an edge density one bit off numpy's would change a draw only
if a wedge test fell within that bit, odds of order 1e-16 a test. A self-check at import
compares draws with numpy's.
"""

from __future__ import annotations

import csv
import io
import math
from decimal import Decimal, localcontext
from importlib import resources

import numpy as np
from numba import njit

from povsim.household_loops import COMPILE
from povsim.sfc64 import next_word, state_words, unit_uniform

# Where the tail begins (numpy's `ziggurat_exp_r`).
TAIL_START = "7.6971174701310497140446280481"
LAYERS = 256
POINT_BITS = 53
TABLE_FILE = "exponential_ziggurat.csv"


def ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exponential ziggurat's tables, computed: (accept_below, width_per_unit, density_at_edge).

    Layer i accepts a point d (53 bits) at once if d < accept_below[i], giving
    d * width_per_unit[i]; `density_at_edge[i]` is e^-x at the layer's edge x.
    """
    accept_below = np.zeros(LAYERS, np.uint64)
    width_per_unit, density_at_edge = np.zeros(LAYERS), np.zeros(LAYERS)
    with localcontext() as context:
        context.prec = 60
        scale = Decimal(2) ** POINT_BITS
        edge = Decimal(TAIL_START)
        area = (edge + 1) * (-edge).exp()
        base = area / (-edge).exp()  # the base strip's width, tail included
        accept_below[0] = int(edge / base * scale)
        width_per_unit[0] = float(base / scale)
        width_per_unit[-1] = float(edge / scale)
        density_at_edge[0] = 1.0
        density_at_edge[-1] = float((-edge).exp())
        outer = edge
        for layer in range(LAYERS - 2, 0, -1):
            edge = -((area / edge + (-edge).exp()).ln())
            accept_below[layer + 1] = int(edge / outer * scale)
            outer = edge
            density_at_edge[layer] = float((-edge).exp())
            width_per_unit[layer] = float(edge / scale)
    return numpy_acceptance_bounds(accept_below), width_per_unit, density_at_edge


def numpy_acceptance_bounds(estimates: np.ndarray) -> np.ndarray:
    """The bound of immediate acceptance numpy uses in each layer, found by probing near `estimates`."""
    bounds = estimates.copy()
    for layer in range(LAYERS):
        bound = int(bounds[layer])
        while bound > 0 and not accepted_at_once(layer, bound - 1):
            bound -= 1
        while bound < 2**POINT_BITS and accepted_at_once(layer, bound):
            bound += 1
        bounds[layer] = bound
    return bounds


def accepted_at_once(layer: int, point: int) -> bool:
    """Whether numpy's `standard_exponential` takes the draw of this layer and point from one word."""
    rng = stream_with_next_word(((point << 8) | layer) << 3)
    rng.standard_exponential()
    return int(rng.bit_generator.state["state"]["state"][3]) == 1


def stream_with_next_word(word: int) -> np.random.Generator:
    """An SFC64 stream whose next 64-bit output is `word` (its output is a + b + counter)."""
    rng = np.random.Generator(np.random.SFC64(0))
    rng.bit_generator.state = {
        "bit_generator": "SFC64",
        "state": {"state": np.array([word, 0, 0x9E3779B97F4A7C15, 0], dtype=np.uint64)},
        "has_uint32": 0,
        "uinteger": 0,
    }
    return rng


def write_tables(path) -> None:
    """Write `ziggurat_tables` to `path` as CSV (floats in hexadecimal, exact)."""
    accept_below, width_per_unit, density_at_edge = ziggurat_tables()
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["layer", "accept_below", "width_per_unit", "density_at_edge"])
        for layer in range(LAYERS):
            writer.writerow(
                [layer, int(accept_below[layer]), width_per_unit[layer].hex(), density_at_edge[layer].hex()]
            )


def read_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tables as stored in the package's data (see `write_tables`)."""
    text = resources.files("povsim.data").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    accept_below = np.array([int(row["accept_below"]) for row in rows], dtype=np.uint64)
    width_per_unit = np.array([float.fromhex(row["width_per_unit"]) for row in rows])
    density_at_edge = np.array([float.fromhex(row["density_at_edge"]) for row in rows])
    return accept_below, width_per_unit, density_at_edge


ACCEPT_BELOW, WIDTH_PER_UNIT, DENSITY_AT_EDGE = read_tables()
TAIL_START_FLOAT = float(TAIL_START)


@njit(inline="always", **COMPILE)
def next_exponential(
    a: np.uint64,
    b: np.uint64,
    c: np.uint64,
    counter: np.uint64,
    accept_below: np.ndarray,
    width_per_unit: np.ndarray,
    density_at_edge: np.ndarray,
) -> tuple[float, np.uint64, np.uint64, np.uint64, np.uint64]:
    """The next standard exponential of the SFC64 stream (a, b, c, counter), and its new state."""
    while True:
        word, a, b, c, counter = next_word(a, b, c, counter)
        point = word >> np.uint64(3)
        layer = point & np.uint64(0xFF)
        point = point >> np.uint64(8)
        x = point * width_per_unit[layer]
        if point < accept_below[layer]:
            return x, a, b, c, counter
        word, a, b, c, counter = next_word(a, b, c, counter)
        if layer == 0:
            # The tail: the tail start plus a fresh exponential.
            return TAIL_START_FLOAT - math.log1p(-unit_uniform(word)), a, b, c, counter
        # A wedge between the layer's edge and the curve: accept under the curve.
        lower = density_at_edge[layer]
        if (density_at_edge[layer - 1] - lower) * unit_uniform(word) + lower < math.exp(-x):
            return x, a, b, c, counter


@njit(**COMPILE)
def fill_exponentials(
    state: np.ndarray,
    out: np.ndarray,
    accept_below: np.ndarray,
    width_per_unit: np.ndarray,
    density_at_edge: np.ndarray,
) -> None:
    """Fill `out` with the stream's next exponentials, as `rng.standard_exponential(out.size)` would."""
    a, b, c, counter = state[0], state[1], state[2], state[3]
    for i in range(out.size):
        out[i], a, b, c, counter = next_exponential(
            a, b, c, counter, accept_below, width_per_unit, density_at_edge
        )
    state[0], state[1], state[2], state[3] = a, b, c, counter


def check_matches_numpy(draws: int = 4096) -> None:
    """Raise RuntimeError unless the compiled exponentials are numpy's, draw for draw."""
    ours, numpys = (np.random.Generator(np.random.SFC64(20211231)) for _ in range(2))
    drawn = np.empty(draws)
    fill_exponentials(state_words(ours), drawn, ACCEPT_BELOW, WIDTH_PER_UNIT, DENSITY_AT_EDGE)
    if not (np.array_equal(drawn, numpys.standard_exponential(draws)) and ours.random() == numpys.random()):
        raise RuntimeError(
            f"povsim's compiled exponentials do not reproduce numpy {np.__version__}'s "
            "standard_exponential; its algorithm or tables may have changed"
        )


check_matches_numpy()
