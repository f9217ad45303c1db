"""Writing a run's outputs: tables, summary, manifest and figures, whole or not at all.

Everything is written into a hidden temporary folder beside the destination, which is then
renamed into place. A run that fails or is killed leaves the previous results (if any)
untouched and no half-written folder under the destination's name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from povsim import plots
from povsim.metrics import compare_to_seed, summarize_ledger, summarize_reviews
from povsim.posterior import load_posterior
from povsim.runner import RunResult
from povsim.scenario import InputError, Problem, Scenario, scenario_hash

MANIFEST = "manifest.json"
LEDGER_SCHEMA = pa.schema(
    [
        ("replicate", pa.int64()),
        ("instrument", pa.string()),
        ("year", pa.int64()),
        ("units", pa.int64()),
        ("unit", pa.string()),
        ("vnd", pa.float64()),
        ("budget_vnd", pa.float64()),
    ]
)
PACKAGES = ("povsim", "mesa", "numpy", "scipy", "pydantic", "pyarrow", "matplotlib")


def check_destination(out: Path) -> None:
    """Refuse, before any work, a destination that is not ours to replace or cannot be made."""
    if out.exists() and not out.is_dir():
        raise InputError([Problem("--out", "", "exists and is not a folder", str(out), True)])
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise InputError(
            [
                Problem(
                    "--out",
                    "",
                    "is a non-empty folder that does not hold povsim results; "
                    "expected a new folder or an earlier run's output folder",
                    str(out),
                    True,
                )
            ]
        )


def write_run_outputs(
    out: Path,
    scenario: Scenario,
    results: list[RunResult],
    run_info: dict[str, Any],
) -> dict[str, Any]:
    """Write the contract outputs of a run into `out` atomically and return the summary."""
    reviews = [{"replicate": r.replicate, **row} for r in results for row in r.reviews]
    monthly = [{"replicate": r.replicate, **row} for r in results for row in r.monthly]
    ledger = [{"replicate": r.replicate, **row} for r in results for row in r.ledger]
    summary = build_summary(scenario, reviews, ledger)
    manifest = build_manifest(scenario, results, run_info)

    out.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_folders(out)
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "figures").mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(reviews), staging / "reviews.parquet")
        pq.write_table(pa.Table.from_pylist(monthly), staging / "monthly.parquet")
        pq.write_table(pa.Table.from_pylist(ledger, schema=LEDGER_SCHEMA), staging / "ledger.parquet")
        if results and results[0].households is not None:
            write_household_panel(staging / "households.parquet", results)
        write_json(staging / "summary.json", summary)
        plots.poverty_path(
            summary["reviews"],
            staging / "figures" / "poverty_path.png",
            title=(
                f"Son Duong district, scenario '{scenario.name}': "
                f"{scenario.run.household_count:,} households, {len(results)} replicates"
            ),
            observed={int(y): v for y, v in summary["observed_measure_rate"].items()},
            switch_year=scenario.standards.decree_351_first_review_date.year,
        )
        write_json(staging / MANIFEST, manifest)
        replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def write_household_panel(path: Path, results: list[RunResult]) -> None:
    """households.parquet: one row per replicate and household, one row group per replicate."""
    writer = None
    try:
        for result in results:
            columns = {"replicate": np.full(len(result.households["household"]), result.replicate, np.int32)}
            table = pa.table({**columns, **result.households})
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def remove_abandoned_folders(out: Path) -> None:
    """Delete staging folders left by runs into `out` that were killed (their process is gone)."""
    for folder in out.parent.glob(f".{out.name}.*-*"):
        kind, _, pid = folder.name.rpartition("-")
        if not (kind.endswith((".tmp", ".old")) and pid.isdigit()) or process_alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def build_summary(
    scenario: Scenario, reviews: list[dict[str, Any]], ledger: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """summary.json: per review year, rates and transitions with replicate intervals; spending."""
    measure = scenario.targets.measure
    ledger_summary = summarize_ledger(ledger or [])
    return {
        "scenario": scenario.name,
        "measure": measure,
        "replicates": len({r["replicate"] for r in reviews}),
        "households": scenario.run.household_count,
        "observed_measure_rate": {
            "2021": scenario.targets.initial_rate_share,
            "2024": scenario.targets.observed_2024_rate_share,
        },
        "reviews": summarize_reviews(reviews, measure),
        "ledger": ledger_summary,
        "program_volumes_vs_seed": compare_to_seed(ledger_summary, scenario.district_scale),
    }


def build_manifest(scenario: Scenario, results: list[RunResult], run_info: dict[str, Any]) -> dict[str, Any]:
    """manifest.json: what was run, with which seeds and software, and how long it took."""
    return {
        "povsim_version": package_version("povsim"),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scenario_name": scenario.name,
        "scenario_hash_sha256": scenario_hash(scenario),
        "scenario": scenario.model_dump(mode="json"),
        **run_info,
        "seeds": {
            "master_seed": scenario.run.master_seed,
            "scheme": "numpy SeedSequence(master_seed, spawn_key=(replicate,))",
            "replicates": [
                {
                    "replicate": r.replicate,
                    "entropy": r.seed_entropy,
                    "spawn_key": list(r.spawn_key),
                    **(
                        {
                            "posterior_particle": r.posterior_particle,
                            "posterior_parameters": r.posterior_parameters,
                        }
                        if r.posterior_particle is not None
                        else {}
                    ),
                }
                for r in results
            ],
        },
        **(
            {"posterior": load_posterior(scenario.posterior.file).describe()}
            if scenario.posterior.file
            else {}
        ),
        "timings_seconds": {
            "replicates": [round(r.seconds, 4) for r in results],
            "replicates_total": round(sum(r.seconds for r in results), 4),
        },
        "software": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            **{name: package_version(name) for name in PACKAGES},
        },
        "git_revision": git_revision(),
    }


def write_json(path: Path, data: Any) -> None:
    """Write JSON strictly (no NaN), indented for reading."""
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def git_revision() -> str | None:
    """The commit of the povsim source tree, if it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def package_version(package: str) -> str | None:
    """The installed version of a package, or None."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def replace_folder(staging: Path, out: Path) -> None:
    """Move a finished folder into place, replacing an earlier one (restored if the move fails)."""
    if not out.exists():
        staging.rename(out)
        return
    retired = out.parent / f".{out.name}.old-{os.getpid()}"
    out.rename(retired)
    try:
        staging.rename(out)
    except BaseException:
        with contextlib.suppress(OSError):
            retired.rename(out)
        raise
    shutil.rmtree(retired, ignore_errors=True)
