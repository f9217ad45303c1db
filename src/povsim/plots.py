"""Figures drawn from stored results; no model logic here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

SERIES = (
    ("poor_rate", "poor", "#b2182b"),
    ("near_poor_rate", "near-poor", "#ef8a62"),
    ("poor_or_near_poor_rate", "poor + near-poor", "#2166ac"),
)
SOURCE_NOTE = (
    "Observed: Son Duong district, seed interview (Tuyen Quang newspaper, 2025). "
    "Simulated: povsim, mean and 5-95 % band over replicates."
)


def poverty_path(
    summary: dict[str, Any], path: Path, title: str, observed: dict[int, float], switch_year: int
) -> None:
    """Poor, near-poor and combined rates by review year, with bands and observed points.

    Args:
        summary: the `reviews` part of summary.json.
        path: PNG file to write.
        title: the figure's title (scenario name and size).
        observed: observed rates of the targeted measure, by review year.
        switch_year: first review under Decree 351/2025, marked with a line.
    """
    years = [int(y) for y in summary]
    fig = Figure(figsize=(8, 5.0))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.16)
    ax = fig.subplots()
    for field, label, colour in SERIES:
        mean = [100 * summary[str(y)][field]["mean"] for y in years]
        low = [100 * summary[str(y)][field]["p05"] for y in years]
        high = [100 * summary[str(y)][field]["p95"] for y in years]
        ax.fill_between(years, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.plot(years, mean, marker="o", color=colour, label=f"{label} (simulated)")
    obs_years = sorted(observed)
    ax.scatter(
        obs_years,
        [100 * observed[y] for y in obs_years],
        marker="D",
        s=60,
        color="black",
        zorder=5,
        label="observed (targeted measure)",
    )
    for y in obs_years:
        ax.annotate(
            f"{100 * observed[y]:.2f} %",
            (y, 100 * observed[y]),
            xytext=(6, 6),
            textcoords="offset points",
        )
    if years[0] <= switch_year <= years[-1]:
        ax.axvline(switch_year - 0.5, color="grey", linestyle="--", linewidth=1)
        ax.text(
            switch_year - 0.45,
            ax.get_ylim()[1] * 0.95,
            "Decree 351/2025 standard",
            color="grey",
            va="top",
            fontsize=8,
        )
    ax.set_xlabel("annual review (December of year)")
    ax.set_ylabel("share of households (%)")
    ax.set_xticks(years)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.text(0.01, 0.01, SOURCE_NOTE, fontsize=6.5, color="dimgrey", ha="left", va="bottom")
    fig.savefig(path, dpi=120)
