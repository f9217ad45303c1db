"""Measure what the sweep machinery costs, what two workers gain, and the driver's memory.

Every figure is a ratio of two timings taken in the same invocation, so a busy machine
slows both sides alike:

1. Overhead per run, in this process: the same (point, replicate) runs done by a bare loop
   of `run_one` and by `run_sweep(workers=1)` (scenario per point, outcome extraction,
   stored records, Parquet batches, manifest). Alternated, median of `--repeats`.
2. Speed-up: the same sweep of longer runs with 1 worker (in this process) and with a
   2-process pool, alternated, median of `--repeats`. The pool's fork server is started
   once beforehand (its one-off cost, mostly importing the model, is printed apart).
3. Driver memory: peak Python allocations in the sweeping process (tracemalloc) for a
   sweep of N and of 4N tiny runs on the process pool.

Usage: uv run python benchmarks/bench_sweep.py [--repeats K] [--small-households N]
       [--large-households N] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from povsim.experiments import load_experiment, run_sweep
from povsim.runner import run_one

ROOT = Path(__file__).resolve().parent.parent

EXPERIMENT = """
name = "bench"
scenario = "{scenario}"
master_seed = 11
replicates = {replicates}

[overrides]
run.household_count = {households}
calendar.end_date = {end}

[design]
method = "grid"

[parameters.growth]
path = "economy.nominal_income_growth_per_year"
levels = {levels}

[outcomes]
poor_or_near_poor = "reviews.{year}.poor_or_near_poor_rate"
poor = "reviews.{year}.poor_rate"
measure = "reviews.{year}.measure_rate"
relapsed = "review:2022-{year}:relapsed"
loans_vnd = "ledger.preferential_loans.total.vnd"
"""


def experiment(folder: Path, name: str, households: int, replicates: int, points: int, year: int = 2030):
    levels = [round(0.04 + 0.02 * i, 4) for i in range(points)]
    text = EXPERIMENT.format(
        scenario=(ROOT / "scenarios" / "baseline.toml").as_posix(),
        replicates=replicates,
        households=households,
        end=f"{year}-12-31",
        levels=levels,
        year=year,
    )
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return load_experiment(path)


def bare(exp) -> float:
    """The same runs as the sweep, by a loop of run_one: wall seconds."""
    scenarios = [exp.point_scenario(p) for p in range(len(exp.design.points))]
    started = time.perf_counter()
    for r in range(exp.replicates):
        for scenario in scenarios:
            run_one(scenario, r)
    return time.perf_counter() - started


INSIDE_RUN_ONE = [0.0]


def timed_run_one(scenario, replicate):
    """run_one, adding the time spent inside it to INSIDE_RUN_ONE (in-process sweeps only)."""
    started = time.perf_counter()
    try:
        return run_one(scenario, replicate)
    finally:
        INSIDE_RUN_ONE[0] += time.perf_counter() - started


def swept(exp, folder: Path, workers: int, timed: bool = False) -> tuple[float, float]:
    """The sweep's run phase and its whole call (with setup and analysis): wall seconds."""
    out = Path(tempfile.mkdtemp(dir=folder)) / "out"
    started = time.perf_counter()
    report = run_sweep(
        exp, out, workers=workers, figures=False, run_function=timed_run_one if timed else run_one
    )
    whole = time.perf_counter() - started
    assert report.executed == exp.run_count
    assert report.failed == 0
    return report.seconds, whole


def overhead(folder: Path, households: int, repeats: int) -> None:
    exp = experiment(folder, "small", households, replicates=6, points=4)
    n = exp.run_count
    bare(exp)  # warm caches and lazy imports
    loops, runs, wholes, outside = [], [], [], []
    for _ in range(repeats):
        loops.append(bare(exp))
        INSIDE_RUN_ONE[0] = 0.0
        phase, whole = swept(exp, folder, workers=1, timed=True)
        outside.append(phase - INSIDE_RUN_ONE[0])
        runs.append(phase)
        wholes.append(whole)
    loop, run, whole, machinery = (statistics.median(x) for x in (loops, runs, wholes, outside))
    per_run = loop / n
    print(f"1. overhead per run ({households:,} households, 2022-2030, {n} runs, median of {repeats})")
    print(f"   bare run_one loop:   {1000 * per_run:8.1f} ms per run")
    print(f"   sweep, run phase:    {1000 * run / n:8.1f} ms per run")
    print(
        f"   machinery (run phase minus time inside run_one): {1000 * machinery / n:.2f} ms per run "
        f"= {100 * machinery / loop:.1f} % of a run"
    )
    print(
        f"   cross-check, sweep minus bare loop: {100 * (run - loop) / loop:+.1f} % (with run-to-run noise)"
    )
    print(
        f"   whole call with setup and analysis: {whole:.2f} s vs {loop:.2f} s "
        f"({100 * (whole - loop) / loop:.1f} % more; setup and analysis are once per sweep)"
    )


def speedup(folder: Path, households: int, repeats: int) -> None:
    exp = experiment(folder, "large", households, replicates=8, points=3)
    n = exp.run_count
    warm = experiment(folder, "warm", 500, replicates=2, points=2, year=2022)
    started = time.perf_counter()
    swept(warm, folder, workers=2)
    print(f"2. speed-up; fork server start (once per sweep command): {time.perf_counter() - started:.1f} s")
    ones, twos, ones_whole, twos_whole = [], [], [], []
    for _ in range(repeats):
        phase, whole = swept(exp, folder, workers=1)
        ones.append(phase)
        ones_whole.append(whole)
        phase, whole = swept(exp, folder, workers=2)
        twos.append(phase)
        twos_whole.append(whole)
    one, two = statistics.median(ones), statistics.median(twos)
    print(f"   {n} runs of {households:,} households, 2022-2030, median of {repeats}")
    print(f"   1 worker:  {one:6.1f} s ({one / n:.2f} s per run)")
    print(f"   2 workers: {two:6.1f} s")
    whole = statistics.median(ones_whole) / statistics.median(twos_whole)
    print(f"   speed-up:  {one / two:.2f}x (whole calls, with setup and analysis: {whole:.2f}x)")


def memory(folder: Path, runs: int) -> None:
    print("3. driver memory (tracemalloc peak in the sweeping process, 2-process pool)")
    for count in (runs, 4 * runs):
        exp = experiment(folder, f"mem{count}", 500, replicates=count // 4, points=4, year=2022)
        tracemalloc.start()
        swept(exp, folder, workers=2)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"   {count:5d} runs: peak {peak / 2**20:6.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--small-households", type=int, default=2_000)
    parser.add_argument("--large-households", type=int, default=20_000)
    parser.add_argument("--memory-runs", type=int, default=100)
    parser.add_argument(
        "--quick", action="store_true", help="one repeat, smaller runs (a check, not a measurement)"
    )
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.large_households, args.memory_runs = 1, 5_000, 40
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        overhead(folder, args.small_households, args.repeats)
        speedup(folder, args.large_households, args.repeats)
        memory(folder, args.memory_runs)


if __name__ == "__main__":
    main()
