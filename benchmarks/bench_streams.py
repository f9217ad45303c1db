"""Random-number generation: numpy's default PCG64 against SFC64, the model's stream generator.

Prints, for the draws a month of the full district makes most of (116,000 uniforms, two
rows of 58,000 float32 standard normals by numpy and by `povsim.normals`, the review's
misscoring cells drawn densely and sparsely), the median time of each generator over
alternated repeats and their ratio.

Usage: uv run python benchmarks/bench_streams.py [--repeats K]
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

from povsim.normals import standard_normals
from povsim.sampling import chance_indices

HOUSEHOLDS = 58_000
REVIEW_CELLS = HOUSEHOLDS * 14  # households x Decree 351 indicators


def draws(rng: np.random.Generator) -> dict[str, callable]:
    return {
        "116,000 uniforms": lambda: rng.random(2 * HOUSEHOLDS),
        "2 x 58,000 float32 normals": lambda: rng.standard_normal((2, HOUSEHOLDS), dtype=np.float32),
        "the same, povsim's ziggurat": lambda: standard_normals(rng, (2, HOUSEHOLDS), np.float32),
        "misscoring, a uniform per cell": lambda: rng.random(REVIEW_CELLS) < 0.02,
        "misscoring, the cells hit": lambda: chance_indices(rng, REVIEW_CELLS, 0.02),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    generators = {
        "PCG64": np.random.Generator(np.random.PCG64(1)),
        "SFC64": np.random.Generator(np.random.SFC64(1)),
    }
    work = {name: draws(rng) for name, rng in generators.items()}
    seconds: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeats):
        for name, jobs in work.items():
            for label, job in jobs.items():
                job()
                seconds.setdefault((name, label), []).append(min(timeit.repeat(job, number=5, repeat=3)) / 5)
    print(f"median of {args.repeats} alternated repeats (each the fastest of 3 x 5 calls)")
    for label in work["PCG64"]:
        pcg = statistics.median(seconds[("PCG64", label)])
        sfc = statistics.median(seconds[("SFC64", label)])
        print(f"  {label:32s} PCG64 {pcg * 1e3:7.3f} ms   SFC64 {sfc * 1e3:7.3f} ms   ratio {pcg / sfc:4.2f}")
    print(f"numpy {np.__version__}")


if __name__ == "__main__":
    main()
