"""This working tree against an earlier revision: before-and-after figures a noisy machine does not blur.

On a shared machine the speed of a core drifts by tens of percent over minutes, so two
versions timed one after the other can differ by more than any change between them. Two
ways around it:

- Paired, the default: both versions are imported into one process and their runs
  alternate, seed by seed (the order swapped at every seed), so that each pair of runs
  sees the same spell of the machine. The revision's package is imported under another
  name (`povsim_revision`; the word `povsim` is renamed in its Python sources). The script
  prints each version's median time per month (of the monthly steps, and of the whole run
  with the model's construction) and the medians of the paired ratios, with their
  quartiles: a change of a few percent shows in the ratio long before it shows in the
  medians.
- `--parallel`: the two run at the same time, each pinned to its own core, the cores
  swapped every round. With several sizes, each worker runs them in turn within every
  repeat, so that the two workers do the same work at the same time (two virtual cores may
  share one physical core, and then each run slows the other). The script prints each
  round's medians and the median ratio, with the range over rounds: a round whose ratio
  stands apart from the others was disturbed.

Each run is a complete model run (synthesis, every month to the last review), or with
`--years` only the first years. The revision's `src/` is taken with `git archive` into a
temporary folder; both versions use this project's environment (so a revision needing
other packages cannot be compared).

Usage: uv run python benchmarks/bench_revisions.py REV [--households 58000] [--pairs 20] [--years N]
       uv run python benchmarks/bench_revisions.py REV --parallel [--rounds 4] [--repeats 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REVISION_PACKAGE = "povsim_revision"


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


def paired(revision: str, households: list[int], pairs: int, years: int | None) -> None:
    """Both versions in this process, their runs alternated seed by seed; print the paired ratios."""
    with tempfile.TemporaryDirectory(prefix="povsim-revision-") as folder:
        sources = export_sources(revision, Path(folder))
        rename_package(sources)
        sys.path.insert(0, str(sources))
        versions = {
            "this tree": importlib.import_module("povsim"),
            revision: importlib.import_module(REVISION_PACKAGE),
        }
        span = "full calendar" if years is None else f"{years} simulated year{'s' * (years > 1)}"
        print(f"this tree against {revision}: {pairs} pairs of runs a size, in one process, alternated")
        for count in households:
            print(f"{count:,} households, {span} (time per simulated month)")
            runs = {name: model_runs(package, count, years) for name, package in versions.items()}
            for run in runs.values():  # warm-up (and compiling, for a fresh copy)
                run(0)
            times: dict[str, dict[str, list[float]]] = {name: {"run": [], "steps": []} for name in versions}
            for seed in range(1, pairs + 1):
                for name in list(versions)[:: 1 if seed % 2 else -1]:
                    whole, steps = runs[name](seed)
                    times[name]["run"].append(whole)
                    times[name]["steps"].append(steps)
            for name, parts in times.items():
                print(
                    f"   {name:>17s}: median {statistics.median(parts['steps']) * 1e6:9.0f} us a month "
                    f"(steps), {statistics.median(parts['run']) * 1e6:9.0f} (whole run)"
                )
            ours, theirs = times.values()
            for part, label in (("steps", "monthly steps"), ("run", "whole run")):
                ratios = [a / b for a, b in zip(ours[part], theirs[part], strict=True)]
                differences = [(a - b) * 1e6 for a, b in zip(ours[part], theirs[part], strict=True)]
                low, _, high = statistics.quantiles(ratios, n=4)
                print(
                    f"   paired ratio, this tree / {revision}, {label}: median "
                    f"{statistics.median(ratios):.3f} (quartiles {low:.3f}-{high:.3f}); "
                    f"median difference {statistics.median(differences):+.1f} us a month"
                )


def rename_package(sources: Path) -> None:
    """Rename the exported `povsim` package to `REVISION_PACKAGE`, so that both can be imported."""
    package = sources / REVISION_PACKAGE
    (sources / "povsim").rename(package)
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"\bpovsim\b", REVISION_PACKAGE, text), encoding="utf-8")


def model_runs(package, households: int, years: int | None):
    """A function of a seed: seconds per month of one run with `package`, whole and of its steps."""
    overrides: dict[str, object] = {"run.household_count": households}
    if years is not None:
        overrides["calendar.end_date"] = dt.date(2021 + years, 12, 31)
    scenario = package.load_scenario(None, overrides)

    def run(seed: int) -> tuple[float, float]:
        started = time.perf_counter()
        model = package.PovertyModel(scenario=scenario, rng=seed)
        built = time.perf_counter()
        model.run()
        ended = time.perf_counter()
        return (ended - started) / model.months_elapsed, (ended - built) / model.months_elapsed

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", nargs="?", help="git revision to compare with, e.g. HEAD~3")
    parser.add_argument("--households", default="58000", help="comma-separated sizes")
    parser.add_argument("--pairs", type=int, default=20, help="paired runs per size")
    parser.add_argument("--years", type=int, help="simulate the first years only (default: all)")
    parser.add_argument("--parallel", action="store_true", help="both at once, one a core, in rounds")
    parser.add_argument("--rounds", type=int, default=4, help="--parallel: rounds (cores swapped)")
    parser.add_argument("--repeats", type=int, default=5, help="--parallel: runs a size and version a round")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    households = [int(size) for size in args.households.split(",")]
    if args.worker:
        print(json.dumps(measure(households, args.repeats)))
        return
    if args.revision is None:
        parser.error("a revision to compare with is required")
    if not args.parallel:
        paired(args.revision, households, args.pairs, args.years)
        return

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
