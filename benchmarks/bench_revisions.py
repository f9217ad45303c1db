"""This working tree against an earlier revision, both run at the same time, one on each core.

On a shared machine the speed of a core drifts by tens of percent over minutes, so two
versions timed one after the other can differ by more than any change between them. Here
the two run simultaneously, each pinned to its own core, so that both see the same spell of
the machine; the cores are swapped every round. Each run is a complete model run (synthesis,
every month to the last review); with several sizes, each worker runs them in turn within
every repeat, so that the two workers do the same work at the same time (two virtual cores
may share one physical core, and then each run slows the other). The script prints each
round's medians and the median ratio of this tree's times to the revision's, with the range
over rounds: a round whose ratio stands apart from the others was disturbed.

The revision's `src/` is taken with `git archive` into a temporary folder; both versions use
this project's environment (so a revision needing other packages cannot be compared).

Usage: uv run python benchmarks/bench_revisions.py REV [--households 58000] [--rounds 4] [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(households: list[int], repeats: int) -> dict[str, dict[str, list[float]]]:
    """Seconds of whole runs and of their monthly steps, per size, after a warm-up (worker side)."""
    from povsim import PovertyModel, load_scenario
    from povsim.model import replicate_seed

    scenarios = {count: load_scenario(None, {"run.household_count": count}) for count in households}
    times = {str(count): {"run": [], "steps": []} for count in households}
    # Sizes in turn within each repeat, so that two workers started together stay in step.
    for seed in range(repeats + 1):
        for count, scenario in scenarios.items():
            started = time.perf_counter()
            model = PovertyModel(scenario=scenario, rng=replicate_seed(seed, 0))
            built = time.perf_counter()
            model.run()
            ended = time.perf_counter()
            if seed:  # the first repeat warms up (and compiles, for a fresh copy)
                times[str(count)]["run"].append(ended - started)
                times[str(count)]["steps"].append(ended - built)
    return times


def export_sources(revision: str, into: Path) -> Path:
    """The revision's `src/` folder, extracted under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "src"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        sys.exit(f"bench_revisions: cannot export {revision!r}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def start_worker(sources: Path, core: int | None, households: list[int], repeats: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(sources))
    command = [sys.executable, __file__, "--worker", "--households", ",".join(map(str, households))]
    command += ["--repeats", str(repeats)]
    pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, preexec_fn=pin)


def collect(worker: subprocess.Popen) -> dict[str, dict[str, list[float]]]:
    out, _ = worker.communicate()
    if worker.returncode != 0:
        sys.exit(f"bench_revisions: a worker failed (exit {worker.returncode})")
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", nargs="?", help="git revision to compare with, e.g. HEAD~3")
    parser.add_argument("--households", default="58000", help="comma-separated sizes")
    parser.add_argument("--rounds", type=int, default=4, help="rounds; the core order alternates")
    parser.add_argument("--repeats", type=int, default=5, help="runs per size and version in a round")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    households = [int(size) for size in args.households.split(",")]
    if args.worker:
        print(json.dumps(measure(households, args.repeats)))
        return
    if args.revision is None:
        parser.error("a revision to compare with is required")

    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    with tempfile.TemporaryDirectory(prefix="povsim-revision-") as folder:
        versions = {"this tree": ROOT / "src", args.revision: export_sources(args.revision, Path(folder))}
        results: dict[str, list[dict[str, dict[str, list[float]]]]] = {name: [] for name in versions}
        layouts = [
            run_round(versions, results, cores, k % 2 == 1, households, args.repeats)
            for k in range(args.rounds)
        ]
    report(results, layouts, households, args.repeats)


def run_round(
    versions: dict[str, Path], results, cores: list[int], swapped: bool, households, repeats
) -> str:
    """One round: both versions side by side, one a core (or in turn on one core); its layout."""
    names = list(versions)[::-1] if swapped else list(versions)
    if len(cores) < 2:
        for name in names:
            results[name].append(collect(start_worker(versions[name], None, households, repeats)))
        return "one after the other"
    workers = {
        name: start_worker(versions[name], core, households, repeats)
        for name, core in zip(names, cores[:2], strict=True)
    }
    for name, worker in workers.items():
        results[name].append(collect(worker))
    return f"this tree on core {cores[names.index(next(iter(versions)))]}"


def report(results, layouts: list[str], households: list[int], repeats: int) -> None:
    this_rounds, other_rounds = results.values()
    other = list(results)[1]
    print(
        f"this tree against {other}: {len(layouts)} rounds of {repeats} runs a size and version, "
        "the two versions at the same time, one a core, the cores swapped each round"
    )
    for count in households:
        key = str(count)
        print(f"{count:,} households, full calendar (medians, seconds)")
        print(f"   {'':27s} {'this tree':>17s} {other:>17s} {'ratio':>16s}")
        print(f"   round  {'layout':19s}" + " ".join(f"{part:>8s}" for part in ("run", "steps") * 3))
        ratios: dict[str, list[float]] = {"run": [], "steps": []}
        for k, (layout, ours, theirs) in enumerate(zip(layouts, this_rounds, other_rounds, strict=True), 1):
            mine = {part: statistics.median(ours[key][part]) for part in ratios}
            base = {part: statistics.median(theirs[key][part]) for part in ratios}
            for part in ratios:
                ratios[part].append(mine[part] / base[part])
            print(
                f"   {k:5d}  {layout:19s} {mine['run']:8.3f} {mine['steps']:8.3f} "
                f"{base['run']:8.3f} {base['steps']:8.3f} {mine['run'] / base['run']:8.2f} "
                f"{mine['steps'] / base['steps']:7.2f}"
            )
        print(
            f"   median ratio, this tree / {other}: whole run {statistics.median(ratios['run']):.2f} "
            f"(rounds {min(ratios['run']):.2f}-{max(ratios['run']):.2f}), monthly steps "
            f"{statistics.median(ratios['steps']):.2f} "
            f"(rounds {min(ratios['steps']):.2f}-{max(ratios['steps']):.2f})"
        )


if __name__ == "__main__":
    main()
