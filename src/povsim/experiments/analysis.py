"""From stored runs to tidy tables, paired comparisons and sensitivity indices.

Reads only the stored batches (never the model), so it can be rerun on any sweep folder.
Outcomes missing from a batch (the experiment's outcomes changed since it ran) are
extracted again from the runs' stored review rows.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from povsim.experiments.outcomes import RunRecord, extract, summary_years
from povsim.experiments.spec import Experiment, jsonable
from povsim.experiments.store import SweepStore, write_atomic, write_parquet_atomic
from povsim.experiments.worker import OUTCOME_PREFIX, stored_outcome_paths

BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95
RUN_COLUMNS = [
    "point",
    "replicate",
    "status",
    "error",
    "traceback",
    "seconds",
    "seed_entropy",
    "spawn_key",
    "worker",
]
ANALYSIS_SEED_OFFSET = 1


@dataclass
class Analysis:
    """What the analysis found and wrote.

    Attributes:
        runs: one row per recorded run (parameters, status, seed, outcomes).
        tidy: one row per run and outcome.
        points: per design point and outcome: mean, spread and the paired difference from point 0.
        sensitivity: sobol/morris indices with bootstrap intervals (empty for other designs).
        outcome_problems: outcome name -> why no run holds it.
        notes: other things the user should know (indices that could not be computed).
        files: files written, relative to the sweep folder.
    """

    runs: pd.DataFrame
    tidy: pd.DataFrame
    points: pd.DataFrame
    sensitivity: pd.DataFrame
    outcome_problems: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def collect_runs(store: SweepStore, experiment: Experiment) -> pd.DataFrame:
    """Every recorded run of the experiment's design and replicates, one row each, with outcomes.

    Outcome columns missing from a batch are extracted from its stored review rows.
    """
    names = [o.name for o in experiment.outcomes]
    wanted = [*RUN_COLUMNS, *(OUTCOME_PREFIX + n for n in names), "outcome_errors"]
    frames = []
    point_count = len(experiment.design.points)
    for path in store.batch_files():
        table = store.read_batch(path, wanted)
        stored = stored_outcome_paths(table.schema)
        missing = [
            o.name
            for o in experiment.outcomes
            if OUTCOME_PREFIX + o.name not in table.column_names or stored.get(o.name) != o.path
        ]
        if missing:
            raw = store.read_batch(path, ["reviews_json", "ledger_json"])
            reviews = _texts(raw, "reviews_json")
            ledgers = _texts(raw, "ledger_json")
            table = _reextract(experiment, table, reviews, ledgers, missing)
        frame = table.to_pandas()
        frames.append(frame[(frame["replicate"] < experiment.replicates) & (frame["point"] < point_count)])
    columns = [*RUN_COLUMNS, *(OUTCOME_PREFIX + n for n in names), "outcome_errors"]
    if not frames:
        return pd.DataFrame(columns=columns)
    runs = pd.concat(frames, ignore_index=True)
    runs = runs.drop_duplicates(["point", "replicate"], keep="first")
    runs = runs.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
    runs["spawn_key"] = [" ".join(map(str, k)) if k is not None else "" for k in runs["spawn_key"]]
    return runs[[c for c in columns if c in runs.columns]]


def analyse(store: SweepStore, experiment: Experiment, figures: bool = True) -> Analysis:
    """Write the tidy tables, the per-point table, sensitivity indices and figures."""
    from povsim.experiments import figures as draw

    runs = collect_runs(store, experiment)
    names = [o.name for o in experiment.outcomes]
    design = design_frame(experiment)
    runs = runs.merge(design, on="point", how="left")
    ok = runs["status"] == "ok"
    problems = outcome_problems(runs[ok], names)
    tidy = tidy_table(runs, experiment)
    points = point_table(runs[ok], experiment)
    sensitivity, notes = (
        sensitivity_table(points, experiment) if not points.empty else (_empty_sensitivity(), [])
    )
    tables = store.root / "tables"
    tables.mkdir(exist_ok=True)
    files = []
    wide = runs.rename(columns=lambda c: c.removeprefix(OUTCOME_PREFIX))
    for name, frame in (("runs", wide), ("outcomes", tidy)):
        write_parquet_atomic(tables / f"{name}.parquet", pa.Table.from_pandas(frame, preserve_index=False))
        files.append(f"tables/{name}.parquet")
    write_atomic(tables / "runs.csv", wide.drop(columns=["traceback"]).to_csv(index=False).encode())
    files.append("tables/runs.csv")
    for name, frame in (("outcomes", tidy), ("points", points), ("sensitivity", sensitivity)):
        if name == "sensitivity" and experiment.design.method not in ("sobol", "morris"):
            continue
        write_atomic(tables / f"{name}.csv", frame.to_csv(index=False).encode())
        files.append(f"tables/{name}.csv")
    analysis = Analysis(runs, tidy, points, sensitivity, problems, notes, files)
    if figures and not points.empty:
        analysis.files += draw.draw_all(store.root / "figures", experiment, runs[ok], points, sensitivity)
    return analysis


def design_frame(experiment: Experiment) -> pd.DataFrame:
    """The design points as a table: `point` and one column per parameter."""
    rows = [{"point": i, **_plain(values)} for i, values in enumerate(experiment.design.points)]
    return pd.DataFrame(rows, columns=["point", *experiment.design.names])


def tidy_table(runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """One row per run and outcome: point, replicate, parameters, status, outcome, value."""
    names = [o.name for o in experiment.outcomes]
    keys = ["point", "replicate", *experiment.design.names, "status"]
    value_columns = [OUTCOME_PREFIX + n for n in names]
    long = runs[keys + value_columns].melt(id_vars=keys, var_name="outcome", value_name="value")
    long["outcome"] = long["outcome"].str.removeprefix(OUTCOME_PREFIX)
    order = {n: i for i, n in enumerate(names)}
    long["_order"] = long["outcome"].map(order)
    long = long.sort_values(["point", "replicate", "_order"], kind="stable").drop(columns="_order")
    return long.reset_index(drop=True)


def point_table(ok_runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """Per design point and outcome: runs, mean, sd, p05, p95, and the paired difference from point 0.

    Every point's replicate r shares its random stream with point 0's replicate r (common
    random numbers), so differences are taken replicate by replicate; the unpaired standard
    error is given beside the paired one to show what pairing saves.
    """
    rows = []
    names = [o.name for o in experiment.outcomes]
    design = experiment.design
    for name in names:
        column = OUTCOME_PREFIX + name
        values = ok_runs[["point", "replicate", column]].dropna()
        reference = values[values["point"] == 0].set_index("replicate")[column]
        for point, group in values.groupby("point", sort=True):
            y = group[column].to_numpy(dtype=float)
            paired = group.set_index("replicate")[column].sub(reference).dropna()
            rows.append(
                {
                    "point": int(point),
                    **_plain(design.points[int(point)]),
                    "outcome": name,
                    "runs": len(y),
                    "mean": float(y.mean()),
                    "sd": float(y.std(ddof=1)) if len(y) > 1 else math.nan,
                    "p05": float(np.percentile(y, 5)),
                    "p95": float(np.percentile(y, 95)),
                    "diff_vs_point0_mean": float(paired.mean()) if len(paired) else math.nan,
                    "diff_vs_point0_se_paired": _se(paired.to_numpy()),
                    "diff_vs_point0_se_unpaired": math.sqrt(_se(y) ** 2 + _se(reference.to_numpy()) ** 2)
                    if len(y) > 1 and len(reference) > 1
                    else math.nan,
                }
            )
    columns = [
        "point",
        *design.names,
        "outcome",
        "runs",
        "mean",
        "sd",
        "p05",
        "p95",
        "diff_vs_point0_mean",
        "diff_vs_point0_se_paired",
        "diff_vs_point0_se_unpaired",
    ]
    return pd.DataFrame(rows, columns=columns)


def sensitivity_table(points: pd.DataFrame, experiment: Experiment) -> tuple[pd.DataFrame, list[str]]:
    """Sobol' (S1, ST, and S2 if sampled) or Morris (mu*, sigma) indices with bootstrap intervals.

    Each point's outcome is its mean over replicates; the analysis runs on the unit-cube
    sample that produced the points. Nothing for grid, lhs and csv designs.
    """
    design = experiment.design
    if design.method not in ("sobol", "morris"):
        return _empty_sensitivity(), []
    from SALib.analyze import morris, sobol

    problem = design.salib_problem()
    rows, notes = [], []
    count = len(design.points)
    for outcome in experiment.outcomes:
        means = points[points["outcome"] == outcome.name].set_index("point")["mean"]
        y = means.reindex(range(count)).to_numpy(dtype=float)
        if np.isnan(y).any():
            notes.append(
                f"{outcome.name}: no sensitivity indices: {int(np.isnan(y).sum())} of {count} design points "
                "have no successful run"
            )
            continue
        if np.ptp(y) == 0:
            notes.append(f"{outcome.name}: no sensitivity indices: the outcome is the same at every point")
            continue
        seed = experiment.spec.master_seed + ANALYSIS_SEED_OFFSET
        if design.method == "sobol":
            result = sobol.analyze(
                problem,
                y,
                calc_second_order=design.second_order,
                num_resamples=BOOTSTRAP_RESAMPLES,
                conf_level=CONFIDENCE,
                seed=seed,
            )
            for j, name in enumerate(design.names):
                for index in ("S1", "ST"):
                    rows.append(
                        _index_row(outcome.name, name, index, result[index][j], result[f"{index}_conf"][j])
                    )
                if design.second_order:
                    for k in range(j + 1, len(design.names)):
                        pair = f"{name}:{design.names[k]}"
                        rows.append(
                            _index_row(outcome.name, pair, "S2", result["S2"][j, k], result["S2_conf"][j, k])
                        )
        else:
            result = morris.analyze(
                problem,
                design.unit,
                y,
                num_resamples=BOOTSTRAP_RESAMPLES,
                conf_level=CONFIDENCE,
                num_levels=design.grid_levels,
                seed=seed,
            )
            for j, name in enumerate(design.names):
                rows.append(
                    _index_row(outcome.name, name, "mu_star", result["mu_star"][j], result["mu_star_conf"][j])
                )
                rows.append(_index_row(outcome.name, name, "mu", result["mu"][j], math.nan))
                rows.append(_index_row(outcome.name, name, "sigma", result["sigma"][j], math.nan))
    return pd.DataFrame(rows, columns=_empty_sensitivity().columns), notes


def outcome_problems(ok_runs: pd.DataFrame, names: list[str]) -> dict[str, str]:
    """Outcomes that no successful run holds, with the reason the first such run gave."""
    problems: dict[str, str] = {}
    if ok_runs.empty:
        return problems
    for name in names:
        column = OUTCOME_PREFIX + name
        if ok_runs[column].notna().any():
            continue
        reasons = ok_runs["outcome_errors"].dropna()
        reason = next((json.loads(r)[name] for r in reasons if name in json.loads(r)), None)
        if reason is not None:
            problems[name] = reason
    return problems


def _texts(table: pa.Table, column: str) -> list[str | None]:
    if column in table.column_names:
        return table.column(column).to_pylist()
    return [None] * table.num_rows


def _reextract(
    experiment: Experiment,
    table: pa.Table,
    reviews: list[str | None],
    ledgers: list[str | None],
    missing: list[str],
) -> pa.Table:
    """Add outcome columns a batch lacks, from its runs' stored review and ledger rows (JSON)."""
    outcomes = tuple(o for o in experiment.outcomes if o.name in missing)
    years = summary_years(outcomes)
    keys = table.select(["point", "replicate"]).to_pylist()
    old_errors = table.column("outcome_errors").to_pylist() if "outcome_errors" in table.column_names else []
    scenarios: dict[int, Any] = {}
    values: dict[str, list[float | None]] = {o.name: [] for o in outcomes}
    errors: list[str | None] = []
    for i, key in enumerate(keys):
        merged = json.loads(old_errors[i]) if old_errors and old_errors[i] else {}
        merged = {k: v for k, v in merged.items() if k not in missing}
        if reviews[i] is None:  # a failed run: nothing to extract
            for o in outcomes:
                values[o.name].append(None)
        else:
            point = key["point"]
            if point not in scenarios:
                scenarios[point] = experiment.point_scenario(point)
            ledger = json.loads(ledgers[i]) if ledgers[i] is not None else None
            record = RunRecord(scenarios[point], key["replicate"], json.loads(reviews[i]), ledger, years)
            found, reasons = extract(record, outcomes, fast=False)
            for o in outcomes:
                values[o.name].append(found[o.name])
            merged.update(reasons)
        errors.append(json.dumps(merged) if merged else None)
    stale = [OUTCOME_PREFIX + o.name for o in outcomes if OUTCOME_PREFIX + o.name in table.column_names]
    table = table.drop_columns(stale)
    for o in outcomes:
        table = table.append_column(OUTCOME_PREFIX + o.name, pa.array(values[o.name], type=pa.float64()))
    if "outcome_errors" in table.column_names:
        table = table.drop_columns(["outcome_errors"])
    return table.append_column("outcome_errors", pa.array(errors, type=pa.string()))


def _index_row(outcome: str, parameter: str, index: str, value: float, conf: float) -> dict[str, Any]:
    value, conf = float(value), float(conf)
    return {
        "outcome": outcome,
        "parameter": parameter,
        "index": index,
        "value": value,
        "conf_low": value - conf if not math.isnan(conf) else math.nan,
        "conf_high": value + conf if not math.isnan(conf) else math.nan,
        "confidence": CONFIDENCE if not math.isnan(conf) else math.nan,
    }


def _empty_sensitivity() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["outcome", "parameter", "index", "value", "conf_low", "conf_high", "confidence"]
    )


def _se(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Parameter values as table cells: dates as ISO text, lists (e.g. eligible groups) as JSON."""
    cells = {}
    for key, value in jsonable(values).items():
        cells[key] = json.dumps(value) if isinstance(value, list | tuple | dict) else value
    return cells
