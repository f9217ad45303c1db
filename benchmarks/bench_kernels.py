"""Compiled kernels against the numpy code they stand in for, as ratios measured in one run.

Prints, alternating the two in each repeat and taking medians:

- the funding order of an instrument's applicants: `targeting.bucket_order` (used from
  `LEXSORT_BELOW` to `BUCKET_SORT_UP_TO` applicants) against `targeting.two_sort_order`
  (two numpy sorts, used above) and `np.lexsort`, all giving the same order;
- the review's deprivation matrix: `PovertyStandard.deprivations` (one compiled call)
  against `np.column_stack` of each indicator's numpy rule (`standards.indicator_deprived`),
  on synthesised households.

Usage: uv run python benchmarks/bench_kernels.py [--repeats K]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from povsim import PovertyModel
from povsim.policies.targeting import CROWDED_BUCKET, bucket_order, two_sort_order
from povsim.standards import indicator_deprived

APPLICANTS = (1_500, 16_000, 60_000, 300_000, 1_000_000)
HOUSEHOLDS = (10_000, 58_000, 1_000_000)


def paired_medians(jobs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each job, the jobs run in turn within each repeat."""
    for job in jobs.values():
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def funding_orders(repeats: int) -> None:
    print("funding order of applicants (statuses 10/10/70/10 %, uniform draws), median microseconds")
    header = ("applicants", "buckets", "two sorts", "lexsort", "buckets/two", "buckets/lex")
    print("".join(f"{h:>13}" for h in header))
    rng = np.random.default_rng(1)
    for n in APPLICANTS:
        status = rng.choice(np.array([0, 1, 2, 3], np.int8), n, p=[0.1, 0.1, 0.7, 0.1])
        draws = rng.random(n) * 0.8
        if not np.array_equal(bucket_order(status, draws, CROWDED_BUCKET), np.lexsort((draws, status))):
            raise SystemExit("bucket_order differs from lexsort")
        t = paired_medians(
            {
                "buckets": lambda s=status, d=draws: bucket_order(s, d, CROWDED_BUCKET),
                "two sorts": lambda s=status, d=draws: two_sort_order(s, d),
                "lexsort": lambda s=status, d=draws: np.lexsort((d, s)),
            },
            max(repeats, 2_000_000 // n),
        )
        row = (f"{n:,}", *(f"{t[k] * 1e6:.0f}" for k in ("buckets", "two sorts", "lexsort")))
        ratios = f"{t['buckets'] / t['two sorts']:>13.2f}{t['buckets'] / t['lexsort']:>13.2f}"
        print("".join(f"{c:>13}" for c in row) + ratios)


def deprivation_matrices(repeats: int) -> None:
    print("deprivation matrix of synthesised households, nanoseconds a household")
    header = ("households", "compiled", "numpy rules", "ratio")
    print("".join(f"{h:>13}" for h in header))
    for n in HOUSEHOLDS:
        model = PovertyModel(households=n, rng=1)
        state, standard = model.households, model.standard

        def by_rules(state=state, standard=standard) -> np.ndarray:
            return np.column_stack(
                [indicator_deprived(name, state, standard) for name in standard.indicators]
            )

        if not np.array_equal(standard.deprivations(state), by_rules()):
            raise SystemExit("the compiled deprivation matrix differs from the rules")
        t = paired_medians(
            {"compiled": lambda s=state, st=standard: st.deprivations(s), "numpy rules": by_rules},
            max(repeats, 300_000 // n),
        )
        row = (f"{n:,}", f"{t['compiled'] / n * 1e9:.1f}", f"{t['numpy rules'] / n * 1e9:.1f}")
        print("".join(f"{c:>13}" for c in row) + f"{t['compiled'] / t['numpy rules']:>13.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    funding_orders(args.repeats)
    deprivation_matrices(args.repeats)


if __name__ == "__main__":
    main()
