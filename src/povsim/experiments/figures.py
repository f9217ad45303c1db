"""Standard figures of a sweep: each outcome against each parameter, and sensitivity indices.

Drawn from the analysis tables only; no model logic here.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from povsim.experiments.spec import Experiment
from povsim.experiments.store import write_atomic
from povsim.experiments.worker import OUTCOME_PREFIX

COLOUR = "#2166ac"
BAND = "5-95 % of replicates"


def draw_all(
    folder: Path,
    experiment: Experiment,
    ok_runs: pd.DataFrame,
    points: pd.DataFrame,
    sensitivity: pd.DataFrame,
) -> list[str]:
    """Draw every standard figure into `folder`; return the files, relative to the sweep folder."""
    folder.mkdir(exist_ok=True)
    files = []
    for outcome in experiment.outcomes:
        rows = points[points["outcome"] == outcome.name]
        if rows.empty:
            continue
        name = f"{_slug(outcome.name)}.png"
        outcome_against_parameters(folder / name, experiment, outcome.name, outcome.path, ok_runs, rows)
        files.append(f"figures/{name}")
        indices = sensitivity[sensitivity["outcome"] == outcome.name]
        if not indices.empty:
            name = f"sensitivity_{_slug(outcome.name)}.png"
            sensitivity_indices(folder / name, experiment, outcome.name, indices)
            files.append(f"figures/{name}")
    return files


def outcome_against_parameters(
    path: Path,
    experiment: Experiment,
    name: str,
    outcome_path: str,
    ok_runs: pd.DataFrame,
    rows: pd.DataFrame,
) -> None:
    """One panel per parameter: the outcome at each design point with its replicate band.

    Grid designs also show, for each level of the parameter, the mean and the 5-95 % range
    over all runs at that level (the other parameters vary within it).
    """
    names = experiment.design.names
    columns = min(3, len(names))
    lines = math.ceil(len(names) / columns)
    fig = Figure(figsize=(4.2 * columns, 3.4 * lines + 0.8))
    axes = np.atleast_1d(fig.subplots(lines, columns, squeeze=False)).ravel()
    column = OUTCOME_PREFIX + name
    for ax, parameter in zip(axes, names, strict=False):
        x, labels = _positions(rows[parameter])
        x = _spread(np.asarray(x, dtype=float))
        ax.errorbar(
            x,
            rows["mean"],
            yerr=[rows["mean"] - rows["p05"], rows["p95"] - rows["mean"]],
            fmt="o",
            markersize=3,
            color=COLOUR,
            ecolor=COLOUR,
            alpha=0.45 if len(rows) > 30 else 0.9,
            elinewidth=1,
            label=f"design point: mean, {BAND}",
        )
        if experiment.design.method == "grid" and len(experiment.design.names) > 1:
            levels = ok_runs.groupby(parameter, sort=True)[column]
            stats = levels.agg(["mean", lambda v: np.nanpercentile(v, 5), lambda v: np.nanpercentile(v, 95)])
            stats.columns = ["mean", "p05", "p95"]
            lx, _ = _positions(pd.Series(stats.index), labels)
            order = np.argsort(lx)
            lx = np.asarray(lx)[order]
            ax.fill_between(
                lx,
                stats["p05"].to_numpy()[order],
                stats["p95"].to_numpy()[order],
                color="#999999",
                alpha=0.25,
                linewidth=0,
            )
            ax.plot(
                lx,
                stats["mean"].to_numpy()[order],
                color="#444444",
                linewidth=1.2,
                label="all runs at this level",
            )
        if labels is not None:
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_xlabel(f"{parameter}\n({experiment.spec.parameters[parameter].path})", fontsize=8)
        ax.set_ylabel(name, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(
        f"{experiment.name}: {name} = {outcome_path}\n"
        f"{experiment.design.method} design, {len(experiment.design.points)} points x "
        f"{experiment.replicates} replicates (common random numbers)",
        fontsize=9,
    )
    fig.tight_layout()
    _save(fig, path)


def sensitivity_indices(path: Path, experiment: Experiment, name: str, indices: pd.DataFrame) -> None:
    """Bar chart of Sobol' S1/ST or Morris mu* per parameter, with bootstrap intervals."""
    shown = ("S1", "ST") if experiment.design.method == "sobol" else ("mu_star",)
    names = list(experiment.design.names)
    fig = Figure(figsize=(max(5.0, 1.2 * len(names) + 2), 3.8))
    ax = fig.subplots()
    width = 0.8 / len(shown)
    for k, index in enumerate(shown):
        part = indices[indices["index"] == index].set_index("parameter").reindex(names)
        x = np.arange(len(names)) + (k - (len(shown) - 1) / 2) * width
        low = (part["value"] - part["conf_low"]).to_numpy()
        high = (part["conf_high"] - part["value"]).to_numpy()
        ax.bar(x, part["value"], width, yerr=[low, high], capsize=3, label=index)
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel(
        "Sobol' index" if experiment.design.method == "sobol" else "mu* (outcome units per unit range)"
    )
    ax.legend(fontsize=8)
    ax.set_title(f"{experiment.name}: sensitivity of {name}, 95 % bootstrap intervals", fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def _positions(values: pd.Series, labels: list[str] | None = None) -> tuple[Any, list[str] | None]:
    """Numeric x positions: the values themselves if numeric, else the index of each category."""
    numeric = all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_) for v in values
    )
    if numeric and labels is None:
        return values.to_numpy(dtype=float), None
    if labels is None:
        labels = sorted({str(v) for v in values})
    where = {label: i for i, label in enumerate(labels)}
    return [where.get(str(v), 0) for v in values], labels


def _spread(x: np.ndarray, share: float = 0.012) -> np.ndarray:
    """Shift points that share an x value side by side, so that their bands do not hide each other."""
    if len(x) == 0:
        return x
    span = np.ptp(x) or 1.0
    shifted = x.copy()
    for value in np.unique(x):
        same = np.flatnonzero(x == value)
        if len(same) > 1:
            step = span * min(share, 0.08 / len(same))  # all of them within 8 % of the axis
            shifted[same] += (np.arange(len(same)) - (len(same) - 1) / 2) * step
    return shifted


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _save(fig: Figure, path: Path) -> None:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    write_atomic(path, buffer.getvalue())
