"""Event sampling: the ways of drawing which of n units an event with chance p hits.

Prints, for 10,000, 58,000 and 1,000,000 units and chances from 0.5 % to 50 %, the median
time of three samplers over alternated repeats: one uniform per unit (`random(n) < p`),
a binomial count and a choice without replacement (povsim's sparse sampler before the
fourth pass of issue 7), and the gaps between hits (`sampling.gap_positions`, now used up to
`sampling.DENSE_ABOVE`); then binomial counts per household by inversion
(`sampling.binomial_counts`, uniforms included) against numpy's `Generator.binomial`.
All on the SFC64 generator the model's streams use.

Usage: uv run python benchmarks/bench_sampling.py [--repeats K]
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from collections.abc import Callable

import numpy as np

from povsim.sampling import DENSE_ABOVE, binomial_counts, gap_positions, true_rows

SIZES = (10_000, 58_000, 1_000_000)
CHANCES = (0.005, 0.02, 0.05, 0.1, 0.2, 0.5)


def samplers(rng: np.random.Generator, n: int, p: float) -> dict[str, Callable[[], np.ndarray]]:
    return {
        "uniform per unit": lambda: true_rows(rng.random(n) < p),
        "binomial + choice": lambda: np.sort(rng.choice(n, size=rng.binomial(n, p), replace=False)),
        "gaps": lambda: gap_positions(rng, n, p),
    }


def median_seconds(job: Callable[[], object], repeats: int, calls: int) -> float:
    job()
    return statistics.median(min(timeit.repeat(job, number=calls, repeat=3)) / calls for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.Generator(np.random.SFC64(1))
    print(f"which units are hit: median of {args.repeats} (each the fastest of 3 x k calls), microseconds")
    header = ("units", "chance", "uniform/unit", "binom+choice", "gaps", "gaps/uniform")
    print("".join(f"{h:>14}" for h in header))
    for n in SIZES:
        calls = 5 if n >= 1_000_000 else 50
        for p in CHANCES:
            t = {
                label: median_seconds(job, args.repeats, calls) for label, job in samplers(rng, n, p).items()
            }
            dense, sparse, gaps = t["uniform per unit"], t["binomial + choice"], t["gaps"]
            row = (f"{n:,}", f"{p:.3f}", f"{dense * 1e6:.1f}", f"{sparse * 1e6:.1f}", f"{gaps * 1e6:.1f}")
            print("".join(f"{c:>14}" for c in row) + f"{gaps / dense:>14.2f}")
    print(f"(the model draws gaps up to a chance of {DENSE_ABOVE}, one uniform per unit above)")
    print("binomial counts of 58,000 households' members (0-5 each), milliseconds")
    members = np.random.default_rng(2).integers(0, 6, 58_000).astype(np.int16)
    for p in (1 / 44, 1 / 6):
        numpy_way = median_seconds(lambda p=p: rng.binomial(members, p), args.repeats, 20)
        inverted = median_seconds(
            lambda p=p: binomial_counts(members, p, rng.random(members.size)), args.repeats, 20
        )
        print(
            f"  p = {p:.3f}: Generator.binomial {numpy_way * 1e3:6.3f}   by inversion {inverted * 1e3:6.3f}"
            f"   ratio {numpy_way / inverted:4.2f}"
        )
    print(f"numpy {np.__version__}")


if __name__ == "__main__":
    main()
