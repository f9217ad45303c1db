"""Reading what `povsim compare` compares: run folders and sweep folders.

A run folder (`povsim run`) holds `manifest.json`, `reviews.parquet`, `ledger.parquet` and,
with `--household-panel`, `households.parquet`. A sweep folder (`povsim sweep`) holds a
manifest of kind `povsim-sweep` and batches of runs, each run with its review rows and ledger
as JSON; every design point becomes one scenario (no household panel). Everything is read
and checked before the comparison writes anything: a problem is an `InputError` naming the
file or folder, the key or column, and what was expected.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from povsim.scenario import InputError, Problem
from povsim.scenario.errors import problem
from povsim.scenario.loading import set_dotted

MANIFEST = "manifest.json"
REVIEWS = "reviews.parquet"
LEDGER = "ledger.parquet"
PANEL = "households.parquet"
SWEEP_KIND = "povsim-sweep"
RUN_HINT = (
    "expected a folder written by `povsim run` (manifest.json, reviews.parquet, ledger.parquet) "
    "or by `povsim sweep`"
)
REQUIRED_REVIEW_COLUMNS = (
    "replicate",
    "year",
    "standard",
    "household_count",
    "poor_rate",
    "near_poor_rate",
    "poor_or_near_poor_rate",
    "escaped",
    "relapsed",
    "newly_poor",
)
REQUIRED_LEDGER_COLUMNS = ("replicate", "instrument", "year", "units", "vnd")
PANEL_COLUMNS = (
    "replicate",
    "commune",
    "ethnic_minority",
    "remote",
    "escape_year",
    "relapse_count",
    "illness_count",
    "worker_loss_count",
    "job_loss_count",
    "herd_disease_count",
    "disaster_hit_count",
)
PANEL_SUPPORT_PREFIX = "support_vnd_"
MAX_SCENARIOS = 24


@dataclass
class ScenarioResult:
    """One scenario's stored results, as the comparison reads them.

    Attributes:
        label: the unique name shown in figures, tables and the report.
        name: the scenario's own name (from its manifest).
        folder: the run or sweep folder it was read from.
        kind: "run" or "sweep point".
        description: what question the scenario answers.
        scenario: the fully resolved scenario (as stored in the manifest).
        master_seed: the master seed its replicates were spawned from.
        household_count: simulated households.
        seeds: replicate -> (entropy, spawn key) of its random stream.
        reviews: one row per replicate and review (the columns of reviews.parquet).
        ledger: one row per replicate, instrument and year, or None if the folder has none.
        panel: households.parquet, if the run wrote one.
        manifest: the manifest the run or sweep wrote.
        manifest_file: where it is.
        scenario_file: the scenario or experiment file named in the manifest.
        scenario_text: that file's text as on disk now, if it can be read.
        point: the design point, for a sweep point.
        notes: what the comparison should tell the reader about this input (e.g. no ledger).
    """

    label: str
    name: str
    folder: Path
    kind: str
    description: str
    scenario: dict[str, Any]
    master_seed: int
    household_count: int
    seeds: dict[int, tuple[str, tuple[int, ...]]]
    reviews: pd.DataFrame
    ledger: pd.DataFrame | None
    panel: Path | None
    manifest: dict[str, Any]
    manifest_file: Path
    scenario_file: str | None = None
    scenario_text: str | None = None
    point: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def measure(self) -> str:
        """The targeted measure: `poor_or_near_poor` or `poor`."""
        return str(self.scenario.get("targets", {}).get("measure", "poor_or_near_poor"))

    @property
    def posterior(self) -> str:
        """The posterior file the run's replicates drew their parameters from ("" for none)."""
        return str(self.scenario.get("posterior", {}).get("file", ""))

    @property
    def replicates(self) -> list[int]:
        """The replicate indices present in the review table."""
        return sorted(int(r) for r in self.reviews["replicate"].unique())

    @property
    def years(self) -> list[int]:
        """The review years present in the review table."""
        return sorted(int(y) for y in self.reviews["year"].unique())


def load_inputs(folders: list[Path]) -> list[ScenarioResult]:
    """Read every folder: each run folder gives one scenario, each sweep folder one per design point.

    Raises:
        InputError: a folder that is missing, is not a run or sweep, or holds unreadable or
            incomplete tables; or more scenarios than a comparison can show.
    """
    if not folders:
        raise problem("DIR", "", "expected at least one run or sweep folder")
    results: list[ScenarioResult] = []
    seen: dict[Path, str] = {}
    for folder in folders:
        key = folder.resolve()
        if key in seen:
            raise problem(str(folder), "", f"is given twice (also as {seen[key]}); expected each folder once")
        seen[key] = str(folder)
        results.extend(read_folder(folder))
    if len(results) > MAX_SCENARIOS:
        raise problem(
            "DIR",
            "",
            f"the folders hold {len(results)} scenarios (sweep design points count one each); expected at "
            f"most {MAX_SCENARIOS}, which is as many as the figures can show: compare fewer folders, or "
            "use the sweep's own tables (tables/points.csv) for large designs",
        )
    assign_labels(results)
    return results


def read_folder(folder: Path) -> list[ScenarioResult]:
    """The scenarios stored in one run or sweep folder."""
    if not folder.exists():
        raise problem(str(folder), "", f"folder not found; {RUN_HINT}")
    if not folder.is_dir():
        raise problem(str(folder), "", f"is a file, not a folder; {RUN_HINT}")
    manifest_file = folder / MANIFEST
    if not manifest_file.is_file():
        raise problem(str(folder), "", f"holds no {MANIFEST}, so it is not povsim results; {RUN_HINT}")
    manifest = read_json(manifest_file)
    if manifest.get("kind") == SWEEP_KIND:
        return read_sweep(folder, manifest)
    if manifest.get("kind") is not None:
        raise problem(
            str(manifest_file), "kind", f"is not a run's or a sweep's manifest; {RUN_HINT}", manifest["kind"]
        )
    return [read_run(folder, manifest)]


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or an InputError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise problem(str(path), "", f"cannot be read ({error}); {RUN_HINT}") from None
    except ValueError as error:
        raise problem(str(path), "", f"is not valid JSON ({error}); {RUN_HINT}") from None
    if not isinstance(data, dict):
        raise problem(str(path), "", f"does not hold a JSON object; {RUN_HINT}")
    return data


def require(data: dict[str, Any], path: Path, dotted: str, kind: type | tuple[type, ...]) -> Any:
    """The value at a dotted key of a manifest, checked for its type."""
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise problem(str(path), dotted, "is missing; expected the manifest `povsim run` writes")
        value = value[part]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise problem(str(path), dotted, f"has the wrong type; expected {_kind_name(kind)}", value)
    return value


def read_run(folder: Path, manifest: dict[str, Any]) -> ScenarioResult:
    """One `povsim run` folder."""
    manifest_file = folder / MANIFEST
    name = require(manifest, manifest_file, "scenario_name", str)
    scenario = require(manifest, manifest_file, "scenario", dict)
    master_seed = require(manifest, manifest_file, "seeds.master_seed", int)
    seed_rows = require(manifest, manifest_file, "seeds.replicates", list)
    household_count = require(manifest, manifest_file, "scenario.run.household_count", int)
    seeds = read_seeds(seed_rows, manifest_file)
    reviews = read_table(folder / REVIEWS, REQUIRED_REVIEW_COLUMNS, "povsim run")
    check_reviews(reviews, folder / REVIEWS, seeds, manifest_file)
    notes = []
    ledger = None
    if (folder / LEDGER).is_file():
        ledger = read_table(folder / LEDGER, REQUIRED_LEDGER_COLUMNS, "povsim run")
    else:
        notes.append(f"{folder}: no {LEDGER}; its spending is not compared")
    panel = folder / PANEL if (folder / PANEL).is_file() else None
    if panel is not None:
        check_panel(panel, sorted(reviews["year"].unique()))
    scenario_file = manifest.get("scenario_file")
    return ScenarioResult(
        label=name,
        name=name,
        folder=folder,
        kind="run",
        description=str(scenario.get("description", "")).strip(),
        scenario=scenario,
        master_seed=master_seed,
        household_count=household_count,
        seeds=seeds,
        reviews=reviews,
        ledger=ledger,
        panel=panel,
        manifest=manifest,
        manifest_file=manifest_file,
        scenario_file=scenario_file if isinstance(scenario_file, str) else None,
        scenario_text=read_text(scenario_file),
        notes=notes,
    )


def read_seeds(rows: list[Any], manifest_file: Path) -> dict[int, tuple[str, tuple[int, ...]]]:
    """Replicate -> (entropy, spawn key), from a manifest's `seeds.replicates` list."""
    seeds = {}
    for i, row in enumerate(rows):
        try:
            seeds[int(row["replicate"])] = (str(row["entropy"]), tuple(int(k) for k in row["spawn_key"]))
        except (KeyError, TypeError, ValueError):
            raise problem(
                str(manifest_file),
                f"seeds.replicates.{i}",
                "expected {replicate, entropy, spawn_key}",
                row,
            ) from None
    return seeds


def read_table(path: Path, required: tuple[str, ...], writer: str) -> pd.DataFrame:
    """A Parquet table with the columns a comparison needs."""
    if not path.is_file():
        raise problem(str(path), "", f"file not found; expected the table `{writer}` writes")
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as error:
        raise problem(str(path), "", f"is not a readable Parquet table ({error})") from None
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise InputError(
            [
                Problem(str(path), column, f"column missing; expected the table `{writer}` writes")
                for column in missing
            ]
        )
    return table.to_pandas()


def check_reviews(
    reviews: pd.DataFrame, path: Path, seeds: dict[int, tuple[str, tuple[int, ...]]], manifest_file: Path
) -> None:
    """A review table must have rows, one per replicate and year, for replicates the manifest seeded."""
    if reviews.empty:
        raise problem(str(path), "", "has no rows; expected one row per replicate and review")
    if reviews.duplicated(["replicate", "year"]).any():
        raise problem(str(path), "replicate, year", "repeat; expected one row per replicate and review")
    unseeded = sorted(set(int(r) for r in reviews["replicate"]) - set(seeds))
    if unseeded:
        raise problem(
            str(manifest_file),
            "seeds.replicates",
            f"has no seed for replicates {unseeded} of {path.name}; expected every replicate's seed",
        )


def check_panel(path: Path, years: list[int]) -> None:
    """households.parquet must hold the columns the relapse analysis reads."""
    try:
        names = pq.read_schema(path).names
    except (OSError, pa.ArrowException) as error:
        raise problem(str(path), "", f"is not a readable Parquet table ({error})") from None
    needed = [*PANEL_COLUMNS, *(f"status_{y}" for y in years)]
    missing = [c for c in needed if c not in names]
    if not any(n.startswith(PANEL_SUPPORT_PREFIX) for n in names):
        missing.append(f"{PANEL_SUPPORT_PREFIX}<instrument>")
    if missing:
        raise InputError(
            [
                Problem(
                    str(path), c, "column missing; expected the panel `povsim run --household-panel` writes"
                )
                for c in missing
            ]
        )


def read_text(name: str | None) -> str | None:
    """A scenario or experiment file's text, if it can still be read."""
    if not name:
        return None
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def read_sweep(folder: Path, manifest: dict[str, Any]) -> list[ScenarioResult]:
    """One `povsim sweep` folder: a scenario per design point, from its recorded runs."""
    from povsim.experiments.store import SweepStore

    manifest_file = folder / MANIFEST
    experiment = require(manifest, manifest_file, "experiment.name", str)
    base = require(manifest, manifest_file, "base_scenario.resolved", dict)
    master_seed = require(manifest, manifest_file, "seeds.master_seed", int)
    seeds = read_seeds(require(manifest, manifest_file, "seeds.replicates", list), manifest_file)
    parameters = require(manifest, manifest_file, "design.parameters", dict)
    values = require(manifest, manifest_file, "design.values", list)
    replicate_count = require(manifest, manifest_file, "replicates", int)
    store = SweepStore(folder)
    frames = []
    for path in store.batch_files():
        table = store.read_batch(path, ["point", "replicate", "status", "reviews_json", "ledger_json"])
        if "reviews_json" not in table.column_names:
            raise problem(str(path), "reviews_json", "column missing; expected a batch `povsim sweep` writes")
        frames.append(table.to_pandas())
    runs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not runs.empty:
        runs = runs[(runs["status"] == "ok") & (runs["replicate"] < replicate_count)]
        runs = runs[runs["point"] < len(values)].drop_duplicates(["point", "replicate"], keep="first")
    if runs.empty:
        raise problem(
            str(folder / "runs"),
            "",
            "holds no successful run; expected a sweep with finished runs (continue it with --resume)",
        )
    description = str(manifest.get("experiment", {}).get("description", "")).strip()
    experiment_file = folder / "experiment.toml"
    text = read_text(str(experiment_file)) if experiment_file.is_file() else None
    results = []
    for point, group in runs.groupby("point", sort=True):
        point = int(point)
        scenario = copy.deepcopy(base)
        settings = values[point] if isinstance(values[point], dict) else {}
        for name, value in settings.items():
            path = parameters.get(name, {}).get("path") if isinstance(parameters.get(name), dict) else None
            if path:
                set_dotted(scenario, path, value)
        reviews = sweep_rows(group, "reviews_json", folder)
        ledger_rows = sweep_rows(group, "ledger_json", folder)
        shown = ", ".join(f"{name} = {value}" for name, value in settings.items())
        results.append(
            ScenarioResult(
                label=f"{experiment}:p{point}",
                name=f"{experiment}:p{point}",
                folder=folder,
                kind="sweep point",
                description=f"{description} Design point {point}: {shown}.".strip(),
                scenario=scenario,
                master_seed=master_seed,
                household_count=int(scenario.get("run", {}).get("household_count", 0)),
                seeds=seeds,
                reviews=reviews,
                ledger=ledger_rows if not ledger_rows.empty else None,
                panel=None,
                manifest=manifest,
                manifest_file=manifest_file,
                scenario_file=str(manifest.get("experiment", {}).get("file", "")) or None,
                scenario_text=text,
                point=point,
            )
        )
    return results


def sweep_rows(runs: pd.DataFrame, column: str, folder: Path) -> pd.DataFrame:
    """The review or ledger rows stored as JSON with each run, with a `replicate` column."""
    rows = []
    for replicate, text in zip(runs["replicate"], runs[column], strict=True):
        if text is None:
            continue
        try:
            records = json.loads(text)
        except ValueError as error:
            raise problem(
                str(folder / "runs"), column, f"holds a run that is not valid JSON ({error})"
            ) from None
        rows.extend({"replicate": int(replicate), **record} for record in records)
    frame = pd.DataFrame(rows)
    if column == "reviews_json":
        missing = [c for c in REQUIRED_REVIEW_COLUMNS if c not in frame.columns]
        if missing:
            raise problem(
                str(folder / "runs"),
                column,
                f"lacks the review fields {missing}; expected rows `povsim sweep` stores",
            )
    return frame


def assign_labels(results: list[ScenarioResult]) -> None:
    """Make labels unique: a repeated scenario name gets its folder's name, then a number."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result.label] = counts.get(result.label, 0) + 1
    for result in results:
        if counts[result.label] > 1:
            result.label = f"{result.name} [{result.folder.name}]"
    taken: dict[str, int] = {}
    for result in results:
        n = taken.get(result.label, 0)
        taken[result.label] = n + 1
        if n:
            result.label = f"{result.label} #{n + 1}"


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", str: "a string", dict: "a table", list: "a list", float: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
