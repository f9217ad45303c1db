"""A month's fixed cost: what a month costs whatever the number of households.

Times one simulated year (synthesis excluded) at several small and medium populations,
alternating the sizes, and fits time per month = fixed + per household x households by
least squares on the medians. The fixed part (a few hundred numpy, numba and Python calls a
month) is what keeps the time per household-month at 10,000 households above that at a
million (issue 7's scaling target); the script prints it, the per-household part, and the
10,000-household cost they imply relative to the per-household part alone.

It then shows why a call costs more in a run than when timed alone: one of the month's
calls (two rows of earnings normals for 200 households) is timed back to back, and after
sweeping a buffer of a few megabytes, as the month's other steps sweep the households'
arrays between two of its calls. The numbers, code and interpreter state the call touches
are then no longer in the processor's caches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import numpy as np

from povsim import PovertyModel, load_scenario
from povsim.normals import standard_normals

SIZES = (200, 1_000, 3_000, 10_000, 30_000)
SWEEP_MEGABYTES = (0, 1, 2, 4, 8, 16, 32)


def seconds_per_month(households: int, seed: int) -> float:
    """Seconds per month of one simulated year at `households` (synthesis excluded)."""
    scenario = load_scenario(
        None, {"run.household_count": households, "calendar.end_date": dt.date(2022, 12, 31)}
    )
    model = PovertyModel(scenario=scenario, rng=seed)
    started = time.perf_counter()
    model.run()
    return (time.perf_counter() - started) / model.months_elapsed


def seconds_per_call_after_sweep(megabytes: float, calls: int = 300) -> float:
    """Median seconds of one earnings-normals call for 200 households, each after sweeping `megabytes`."""
    rng = np.random.Generator(np.random.SFC64(1))
    buffer = np.zeros(int(megabytes * 2**20) // 8)
    standard_normals(rng, (2, 200), np.float32)
    times = []
    for _ in range(calls):
        buffer += 1.0
        started = time.perf_counter()
        standard_normals(rng, (2, 200), np.float32)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    seconds_per_month(1_000, 0)
    times: dict[int, list[float]] = {n: [] for n in SIZES}
    for seed in range(1, args.repeats + 1):  # sizes alternated, so all see the same machine
        for n in SIZES:
            times[n].append(seconds_per_month(n, seed))
    medians = {n: statistics.median(t) for n, t in times.items()}
    per_household, fixed = np.polyfit(list(medians), list(medians.values()), 1)
    print(f"time per month, one simulated year, median of {args.repeats} (sizes alternated)")
    for n, t in medians.items():
        print(f"   {n:>7,} households: {t * 1e6:8.0f} us a month, {t / n * 1e9:8.1f} ns a household-month")
    print(f"least squares: fixed {fixed * 1e6:.0f} us a month + {per_household * 1e9:.1f} ns a household")
    print(
        f"   fixed cost = the per-household cost of {fixed / per_household:,.0f} households; "
        f"at 10,000 households a household-month costs {1 + fixed / per_household / 10_000:.2f}x "
        "the per-household part"
    )
    print("one call (earnings normals, 200 households), median of 300, after sweeping a buffer")
    warm = seconds_per_call_after_sweep(0)
    for megabytes in SWEEP_MEGABYTES:
        seconds = warm if megabytes == 0 else seconds_per_call_after_sweep(megabytes)
        print(f"   {megabytes:>3} MB swept: {seconds * 1e6:7.1f} us ({seconds / warm:4.1f}x back to back)")


if __name__ == "__main__":
    main()
