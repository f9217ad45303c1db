"""Do two versions of the model give the same statistics? Review figures of many replicates.

An optimisation that changes random draws must not change results beyond replicate noise.
`run` writes the review figures of replicates 0..K-1 of the baseline and `calibrated`
scenarios (58,000 households) under the povsim on the path (point `PYTHONPATH` at each
version's `src`; `--scenarios` at one version's `scenarios/`, so both share a posterior).
`compare` sets two such files side by side for the end-2024, 2027 and 2030 reviews: means,
standard deviations, the difference over its standard error, Welch, paired (same seeds)
and Levene (spread) tests, as a Markdown table.

Usage:
  PYTHONPATH=OLD/src uv run python benchmarks/replicate_check.py run old.json --scenarios OLD/scenarios
  PYTHONPATH=NEW/src uv run python benchmarks/replicate_check.py run new.json --scenarios OLD/scenarios
  uv run python benchmarks/replicate_check.py compare old.json new.json
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
from scipy import stats

SCENARIOS = ("baseline", "calibrated")
OUTCOMES = (
    ("poor_rate", "poor", 100),
    ("poor_or_near_poor_rate", "poor + near-poor", 100),
    ("relapsed", "relapses", 1),
)


def review_figures(scenarios_dir: str, job: tuple[str, int]) -> list[dict]:
    from povsim import load_scenario
    from povsim.runner import run_one

    name, replicate = job
    scenario = load_scenario(f"{scenarios_dir}/{name}.toml", {"run.household_count": 58_000})
    result = run_one(scenario, replicate)
    return [
        {"scenario": name, "replicate": replicate, "year": r["year"], **{k: r[k] for k, _, _ in OUTCOMES}}
        for r in result.reviews
    ]


def run(out: str, scenarios_dir: str, replicates: int, workers: int) -> None:
    started = time.perf_counter()
    jobs = [(name, r) for name in SCENARIOS for r in range(replicates)]
    with ProcessPoolExecutor(workers) as pool:
        rows = [row for rows in pool.map(partial(review_figures, scenarios_dir), jobs) for row in rows]
    with open(out, "w") as f:
        json.dump(rows, f)
    print(f"{len(jobs)} runs in {time.perf_counter() - started:.0f} s -> {out}")


def compare(old_path: str, new_path: str) -> None:
    def load(path: str) -> dict:
        with open(path) as f:
            return {(r["scenario"], r["year"], r["replicate"]): r for r in json.load(f)}

    old, new = load(old_path), load(new_path)
    replicates = sorted({k[2] for k in old} & {k[2] for k in new})
    columns = ("scenario, review", "outcome", "old mean (sd)", "new mean (sd)", "difference / its se")
    print("| " + " | ".join((*columns, "Welch p", "paired p", "Levene p")) + " |")
    print("|---" * 8 + "|")
    for name in SCENARIOS:
        for year in (2024, 2027, 2030):
            for key, label, scale in OUTCOMES:
                a = np.array([old[(name, year, r)][key] for r in replicates]) * scale
                b = np.array([new[(name, year, r)][key] for r in replicates]) * scale
                se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
                z = (b.mean() - a.mean()) / se
                welch = stats.ttest_ind(a, b, equal_var=False).pvalue
                paired = stats.ttest_rel(a, b).pvalue
                levene = stats.levene(a, b).pvalue
                unit, digits = (" %", 2) if scale == 100 else ("", 0)
                print(
                    f"| {name} {year} | {label} | {a.mean():.{digits}f}{unit} ({a.std(ddof=1):.{digits}f}) "
                    f"| {b.mean():.{digits}f}{unit} ({b.std(ddof=1):.{digits}f}) | {z:+.2f} | {welch:.2f} "
                    f"| {paired:.2f} | {levene:.2f} |"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("out")
    p_run.add_argument("--scenarios", default="scenarios")
    p_run.add_argument("--replicates", type=int, default=60)
    p_run.add_argument("--workers", type=int, default=2)
    p_cmp = sub.add_parser("compare")
    p_cmp.add_argument("old")
    p_cmp.add_argument("new")
    args = parser.parse_args()
    if args.command == "run":
        run(args.out, args.scenarios, args.replicates, args.workers)
    else:
        compare(args.old, args.new)


if __name__ == "__main__":
    main()
