"""The comparison's figures, drawn from the stored tables only (no model logic).

Each figure is a matplotlib `Figure` (no pyplot state), titled, with units on its axes, the
scenario names in its legend and its sources in a footnote, saved as PNG and SVG under
`figures/`. A figure whose table is empty (no household panel, no change of standard) is
not drawn; the report says why.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from povsim.comparison.stored import Stored

DPI = 120
BAND_ALPHA = 0.18
BASELINE_COLOUR = "black"
RATE_LABELS = {
    "poor_rate": ("poor", "#b2182b"),
    "near_poor_rate": ("near-poor", "#ef8a62"),
    "poor_or_near_poor_rate": ("poor + near-poor", "#2166ac"),
}
MEASURE_RATES = {"poor": "poor_rate", "poor_or_near_poor": "poor_or_near_poor_rate"}
SEED_SOURCE = "Observed: Son Duong district, seed interview (Tuyen Quang newspaper, 2025)."
UNCALIBRATED = "The baseline is not calibrated: read the levels as a demonstration, not a forecast."
CALIBRATED = (
    "Parameters drawn per replicate from the posterior of the 2021-2024 calibration "
    "(docs/calibration.md); levels assume the fitted income growth continues."
)
YARDSTICK_LABELS = {
    "decree_07": ("Decree 07/2021 (old lines and indicators)", "#1b7837", "-"),
    "decree_351": ("Decree 351/2025 (new lines and indicators)", "#e08214", "-"),
    "decree_351_lines": ("Decree 351 lines, Decree 07 indicators", "#762a83", "--"),
}


def colours(labels: list[str], baseline: str) -> dict[str, str]:
    """A colour per scenario: black for the baseline, a qualitative palette for the others."""
    tab10 = list(colormaps["tab10"].colors)
    palette = tab10[:7] + tab10[8:] + list(colormaps["tab20"].colors[1::2])  # no grey: grey is for CIs
    others = [label for label in labels if label != baseline]
    chosen = {label: palette[i % len(palette)] for i, label in enumerate(others)}
    chosen[baseline] = BASELINE_COLOUR
    return chosen


def measure_rate(stored: Stored) -> str:
    """The rate column of the baseline's targeted measure."""
    scenarios = stored.table("scenarios")
    row = scenarios[scenarios["scenario"] == stored.baseline]
    measure = str(row["measure"].iloc[0]) if len(row) else "poor_or_near_poor"
    return MEASURE_RATES.get(measure, "poor_or_near_poor_rate")


def baseline_posterior(stored: Stored) -> str:
    """The posterior file the baseline's replicates drew their parameters from ("" if none)."""
    scenarios = stored.table("scenarios")
    if "posterior" not in scenarios:
        return ""
    row = scenarios[scenarios["scenario"] == stored.baseline]
    return str(row["posterior"].iloc[0]) if len(row) and isinstance(row["posterior"].iloc[0], str) else ""


def source_note(stored: Stored, extra: str = "") -> str:
    """The footnote: what was simulated, at what size, and where observed figures come from."""
    scenarios = stored.table("scenarios")
    households = sorted(set(scenarios["households"].astype(int)))
    replicates = sorted(set(scenarios["replicates"].astype(int)))
    reps = f"{replicates[0]}" if len(replicates) == 1 else f"{replicates[0]}-{replicates[-1]}"
    size = ", ".join(f"{h:,}" for h in households)
    text = (
        f"Simulated: povsim, {size} households x {reps} replicates per scenario; lines are means over "
        f"replicates, shaded bands the 5-95 % range. Baseline: '{stored.baseline}'. {SEED_SOURCE} "
        f"{CALIBRATED if baseline_posterior(stored) else UNCALIBRATED} {extra}"
    )
    return "\n".join(textwrap.wrap(text.strip(), 190))


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained layout and room at the bottom for the footnote."""
    return Figure(figsize=(width, height), layout="constrained")


def finish(fig: Figure, stored: Stored, title: str, extra: str = "") -> None:
    """Title and footnote."""
    fig.suptitle(title, fontsize=11, fontweight="bold")
    # The footnote is the figure's x label, so that the layout keeps it clear of the axes.
    fig.supxlabel(source_note(stored, extra), fontsize=6.5, color="dimgrey", x=0.01, ha="left")


def zorder(label: str, stored: Stored) -> float:
    """Draw the baseline above the other scenarios (an identical scenario must not hide it)."""
    return 3.0 if label == stored.baseline else 2.0


def legend(ax: Axes, **options: object) -> None:
    """The axes' legend, if anything on it has a label."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)


def legend_in_spare(axes: np.ndarray, used: int, handles: list, cols: int = 0, **options: object) -> None:
    """A legend in the first unused cell of a grid of axes, or beside the grid if none is free.

    With `cols`, the axes above an unused cell show their x tick labels, which a shared axis
    hides everywhere but in the bottom row.
    """
    for i, ax in enumerate(axes[used:], start=used):
        ax.set_visible(False)
        above = i - cols if cols else -1
        if 0 <= above < used:
            axes[above].xaxis.set_tick_params(labelbottom=True)
            axes[above].set_xlabel("annual review (December of year)")
    if used < len(axes):
        spare = axes[used]
        spare.set_visible(True)
        spare.axis("off")
        spare.legend(handles=handles, loc="center", fontsize=8, **options)
    else:
        axes[0].get_figure().legend(handles=handles, loc="outside right upper", fontsize=8, **options)


def save(fig: Figure, folder: Path, stem: str) -> list[str]:
    """Write PNG and SVG; return their paths relative to the comparison folder."""
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{stem}.png", dpi=DPI)
    # The layout found for the PNG is kept for the SVG rather than solved again.
    fig.set_layout_engine("none")
    fig.savefig(folder / f"{stem}.svg")
    return [f"figures/{stem}.png", f"figures/{stem}.svg"]


def series(outcomes: pd.DataFrame, label: str, outcome: str) -> pd.DataFrame:
    """One scenario's outcome by year (mean, p05, p95), sorted by year."""
    rows = outcomes[(outcomes["scenario"] == label) & (outcomes["outcome"] == outcome)]
    return rows.sort_values("year")


def draw_band(
    ax: Axes, rows: pd.DataFrame, colour: str, scale: float, label: str, band: bool = True, z: float = 2.0
) -> None:
    """A mean line with its 5-95 % band (`z`: drawing order; higher is on top)."""
    if rows.empty or rows["mean"].isna().all():
        return
    if band:
        ax.fill_between(
            rows["year"],
            scale * rows["p05"],
            scale * rows["p95"],
            color=colour,
            alpha=BAND_ALPHA,
            linewidth=0,
        )
    ax.plot(rows["year"], scale * rows["mean"], marker="o", markersize=3, color=colour, label=label, zorder=z)


def mark_switch(ax: Axes, stored: Stored, label: str | None = None) -> None:
    """A dashed line before the first review under Decree 351 (the baseline's, or a scenario's)."""
    scenarios = stored.table("scenarios")
    row = scenarios[scenarios["scenario"] == (label or stored.baseline)]
    if row.empty or pd.isna(row["switch_year"].iloc[0]) or str(row["switch_year"].iloc[0]) == "":
        return
    year = float(row["switch_year"].iloc[0])
    ax.axvline(year - 0.5, color="grey", linestyle="--", linewidth=0.8)
    ax.text(
        year - 0.45,
        0.98,
        "Decree 351",
        transform=ax.get_xaxis_transform(),
        color="grey",
        fontsize=7,
        va="top",
    )


def year_axis(ax: Axes, years: list[int]) -> None:
    """Review years on the x axis (labelled only where the axes shows its tick labels)."""
    ax.set_xticks(years)
    ax.set_xticklabels([str(y) if i % 2 == 0 or len(years) <= 6 else "" for i, y in enumerate(years)])
    if ax.xaxis.get_tick_params()["labelbottom"]:
        ax.set_xlabel("annual review (December of year)")
    ax.grid(alpha=0.3)


def review_span(stored: Stored) -> str:
    """The simulated reviews after the first, as "2022-2030"."""
    scenarios = stored.table("scenarios")
    return f"{int(scenarios['first_year'].min()) + 1}-{int(scenarios['last_year'].max())}"


def grid_shape(count: int, columns: int = 3) -> tuple[int, int]:
    """Rows and columns of a grid of small multiples."""
    cols = min(columns, count)
    return math.ceil(count / cols), cols


def fan_charts(stored: Stored) -> Figure | None:
    """Poor, near-poor and combined rates per scenario, with bands and the observed rates."""
    outcomes, observed = stored.table("outcomes"), stored.table("observed")
    labels = stored.labels
    rows, cols = grid_shape(len(labels))
    fig = new_figure(4.3 * cols, 3.0 * rows + 1.2)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)).ravel()
    years = sorted(outcomes["year"].unique())
    for ax, label in zip(axes, labels, strict=False):
        for rate, (name, colour) in RATE_LABELS.items():
            draw_band(ax, series(outcomes, label, rate), colour, 100, name)
        seen = observed[observed["scenario"] == label]
        ax.scatter(
            seen["year"],
            100 * seen["rate"],
            marker="D",
            s=30,
            color="black",
            zorder=5,
        )
        for _, obs in seen.iterrows():
            ax.annotate(
                f"{100 * obs['rate']:.2f} %",
                (obs["year"], 100 * obs["rate"]),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=7,
            )
        mark_switch(ax, stored, label)
        ax.set_title(label + (" (baseline)" if label == stored.baseline else ""), fontsize=9)
        year_axis(ax, years)
        ax.set_ylim(bottom=0)
    for ax in axes[::cols]:
        ax.set_ylabel("households (%)")
    handles = [Line2D([], [], color=c, marker="o", markersize=3, label=n) for n, c in RATE_LABELS.values()]
    handles.append(
        Line2D([], [], color="black", marker="D", linestyle="", label="observed (targeted measure)")
    )
    legend_in_spare(axes, len(labels), handles, cols=cols)
    finish(
        fig, stored, "Poor, near-poor and combined rates by scenario (% of households; mean and 90 % band)"
    )
    return fig


def combined_overlay(stored: Stored) -> Figure | None:
    """The targeted measure's rate of every scenario on one chart."""
    outcomes, observed = stored.table("outcomes"), stored.table("observed")
    rate = measure_rate(stored)
    palette = colours(stored.labels, stored.baseline)
    fig = new_figure(9, 5.6)
    ax = fig.subplots()
    for label in stored.labels:
        draw_band(ax, series(outcomes, label, rate), palette[label], 100, label, z=zorder(label, stored))
    seen = observed[observed["scenario"] == stored.baseline]
    ax.scatter(seen["year"], 100 * seen["rate"], marker="D", s=50, color="black", zorder=5, label="observed")
    for _, obs in seen.iterrows():
        ax.annotate(
            f"{100 * obs['rate']:.2f} %",
            (obs["year"], 100 * obs["rate"]),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=8,
        )
    mark_switch(ax, stored)
    year_axis(ax, sorted(outcomes["year"].unique()))
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"{RATE_LABELS[rate][0]} households (%)")
    legend(ax, fontsize=7, ncols=2, loc="upper right")
    finish(fig, stored, f"The targeted rate ({RATE_LABELS[rate][0]}) in every scenario (% of households)")
    return fig


def relapse_rates(stored: Stored) -> Figure | None:
    """Relapses per 1,000 escaped households, and the escaped households at risk, by year."""
    outcomes = stored.table("outcomes")
    palette = colours(stored.labels, stored.baseline)
    fig = new_figure(12, 5)
    left, right = fig.subplots(1, 2)
    years = sorted(outcomes["year"].unique())
    for label in stored.labels:
        z = zorder(label, stored)
        draw_band(left, series(outcomes, label, "relapses_per_1000_escaped"), palette[label], 1, label, z=z)
        draw_band(right, series(outcomes, label, "escaped_stock"), palette[label], 1, label, z=z)
    for ax in (left, right):
        mark_switch(ax, stored)
        year_axis(ax, years)
        ax.set_ylim(bottom=0)
    left.set_ylabel("relapses per 1,000 escaped households")
    left.set_title("(a) relapses at each review per 1,000 households escaped before it", fontsize=9)
    right.set_ylabel("households")
    right.set_title("(b) households that escaped and are not poor (at risk of relapse)", fontsize=9)
    legend(left, fontsize=7, ncols=2)
    finish(
        fig,
        stored,
        "Relapse into poverty by review year",
        "A relapse: poor at a review after having escaped (poor, then not poor). At the first review under "
        "Decree 351 part of the relapses are the new yardstick, not a change in the households.",
    )
    return fig


def relapse_hazard(stored: Stored) -> Figure | None:
    """Kaplan-Meier relapse hazard and cumulative relapse by years since escape, two ways."""
    hazard = stored.table("hazard")
    if hazard.empty:
        return None
    palette = colours(stored.labels, stored.baseline)
    labels = [label for label in stored.labels if label in set(hazard["scenario"])]
    variants = [v for v in ("all escapes", "same standard") if v in set(hazard["variant"])]
    fig = new_figure(13, 4.2 * len(variants) + 1)
    axes = np.atleast_2d(fig.subplots(len(variants), 2, sharex=True, squeeze=False))
    titles = {
        "all escapes": "all escapes, followed to the last review",
        "same standard": "censored at the change of standard",
    }
    letters = iter("abcd")
    for (left, right), variant in zip(axes, variants, strict=True):
        for label in labels:
            rows = hazard[(hazard["scenario"] == label) & (hazard["variant"] == variant)]
            rows = rows.sort_values("years_since_escape")
            k, colour, z = rows["years_since_escape"], palette[label], zorder(label, stored)
            for ax, column, scale in ((left, "hazard", 1000), (right, "cumulative", 100)):
                ax.fill_between(
                    k,
                    scale * rows[f"{column}_p05"],
                    scale * rows[f"{column}_p95"],
                    color=colour,
                    alpha=BAND_ALPHA,
                    lw=0,
                )
                ax.plot(
                    k,
                    scale * rows[f"{column}_mean"],
                    marker="o",
                    markersize=3,
                    color=colour,
                    label=label,
                    zorder=z,
                )
        left.set_ylabel("relapses per 1,000 escapes at risk")
        left.set_title(f"({next(letters)}) hazard k reviews after escape: {titles[variant]}", fontsize=9)
        right.set_ylabel("escapes ended by relapse (%)")
        right.set_title(
            f"({next(letters)}) cumulative relapse (1 - KM survival): {titles[variant]}", fontsize=9
        )
        for ax in (left, right):
            ax.grid(alpha=0.3)
            ax.set_ylim(bottom=0)
    for ax in axes[-1]:
        ax.set_xlabel("years since escape (reviews)")
    legend(axes[0][1], fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    finish(
        fig,
        stored,
        f"Relapse hazard by years since escape (Kaplan-Meier, escapes {review_span(stored)})",
        "Every escape (poor at one review, not poor at the next) starts an episode, censored at the last "
        "review; later years rest on early escapes only. Escapes before the change of standard meet the new "
        "yardstick some years after escape (the peak in the upper row); the lower row stops them there.",
    )
    return fig


def who_relapses(stored: Stored) -> Figure | None:
    """Share of escaped households that relapsed, by group, for every scenario with a panel."""
    who = stored.table("who_relapses")
    if who.empty:
        return None
    palette = colours(stored.labels, stored.baseline)
    labels = [label for label in stored.labels if label in set(who["scenario"])]
    keys = list(dict.fromkeys(zip(who["dimension"], who["group"], strict=True)))
    fig = new_figure(10, 0.32 * len(keys) + 2.4)
    ax = fig.subplots()
    offsets = np.linspace(-0.3, 0.3, len(labels)) if len(labels) > 1 else np.zeros(1)
    for offset, label in zip(offsets, labels, strict=True):
        rows = who[who["scenario"] == label].set_index(["dimension", "group"]).reindex(keys)
        y = np.arange(len(keys)) + offset
        share = 100 * rows["share_mean"].to_numpy(dtype=float)
        low = 100 * rows["share_p05"].to_numpy(dtype=float)
        high = 100 * rows["share_p95"].to_numpy(dtype=float)
        ax.errorbar(
            share,
            y,
            xerr=[share - low, high - share],
            fmt="o",
            markersize=4,
            color=palette[label],
            elinewidth=0.8,
            capsize=0,
            label=label,
        )
    ax.set_yticks(np.arange(len(keys)))
    ax.set_yticklabels([f"{d}: {g}" if d != "all" else g for d, g in keys], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("escaped households that relapsed at least once (%)")
    ax.grid(alpha=0.3, axis="x")
    ax.set_xlim(left=0)
    legend(ax, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    finish(
        fig,
        stored,
        "Who relapses: share of escaped households that fell back, by group (%; mean and 90 % band)",
        "Shocks and support are counted over the whole run, before or after the escape (the panel keeps "
        "totals only); support goes to poorer households, so these are associations, not effects. A "
        "household that relapses is on the poor list and is supported afterwards, so 'no support' shares "
        "are near zero by construction.",
    )
    return fig


def paired_differences(stored: Stored) -> Figure | None:
    """Differences from the baseline at the last review: paired and unpaired 95 % intervals."""
    diff = stored.table("differences")
    if diff.empty:
        return None
    year = int(diff["year"].max())
    panels = [
        ("poor_or_near_poor_rate", "poor + near-poor rate (percentage points)", 100),
        ("poor_rate", "poor rate (percentage points)", 100),
        ("relapses_per_1000_escaped", "relapses per 1,000 escaped households", 1),
    ]
    labels = [label for label in stored.labels if label != stored.baseline]
    palette = colours(stored.labels, stored.baseline)
    fig = new_figure(13, 0.45 * len(labels) + 2.6)
    axes = fig.subplots(1, len(panels), sharey=True)
    for ax, (outcome, unit, scale) in zip(axes, panels, strict=True):
        rows = (
            diff[(diff["outcome"] == outcome) & (diff["year"] == year)].set_index("scenario").reindex(labels)
        )
        y = np.arange(len(labels))
        ax.hlines(
            y,
            scale * rows["ci_low_unpaired"],
            scale * rows["ci_high_unpaired"],
            color="lightgrey",
            lw=6,
            label="unpaired 95 % CI",
        )
        for i, label in enumerate(labels):
            ax.hlines(
                i,
                scale * rows.loc[label, "ci_low"],
                scale * rows.loc[label, "ci_high"],
                color=palette[label],
                lw=2.5,
            )
            ax.plot(scale * rows.loc[label, "mean"], i, "o", color=palette[label], markersize=5)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(unit)
        ax.set_title(f"{unit.split(' (')[0]}, end-{year}", fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(np.arange(len(labels)))
    axes[0].set_yticklabels(labels, fontsize=8)
    axes[0].invert_yaxis()
    handles = [
        Line2D([], [], color="dimgrey", lw=2.5, marker="o", label="paired 95 % CI (common random numbers)"),
        Line2D([], [], color="lightgrey", lw=6, label="unpaired 95 % CI, same replicates"),
    ]
    axes[0].legend(handles=handles, fontsize=7, loc="best")
    finish(
        fig,
        stored,
        f"Scenario minus baseline '{stored.baseline}' at the end-{year} review (95 % confidence intervals)",
        "Replicate r of every scenario draws the same random streams, so differences are taken replicate by "
        "replicate (paired t interval); the grey bar is the interval an unpaired comparison would give.",
    )
    return fig


def paired_by_year(stored: Stored) -> Figure | None:
    """The targeted rate's difference from the baseline over time: paired against unpaired bands."""
    diff = stored.table("differences")
    if diff.empty:
        return None
    rate = measure_rate(stored)
    labels = [label for label in stored.labels if label != stored.baseline]
    palette = colours(stored.labels, stored.baseline)
    rows_n, cols = grid_shape(len(labels))
    fig = new_figure(4.3 * cols, 2.8 * rows_n + 1.2)
    axes = np.atleast_1d(fig.subplots(rows_n, cols, sharex=True, sharey=False, squeeze=False)).ravel()
    for ax, label in zip(axes, labels, strict=False):
        rows = diff[(diff["scenario"] == label) & (diff["outcome"] == rate)].sort_values("year")
        ax.fill_between(
            rows["year"],
            100 * rows["ci_low_unpaired"],
            100 * rows["ci_high_unpaired"],
            color="lightgrey",
            lw=0,
        )
        ax.fill_between(
            rows["year"], 100 * rows["ci_low"], 100 * rows["ci_high"], color=palette[label], alpha=0.45, lw=0
        )
        ax.plot(rows["year"], 100 * rows["mean"], color=palette[label], marker="o", markersize=3)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(label, fontsize=9)
        year_axis(ax, sorted(diff["year"].unique()))
    for ax in axes[::cols]:
        ax.set_ylabel("difference (points)")
    handles = [
        Patch(color="tab:blue", alpha=0.45, label="paired 95 % CI (common random numbers)"),
        Patch(color="lightgrey", label="unpaired 95 % CI, same replicates"),
    ]
    legend_in_spare(axes, len(labels), handles, cols=cols)
    finish(
        fig,
        stored,
        f"{RATE_LABELS[rate][0].capitalize()} rate, scenario minus baseline '{stored.baseline}' by review "
        "(percentage points)",
        "Common random numbers: the paired band (colour) is the uncertainty of the difference; the grey band "
        "is what independent runs would leave.",
    )
    return fig


def cost_note(row: pd.Series) -> str:
    """A scenario's cost ratio in words, for the legend."""
    ratio = row["vnd_per_household_kept_out"] / 1e6
    if row["reading"] == "costs more, keeps households out":
        return f"{ratio:,.1f} million VND per household kept out"
    if row["reading"] == "costs less, more households poor":
        return f"saves {ratio:,.1f} million VND per extra household in poverty"
    return str(row["reading"]) if isinstance(row["reading"], str) else "no difference"


def cost(stored: Stored) -> Figure | None:
    """Extra spending against households kept out of poverty, and where the extra spending went."""
    costs = stored.table("costs")
    if costs.empty:
        return None
    measure = measure_rate(stored).removesuffix("_rate")
    costs = costs[costs["measure"] == measure]
    totals = costs[costs["instrument"] == "all instruments"].set_index("scenario")
    labels = [label for label in stored.labels if label in totals.index]
    if not labels:
        return None
    year = int(totals["year"].iloc[0])
    palette = colours(stored.labels, stored.baseline)
    scenarios = stored.table("scenarios").set_index("scenario")
    switches = scenarios["switch_year"].fillna("none").astype(str)
    same = [label for label in labels if switches[label] == switches[stored.baseline]]
    omitted = [label for label in labels if label not in same]
    fig = new_figure(18, 0.35 * len(labels) + 5)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1])
    for label in same:
        row = totals.loc[label]
        x, y = row["kept_out_mean"], row["extra_vnd_mean"] / 1e9
        left.errorbar(
            x,
            y,
            xerr=[[x - row["kept_out_ci_low"]], [row["kept_out_ci_high"] - x]],
            yerr=[[y - row["extra_vnd_ci_low"] / 1e9], [row["extra_vnd_ci_high"] / 1e9 - y]],
            fmt="o",
            color=palette[label],
            capsize=2,
            label=f"{label}: {cost_note(row)}",
        )
    left.axhline(0, color="black", lw=0.8)
    left.axvline(0, color="black", lw=0.8)
    left.set_xlabel(f"households kept out of poverty ({measure.replace('_', ' ')}) at the end-{year} review")
    left.set_ylabel(f"extra spending 2022-{year} (VND billion)")
    left.set_title("(a) extra spending against households kept out, 95 % CIs (paired)", fontsize=9)
    left.grid(alpha=0.3)
    legend(left, fontsize=6.5, loc="upper left", bbox_to_anchor=(1.02, 1))
    by_instrument = costs[costs["instrument"] != "all instruments"]
    instruments = sorted(by_instrument["instrument"].unique())
    cmap = colormaps["tab20"]
    y = np.arange(len(labels))
    positive, negative = np.zeros(len(labels)), np.zeros(len(labels))
    for i, instrument in enumerate(instruments):
        values = (
            by_instrument[by_instrument["instrument"] == instrument]
            .set_index("scenario")["extra_vnd_mean"]
            .reindex(labels)
            .fillna(0.0)
            .to_numpy()
            / 1e9
        )
        start = np.where(values >= 0, positive, negative)
        right.barh(y, values, left=start, height=0.6, color=cmap(i % 20), label=instrument.replace("_", " "))
        positive += np.where(values >= 0, values, 0)
        negative += np.where(values < 0, values, 0)
    right.axvline(0, color="black", lw=0.8)
    right.set_yticks(y)
    right.set_yticklabels(labels, fontsize=8)
    right.invert_yaxis()
    right.set_xlabel(f"extra spending 2022-{year} against the baseline (VND billion)")
    right.set_title("(b) extra spending by instrument", fontsize=9)
    legend(right, fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1))
    right.grid(alpha=0.3, axis="x")
    finish(
        fig,
        stored,
        f"Cost: extra VND per household kept out of poverty through {year}, against '{stored.baseline}'",
        "Spending is what the ledger paid (loans at face value, repayments not deducted). VND per "
        "household = mean extra spending / mean households kept out at the last review."
        + (
            f" Left out of (a): {', '.join(omitted)}, which change standard at another review than the "
            "baseline (the households they 'keep out' are partly the yardstick's)."
            if omitted
            else ""
        ),
    )
    return fig


def standard_change(stored: Stored) -> Figure | None:
    """The jump at the change of standard, split into real change, new lines and new indicators."""
    change = stored.table("standard_change")
    if change.empty:
        return None
    outcomes = stored.table("outcomes")
    rate = measure_rate(stored)
    labels = [label for label in stored.labels if label in set(change["scenario"])]
    fig = new_figure(15, 0.35 * len(labels) + 4.5)
    axes = fig.subplots(1, 3, width_ratios=[1, 1, 1.2])
    parts = [
        ("real_change", "real change (Decree 07 yardstick)", "#1b7837"),
        ("new_lines", "new income lines", "#762a83"),
        ("new_indicators", "new indicators", "#e08214"),
    ]
    y = np.arange(len(labels))
    for ax, which in zip(axes[:2], (rate, "poor_rate"), strict=True):
        rows = change[change["rate"] == which]
        positive, negative = np.zeros(len(labels)), np.zeros(len(labels))
        for component, name, colour in parts:
            values = (
                100
                * rows[rows["component"] == component]
                .set_index("scenario")["mean"]
                .reindex(labels)
                .fillna(0.0)
                .to_numpy()
            )
            start = np.where(values >= 0, positive, negative)
            ax.barh(y, values, left=start, height=0.6, color=colour, label=name)
            positive += np.where(values >= 0, values, 0)
            negative += np.where(values < 0, values, 0)
        total = (
            100
            * rows[rows["component"] == "total_jump"].set_index("scenario")["mean"].reindex(labels).to_numpy()
        )
        ax.plot(total, y, "k|", markersize=14, markeredgewidth=2, label="total jump")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("change from the review before (percentage points)")
        ax.set_title(f"{RATE_LABELS[which][0]} rate: jump at the first Decree 351 review", fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    for ax in axes[:2]:
        ax.use_sticky_edges = False  # zero-width bars must not pin the axis limits
        ax.margins(x=0.08)
        ax.set_ylim(len(labels) + 0.9, -0.6)  # room below the bars for the legend
    legend(axes[0], fontsize=7, loc="lower center", ncols=2)
    ax = axes[2]
    new_standard = series(outcomes, stored.baseline, f"{rate}_under_decree_351")["mean"].to_numpy()
    for yardstick, (name, colour, style) in YARDSTICK_LABELS.items():
        rows = series(outcomes, stored.baseline, f"{rate}_under_{yardstick}")
        if rows.empty:
            continue
        if yardstick == "decree_351_lines" and np.array_equal(rows["mean"].to_numpy(), new_standard):
            name += " (the same here)"
        ax.fill_between(rows["year"], 100 * rows["p05"], 100 * rows["p95"], color=colour, alpha=0.12, lw=0)
        ax.plot(rows["year"], 100 * rows["mean"], style, color=colour, marker="o", markersize=3, label=name)
    mark_switch(ax, stored)
    year_axis(ax, sorted(outcomes["year"].unique()))
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"{RATE_LABELS[rate][0]} households (%)")
    ax.set_title(f"'{stored.baseline}': the same households under each yardstick", fontsize=9)
    legend(ax, fontsize=7, loc="upper right")
    finish(
        fig,
        stored,
        "The change of standard: how much of the jump is the new yardstick and how much is real change",
        "Each review classifies the same households (same measured incomes and scored indicators) under "
        "both decrees. Real change = Decree 07 rate at the switch minus the review before; the rest is the "
        "yardstick.",
    )
    return fig


def deprivations(stored: Stored) -> Figure | None:
    """Share deprived in each indicator by review, per scenario."""
    outcomes = stored.table("outcomes")
    indicators = sorted({o for o in outcomes["outcome"].unique() if o.startswith("deprived_")})
    indicators = [i for i in indicators if outcomes[outcomes["outcome"] == i]["mean"].notna().any()]
    if not indicators:
        return None
    palette = colours(stored.labels, stored.baseline)
    rows_n, cols = grid_shape(len(indicators) + 1, 4)
    fig = new_figure(3.2 * cols, 2.4 * rows_n + 1.4)
    axes = np.atleast_1d(fig.subplots(rows_n, cols, sharex=True, squeeze=False)).ravel()
    years = sorted(outcomes["year"].unique())
    for ax, indicator in zip(axes, indicators, strict=False):
        for label in stored.labels:
            draw_band(
                ax,
                series(outcomes, label, indicator),
                palette[label],
                100,
                label,
                band=label == stored.baseline,
            )
        ax.set_title(indicator.removeprefix("deprived_").replace("_", " "), fontsize=8)
        year_axis(ax, years)
        ax.set_xlabel("")
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
    for ax in axes[::cols]:
        ax.set_ylabel("households deprived (%)", fontsize=8)
    handles = [Line2D([], [], color=palette[label], label=label) for label in stored.labels]
    legend_in_spare(axes, len(indicators), handles, cols=cols)
    finish(
        fig,
        stored,
        "Deprivations by indicator at each review (% of households scored deprived; band: baseline)",
        "An indicator is shown only for the reviews whose standard scores it (information means until "
        "Decree 07 ends; digital services, internet access and waste handling from Decree 351).",
    )
    return fig


def ethnicity(stored: Stored) -> Figure | None:
    """Ethnic-minority against Kinh households: rates and the gap."""
    outcomes = stored.table("outcomes")
    if "ethnic_gap_poor_or_near_poor_rate" not in set(outcomes["outcome"]):
        return None
    palette = colours(stored.labels, stored.baseline)
    fig = new_figure(15, 5)
    axes = fig.subplots(1, 3)
    panels = [
        ("ethnic_minority_poor_or_near_poor_rate", "(a) ethnic-minority households", "households (%)"),
        ("kinh_poor_or_near_poor_rate", "(b) Kinh households", "households (%)"),
        ("ethnic_gap_poor_or_near_poor_rate", "(c) gap: ethnic minority minus Kinh", "percentage points"),
    ]
    years = sorted(outcomes["year"].unique())
    for ax, (outcome, title, unit) in zip(axes, panels, strict=True):
        for label in stored.labels:
            draw_band(
                ax, series(outcomes, label, outcome), palette[label], 100, label, z=zorder(label, stored)
            )
        mark_switch(ax, stored)
        year_axis(ax, years)
        ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(unit)
    legend(axes[0], fontsize=7, ncols=2)
    finish(fig, stored, "Poor + near-poor rate of ethnic-minority and Kinh households")
    return fig


def communes(stored: Stored) -> Figure | None:
    """The targeted rate in each commune at the first and last review, scenarios side by side."""
    table = stored.table("communes")
    if table.empty:
        return None
    palette = colours(stored.labels, stored.baseline)
    first, last = int(table["year"].min()), int(table["year"].max())
    labels = [label for label in stored.labels if label in set(table["scenario"])]
    reference = labels[0] if stored.baseline not in labels else stored.baseline
    start = table[(table["scenario"] == reference) & (table["year"] == first)].set_index("commune")[
        "rate_mean"
    ]
    order = list(start.sort_values(ascending=False).index)
    fig = new_figure(10, 0.26 * len(order) + 2.5)
    ax = fig.subplots()
    y = np.arange(len(order))
    ax.scatter(
        100 * start.reindex(order),
        y,
        facecolors="none",
        edgecolors="grey",
        s=30,
        label=f"end-{first} ({reference})",
    )
    for label in labels:
        end = table[(table["scenario"] == label) & (table["year"] == last)].set_index("commune")["rate_mean"]
        ax.scatter(
            100 * end.reindex(order),
            y,
            color=palette[label],
            s=14,
            label=f"end-{last}: {label}",
            zorder=zorder(label, stored),
        )
    ax.set_yticks(y)
    ax.set_yticklabels(order, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlabel("households in the targeted measure (%)")
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3, axis="x")
    legend(ax, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    finish(
        fig,
        stored,
        f"Communes side by side: targeted rate at end-{first} and end-{last} (%)",
        "Commune attributes are partly assumed (src/povsim/data/communes_sources.md).",
    )
    return fig


FIGURES: dict[str, tuple[Callable[[Stored], Figure | None], str]] = {
    "rates_fan": (fan_charts, "Fan charts: poor, near-poor and combined rates per scenario"),
    "targeted_rate_all": (combined_overlay, "The targeted rate in every scenario"),
    "relapse_rate": (relapse_rates, "Relapses per 1,000 escaped households by review"),
    "relapse_hazard": (relapse_hazard, "Relapse hazard by years since escape (Kaplan-Meier)"),
    "who_relapses": (who_relapses, "Who relapses"),
    "paired_differences": (paired_differences, "Differences from the baseline, paired and unpaired"),
    "paired_differences_by_year": (paired_by_year, "Differences from the baseline by review"),
    "cost": (cost, "Cost per household kept out of poverty"),
    "standard_change": (standard_change, "The 2027 change of standard: yardstick against real change"),
    "deprivations": (deprivations, "Deprivations by indicator"),
    "ethnicity": (ethnicity, "Ethnic-minority and Kinh households"),
    "communes": (communes, "Communes side by side"),
}


def draw_all(stored: Stored, folder: Path) -> list[str]:
    """Draw every figure the stored tables allow; return the files written."""
    files = []
    for stem, (draw, _) in FIGURES.items():
        fig = draw(stored)
        if fig is not None:
            files += save(fig, folder, stem)
    return files
