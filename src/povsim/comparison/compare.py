"""`povsim compare`: read runs and sweeps, write tables, figures and one report, whole or not at all.

Everything is checked before anything is written (`InputError` on bad input). The tables
are written first; the figures and the report are then drawn from the tables as stored, so
the report can be rebuilt from the comparison folder alone and its numbers are the tables'.
The folder is assembled under a hidden temporary name beside `out` and renamed into place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from povsim.comparison import figures, report
from povsim.comparison.loading import MANIFEST, ScenarioResult, load_inputs, read_json
from povsim.comparison.panel import panel_tables
from povsim.comparison.stored import KIND, TABLES, read_stored
from povsim.comparison.tables import (
    costs,
    differences,
    long_outcomes,
    observed,
    replicate_outcomes,
    scenario_changes,
    spending,
    standard_change,
    standards_by_year,
    summarise,
    switch_year,
)
from povsim.results import git_revision, package_version, replace_folder, write_json
from povsim.scenario import InputError, Problem
from povsim.scenario.errors import problem

DEFAULT_BASELINE = "baseline"
DISTRICT_HOUSEHOLDS = 58_000
PACKAGES = ("povsim", "numpy", "scipy", "pandas", "pyarrow", "matplotlib")


@dataclass
class Comparison:
    """What a comparison wrote.

    Attributes:
        out: the comparison folder.
        labels: the compared scenarios, in the order given.
        baseline: the scenario differences are taken from.
        files: files written, relative to `out`.
        notes: what the reader should know (missing panels, unscaled budgets, ...).
        headlines: one plain-text sentence per scenario, from the tables (as in the report).
        table: the same as a compact table, a line per scenario, for the terminal.
    """

    out: Path
    labels: list[str]
    baseline: str
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headlines: list[str] = field(default_factory=list)
    table: list[str] = field(default_factory=list)


def compare(
    folders: list[Path], out: Path, baseline: str | None = None, command: list[str] | None = None
) -> Comparison:
    """Compare the scenarios stored in run and sweep folders and write the comparison to `out`.

    Args:
        folders: run folders (`povsim run`) and sweep folders (`povsim sweep`).
        out: the comparison folder to write (replaced if it holds an earlier comparison).
        baseline: the scenario to take differences from (a label, scenario name or folder
            name); default: the scenario named "baseline", else the first one given.
        command: the command line, for the manifest.

    Raises:
        InputError: a folder that is missing or not povsim results, an unknown baseline,
            scenarios that cannot be paired, or an `out` that is not ours to replace.
    """
    check_destination(out, folders)
    results = load_inputs(folders)
    chosen, why = choose_baseline(results, baseline)
    check_pairing(results, chosen)
    tables, notes = build_tables(results, chosen)
    notes.insert(0, f"Baseline: '{chosen}' ({why}).")
    manifest = build_manifest(results, chosen, notes, command)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "tables").mkdir(parents=True)
        files = write_tables(staging, tables)
        write_json(staging / MANIFEST, manifest)
        stored = read_stored(staging)
        files += figures.draw_all(stored, staging / "figures")
        files += report.write_report(stored, staging / "report.html")
        files.append(MANIFEST)
        replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Comparison(
        out=out,
        labels=[r.label for r in results],
        baseline=chosen,
        files=sorted(files),
        notes=notes,
        headlines=report.plain_headlines(read_stored(out)),
        table=report.terminal_table(read_stored(out)),
    )


def check_destination(out: Path, folders: list[Path]) -> None:
    """Refuse an `out` that is a file, holds other things, or is (or holds) a compared folder."""
    shown = str(out)
    if out.exists() and not out.is_dir():
        raise InputError([Problem("--out", "", "exists and is not a folder", shown, True)])
    target = out.resolve()
    for folder in folders:
        source = folder.resolve()
        if source == target or target in source.parents:
            raise InputError(
                [
                    Problem(
                        "--out",
                        "",
                        f"would replace the compared folder {folder}; expected a separate output folder",
                        shown,
                        True,
                    )
                ]
            )
    if out.is_dir() and any(out.iterdir()):
        manifest = out / MANIFEST
        kind = None
        if manifest.is_file():
            with contextlib.suppress(InputError):
                kind = read_json(manifest).get("kind")
        if kind != KIND:
            raise InputError(
                [
                    Problem(
                        "--out",
                        "",
                        "is a non-empty folder that does not hold a povsim comparison; "
                        "expected a new folder or an earlier comparison's folder",
                        shown,
                        True,
                    )
                ]
            )


def choose_baseline(results: list[ScenarioResult], name: str | None) -> tuple[str, str]:
    """The baseline's label, and how it was chosen."""
    labels = [r.label for r in results]
    if name is None:
        if DEFAULT_BASELINE in labels:
            return DEFAULT_BASELINE, f"the scenario named '{DEFAULT_BASELINE}'"
        return labels[0], "the first scenario given; choose another with --baseline"
    if name in labels:
        return name, "chosen with --baseline"
    for matches in (
        [r for r in results if r.name == name],
        [r for r in results if r.folder.name == name or str(r.folder) == name],
    ):
        if len(matches) == 1:
            return matches[0].label, "chosen with --baseline"
    raise problem(
        "--baseline",
        "",
        f"names no compared scenario; expected one of: {', '.join(repr(label) for label in labels)}",
        name,
    )


def check_pairing(results: list[ScenarioResult], baseline: str) -> None:
    """Every scenario must share the baseline's random streams and district, replicate by replicate."""
    base = next(r for r in results if r.label == baseline)
    problems = []
    for result in results:
        if result is base:
            continue
        where = str(result.manifest_file)
        run = result.kind == "run"
        if result.master_seed != base.master_seed:
            hint = f"rerun with --seed {base.master_seed}" if run else f"set master_seed = {base.master_seed}"
            problems.append(
                Problem(
                    where,
                    "seeds.master_seed",
                    f"differs from the baseline '{base.label}' ({base.manifest_file}: {base.master_seed}); "
                    "paired differences need replicate r of every scenario to draw the same random "
                    f"streams (common random numbers): expected the same master seed ({hint})",
                    result.master_seed,
                    True,
                )
            )
        else:
            common = sorted(set(result.seeds) & set(base.seeds))
            differing = [r for r in common if result.seeds[r] != base.seeds[r]]
            if differing:
                problems.append(
                    Problem(
                        where,
                        "seeds.replicates",
                        f"replicates {differing[:5]} have other seeds than the baseline's "
                        f"({base.manifest_file}); expected the same stream for each replicate "
                        "(common random numbers)",
                    )
                )
        if result.household_count != base.household_count:
            key = "scenario.run.household_count" if run else "base_scenario.resolved.run.household_count"
            hint = f"rerun with --households {base.household_count}" if run else "set run.household_count"
            problems.append(
                Problem(
                    where,
                    key,
                    f"differs from the baseline '{base.label}' ({base.household_count:,} households); paired "
                    f"differences need the same synthetic district: expected the same count ({hint})",
                    result.household_count,
                    True,
                )
            )
        if not set(result.replicates) & set(base.replicates):
            problems.append(
                Problem(where, "seeds.replicates", "has no replicate in common with the baseline's")
            )
        if not set(result.years) & set(base.years):
            problems.append(
                Problem(where, "scenario.calendar", "has no review year in common with the baseline's")
            )
    if problems:
        raise InputError(problems)


def build_tables(results: list[ScenarioResult], baseline: str) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Every table of the comparison, and the notes the reader needs."""
    notes: list[str] = []
    for result in results:
        notes.extend(result.notes)
    wide = {r.label: replicate_outcomes(r) for r in results}
    common_years = sorted(set.intersection(*(set(r.years) for r in results)))
    horizon = common_years[-1]
    if any(r.years[-1] != horizon for r in results):
        notes.append(
            "The scenarios' calendars differ: differences and costs use the common reviews "
            f"up to end-{horizon}."
        )
    base = next(r for r in results if r.label == baseline)
    for result in results:
        if result is base:
            continue
        pairs = sorted(set(result.replicates) & set(base.replicates))
        if len(pairs) < max(len(result.replicates), len(base.replicates)):
            notes.append(
                f"'{result.label}' and the baseline share {len(pairs)} replicates; differences use those."
            )
    if len({r.measure for r in results}) > 1:
        notes.append(
            f"The scenarios target different measures; the report uses the baseline's ({base.measure})."
        )
    small = sorted({r.household_count for r in results if r.household_count != DISTRICT_HOUSEHOLDS})
    if small:
        notes.append(
            f"These runs simulate {', '.join(f'{n:,}' for n in small)} households, not the district's "
            f"{DISTRICT_HOUSEHOLDS:,}: instrument budgets are scaled to the simulated share of the "
            "district, and spending in the ledger is for the simulated households; with few households "
            "an instrument pays whole units only, so small budgets are rounded down."
        )
    standards = {(r.label, y): s for r in results for y, s in standards_by_year(r).items()}
    long = long_outcomes(wide)
    tables: dict[str, pd.DataFrame] = {
        "scenarios": scenario_table(results, baseline),
        "observed": observed(results),
        "outcomes": summarise(long, standards),
        "differences": differences(wide, baseline, common_years),
        "spending": spending(results, horizon),
        "costs": costs(results, wide, baseline, horizon),
        "standard_change": standard_change(results, wide),
        "scenario_changes": scenario_changes(results, baseline),
        "replicates": long,
    }
    for result in results:
        if result is not base and switch_year(result) != switch_year(base):
            notes.append(
                f"'{result.label}' does not change standard when the baseline does: from that review on, its "
                "differences from the baseline (and the households it 'keeps out of poverty') include the "
                "change of yardstick, not only a change in the households."
            )
        if switch_year(result) is None:
            notes.append(
                f"'{result.label}' keeps one standard throughout: no change of standard to decompose."
            )
        elif not any(c.endswith("_under_decree_07") for c in wide[result.label].columns):
            notes.append(
                f"'{result.label}' was run before reviews recorded the rates under both standards "
                "(poor_rate_under_decree_07, ...): rerun it to decompose the change of standard."
            )
    panels = [r for r in results if r.panel is not None]
    missing = [r.label for r in results if r.panel is None]
    if missing:
        notes.append(
            "No household panel (households.parquet; `povsim run --household-panel`) for "
            + ", ".join(f"'{m}'" for m in missing)
            + ": the relapse hazard by years since escape, who relapses and the commune figures "
            + ("leave them out." if panels else "are not drawn.")
        )
    if panels:
        parts = [panel_tables(r, base.measure, switch_year(r)) for r in panels]
        tables["hazard"] = pd.concat([p[0] for p in parts], ignore_index=True)
        tables["who_relapses"] = pd.concat([p[1] for p in parts], ignore_index=True)
        tables["communes"] = pd.concat([p[2] for p in parts], ignore_index=True)
    return tables, notes


def scenario_table(results: list[ScenarioResult], baseline: str) -> pd.DataFrame:
    """One row per compared scenario: where it comes from and what it holds."""
    rows = []
    for result in results:
        manifest = result.manifest
        rows.append(
            {
                "scenario": result.label,
                "name": result.name,
                "baseline": result.label == baseline,
                "kind": result.kind,
                "folder": str(result.folder),
                "point": result.point if result.point is not None else "",
                "households": result.household_count,
                "replicates": len(result.replicates),
                "first_year": result.years[0],
                "last_year": result.years[-1],
                "master_seed": result.master_seed,
                "measure": result.measure,
                "posterior": result.posterior,
                "switch_year": switch_year(result) or "",
                "panel": result.panel is not None,
                "ledger": result.ledger is not None,
                "scenario_sha256": manifest.get("scenario_hash_sha256")
                or manifest.get("base_scenario", {}).get("sha256", ""),
                "created_utc": manifest.get("created_utc", ""),
                "description": result.description,
            }
        )
    return pd.DataFrame(rows)


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Write each table as CSV (replicate-level values as Parquet) under `tables/`."""
    files = []
    for name, frame in tables.items():
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r}")
        if name == "replicates":
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / TABLES[name])
        else:
            frame.to_csv(folder / TABLES[name], index=False)
        files.append(TABLES[name])
    return files


def build_manifest(
    results: list[ScenarioResult], baseline: str, notes: list[str], command: list[str] | None
) -> dict[str, Any]:
    """manifest.json: what was compared (every input's own manifest), with which software, and notes."""
    folders: dict[str, dict[str, Any]] = {}
    for result in results:
        entry = folders.setdefault(
            str(result.folder),
            {
                "folder": str(result.folder),
                "kind": "sweep" if result.kind == "sweep point" else "run",
                "manifest_file": str(result.manifest_file),
                "scenario_file": result.scenario_file,
                "scenario_text": result.scenario_text,
                "scenarios": [],
                "manifest": result.manifest,
            },
        )
        entry["scenarios"].append(result.label)
    return {
        "kind": KIND,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "baseline": baseline,
        "scenarios": [
            {
                "label": r.label,
                "name": r.name,
                "folder": str(r.folder),
                "point": r.point,
                "description": r.description,
            }
            for r in results
        ],
        "inputs": list(folders.values()),
        "notes": notes,
        "software": {
            "python": sys.version.split()[0],
            **{name: package_version(name) for name in PACKAGES},
        },
        "git_revision": git_revision(),
    }
