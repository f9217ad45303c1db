"""The dashboard's plots, as matplotlib `Figure` objects built from a model's current state.

Each function only reads the model (reviews, ledger, household arrays, the household trace)
and draws; none changes it. They use `matplotlib.figure.Figure`, not pyplot, so that they are
safe in the server's threads and leave no global state behind.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from povsim.dashboard.model import TRACE_SHOCKS, DashboardModel
from povsim.households import NO_STATUS
from povsim.model import FIRST_REVIEW_YEAR, MONTHS_PER_YEAR, last_review_year, review_date
from povsim.policies import INSTRUMENT_IDS
from povsim.standards import Status, standard_in_force

SIZE = (6.2, 3.6)  # inches; at DPI this fills a half-width card of the dashboard
DPI = 90
POOR, NEAR_POOR, COMBINED = "#c0392b", "#e67e22", "#2c3e50"
ESCAPED, RELAPSED, NEWLY_POOR = "#27ae60", "#c0392b", "#e67e22"
STATUS_NAMES = {
    int(Status.POOR): "poor",
    int(Status.NEAR_POOR): "near-poor",
    int(Status.AVERAGE): "average",
    int(Status.ABOVE_AVERAGE): "above average",
}
STATUS_CODES = {  # short labels above the household plot
    int(Status.POOR): "poor",
    int(Status.NEAR_POOR): "near",
    int(Status.AVERAGE): "avg",
    int(Status.ABOVE_AVERAGE): "above",
}
STATUS_COLOURS = {
    int(Status.POOR): POOR,
    int(Status.NEAR_POOR): NEAR_POOR,
    int(Status.AVERAGE): "#7f8c8d",
    int(Status.ABOVE_AVERAGE): "#27ae60",
}
SHOCK_MARKERS = {
    "serious illness": ("P", "#8e44ad"),
    "worker lost": ("X", "#2c3e50"),
    "job lost": ("v", "#7f8c8d"),
    "herd disease": ("s", "#a0522d"),
    "disaster": ("^", "#2980b9"),
}


def new_figure(
    height: float = SIZE[1], left: float = 0.11, right: float = 0.97, bottom: float = 0.13, top: float = 0.91
) -> Figure:
    """A blank figure of the dashboard's size, with fixed margins (automatic layout is slow)."""
    fig = Figure(figsize=(SIZE[0], height), dpi=DPI)
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top)
    return fig


def review_years_span(model: DashboardModel) -> tuple[int, int]:
    """First and last review year of the model's calendar."""
    return FIRST_REVIEW_YEAR, last_review_year(model.params.calendar.end_date)


def observed_rates(model: DashboardModel) -> dict[int, float]:
    """The observed rates of the targeted measure, by review year (end-2021 and end-2024)."""
    targets = model.params.targets
    return {FIRST_REVIEW_YEAR: targets.initial_rate_share, 2024: targets.observed_2024_rate_share}


def _percent_axis(ax: object, top: float) -> None:
    ax.set_ylim(0, top)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _year_axis(ax: object, model: DashboardModel, pad: float = 0.5) -> None:
    first, last = review_years_span(model)
    ax.set_xlim(first - pad, last + pad)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def rates_figure(model: DashboardModel) -> Figure:
    """Poor, near-poor and combined rates at each review, with the observed rates marked."""
    fig = new_figure()
    ax = fig.subplots()
    reviews = model.reviews
    years = [r["year"] for r in reviews]
    series = {
        "poor": ("poor_rate", POOR),
        "near-poor": ("near_poor_rate", NEAR_POOR),
        "poor or near-poor": ("poor_or_near_poor_rate", COMBINED),
    }
    for label, (key, colour) in series.items():
        ax.plot(years, [r[key] for r in reviews], "o-", color=colour, label=label, lw=2, ms=4)
    measure = model.params.targets.measure
    observed = observed_rates(model)
    ax.plot(
        list(observed),
        list(observed.values()),
        "D",
        mfc="none",
        mec="black",
        mew=1.5,
        ms=9,
        label=f"observed ({measure.replace('_', ' ').replace('or near poor', 'or near-poor')})",
    )
    for year, rate in observed.items():
        ax.annotate(
            f"{100 * rate:.2f} %".replace(".00 ", " "),
            (year, rate),
            xytext=(8, 6),
            textcoords="offset points",
            fontsize=8,
        )
    switch = model.params.standards.decree_351_first_review_date.year
    first, last = review_years_span(model)
    if first < switch <= last:
        ax.axvline(switch - 0.5, color="grey", ls=":", lw=1)
        ax.text(
            switch - 0.45, 0.02, "Decree 351", transform=ax.get_xaxis_transform(), fontsize=7, va="bottom"
        )
    top = max([0.3, *[r["poor_or_near_poor_rate"] * 1.15 for r in reviews]])
    _percent_axis(ax, top)
    _year_axis(ax, model)
    ax.set_xlabel("December review")
    ax.set_ylabel("share of households")
    ax.set_title("Poverty rates at each review", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    return fig


def transitions_figure(model: DashboardModel) -> Figure:
    """Households that escaped, relapsed and became newly poor at each review."""
    fig = new_figure()
    ax = fig.subplots()
    reviews = model.reviews[1:]  # the end-2021 review has no previous one
    years = np.array([r["year"] for r in reviews], dtype=float)
    width = 0.27
    for offset, (key, label, colour) in zip(
        (-width, 0.0, width),
        (
            ("escaped", "escaped", ESCAPED),
            ("relapsed", "relapsed", RELAPSED),
            ("newly_poor", "newly poor", NEWLY_POOR),
        ),
        strict=True,
    ):
        ax.bar(years + offset, [r[key] for r in reviews], width, color=colour, label=label)
    first, last = review_years_span(model)
    ax.set_xlim(first + 0.5, last + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not reviews:
        ax.text(0.5, 0.5, "the first review is in December 2022", ha="center", transform=ax.transAxes)
        ax.set_ylim(0, 1)
    ax.set_xlabel("December review")
    ax.set_ylabel(f"households (of {model.households.count:,})")
    ax.set_title("Escapes, relapses and newly poor at each review", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, loc="upper right")
    return fig


def spending_figure(model: DashboardModel) -> Figure:
    """Program spending by instrument and year so far (VND billion)."""
    fig = new_figure(right=0.72)
    ax = fig.subplots()
    ledger = model.ledger
    shown = ledger.years <= model.year if model.months_elapsed else np.zeros(len(ledger.years), bool)
    years = ledger.years[shown]
    spent = ledger.vnd[:, shown] / 1e9
    colours = [
        "#1f77b4",
        "#aec7e8",
        "#ff7f0e",
        "#ffbb78",
        "#2ca02c",
        "#98df8a",
        "#d62728",
        "#ff9896",
        "#9467bd",
        "#c5b0d5",
        "#8c564b",
        "#c49c94",
        "#e377c2",
        "#7f7f7f",
    ]
    bottom = np.zeros(len(years))
    for i, instrument in enumerate(INSTRUMENT_IDS):
        if spent[i].sum() <= 0:
            continue
        ax.bar(
            years, spent[i], 0.7, bottom=bottom, color=colours[i % len(colours)], label=_pretty(instrument)
        )
        bottom += spent[i]
    _year_axis(ax, model)
    ax.set_xlim(FIRST_REVIEW_YEAR + 0.5, ax.get_xlim()[1])
    if not years.size:
        ax.text(0.5, 0.5, "nothing paid yet", ha="center", transform=ax.transAxes)
        ax.set_ylim(0, 1)
    ax.set_ylabel("VND billion")
    total = ledger.vnd.sum() / 1e9
    ax.set_title(f"Program spending by instrument (VND {total:,.1f} bn so far)", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    if bottom.size and bottom.max() > 0:
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def deprivations_figure(model: DashboardModel) -> Figure:
    """Share of households deprived in each indicator at the latest review, beside the end-2021 review."""
    fig = new_figure(left=0.27)
    ax = fig.subplots()
    latest, first = model.reviews[-1], model.reviews[0]
    names = [
        key.removeprefix("deprived_")
        for key, value in latest.items()
        if key.startswith("deprived_") and value == value  # NaN: not scored by the standard in force
    ]
    now = np.array([latest[f"deprived_{n}"] for n in names])
    then = np.array([first.get(f"deprived_{n}", np.nan) for n in names], dtype=float)
    rows = np.arange(len(names))
    ax.barh(rows, now, 0.6, color="#5d6d7e", label=f"end-{latest['year']} review")
    if latest is not first:
        ax.plot(then, rows, "|", color="black", ms=12, mew=2, label=f"end-{first['year']} review")
    ax.set_yticks(rows, [_pretty(n) for n in names], fontsize=7)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlim(0, max(0.1, float(np.nanmax(np.r_[now, then, 0.0])) * 1.15))
    ax.set_xlabel("share of households deprived")
    ax.set_title(f"Deprivations by indicator ({latest['standard']})", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def commune_rates(model: DashboardModel) -> tuple[list[int], np.ndarray]:
    """Review years and the targeted measure's rate in each commune at each (communes x years)."""
    state = model.households
    counts = np.bincount(state.commune, minlength=model.communes.count)
    poor_only = model.params.targets.measure == "poor"
    rates = []
    for status in model.status_history:
        hit = status == Status.POOR if poor_only else (status == Status.POOR) | (status == Status.NEAR_POOR)
        hits = np.bincount(state.commune, weights=hit & (status != NO_STATUS), minlength=model.communes.count)
        rates.append(np.divide(hits, counts, out=np.full(len(counts), np.nan), where=counts > 0))
    years = [r["year"] for r in model.reviews]
    return years, np.column_stack(rates)


def communes_figure(model: DashboardModel) -> Figure:
    """Heat map of the targeted measure's rate by commune (rows) and review (columns)."""
    fig = new_figure(height=4.1, left=0.25, right=1.0, bottom=0.07, top=0.93)
    ax = fig.subplots()
    rates = commune_rates(model)[1]
    first, last = review_years_span(model)
    grid = np.full((rates.shape[0], last - first + 1), np.nan)
    grid[:, : rates.shape[1]] = rates
    order = np.argsort(-np.nan_to_num(rates[:, 0]))
    counts = np.bincount(model.households.commune, minlength=model.communes.count)
    image = ax.imshow(
        grid[order],
        aspect="auto",
        cmap="YlOrRd",
        vmin=0.0,
        vmax=max(0.4, float(np.nanmax(rates))),
        origin="upper",
    )
    ax.set_xticks(range(grid.shape[1]), [str(y) for y in range(first, last + 1)], fontsize=7)
    labels = [f"{model.communes.names[i]} ({counts[i]:,})" for i in order]
    ax.set_yticks(range(len(order)), labels, fontsize=5.5)
    colourbar = fig.colorbar(image, ax=ax, shrink=0.8, format=PercentFormatter(1.0, decimals=0))
    colourbar.ax.tick_params(labelsize=7)
    measure = "poor" if model.params.targets.measure == "poor" else "poor or near-poor"
    ax.set_title(f"Communes: {measure} rate at each review (households)", fontsize=10)
    return fig


def _month_to_year(month: np.ndarray) -> np.ndarray:
    """Model month (0 = December 2021) as a decimal year at the middle of the month."""
    return FIRST_REVIEW_YEAR + (MONTHS_PER_YEAR - 1 + np.asarray(month) + 0.5) / MONTHS_PER_YEAR


def household_figure(model: DashboardModel, row: int) -> Figure:
    """One household's income per person, the income line, shocks, status at each review and support."""
    fig = new_figure(height=4.0, bottom=0.08, top=0.93)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1.0))
    history = model.trace.household(row)
    x = _month_to_year(history["month"])
    income = history["income_vnd_per_person_month"] / 1e6
    top.plot(x, income, color=COMBINED, lw=1.2, label="income per person")
    urban = model.households.urban[row : row + 1]
    first, last = review_years_span(model)
    # The line of the lists in force: a year's lists are set by the previous December's review.
    starts = [first + (MONTHS_PER_YEAR - 1) / MONTHS_PER_YEAR, *range(first + 1, last + 1)]
    set_by = [first, *range(first, last)]
    line = [standard_in_force(review_date(y), model.params).income_line(urban)[0] / 1e6 for y in set_by]
    top.step(
        [*starts, last + 1], [*line, line[-1]], where="post", color=POOR, ls="--", lw=1, label="income line"
    )
    for label, (marker, colour) in SHOCK_MARKERS.items():
        struck = history[label]
        if struck.any():
            top.plot(x[struck], income[struck], marker, color=colour, ms=7, ls="none", label=label)
    for year, status in zip((r["year"] for r in model.reviews), model.status_history, strict=True):
        code = int(status[row])
        top.annotate(
            STATUS_CODES.get(code, "?"),
            (year + (MONTHS_PER_YEAR - 0.5) / MONTHS_PER_YEAR, 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=6.5,
            color=STATUS_COLOURS.get(code, "black"),
            fontweight="bold",
        )
    top.set_ylim(0, max(float(np.max(income, initial=0.0)) * 1.1, max(line) * 1.6))
    top.set_ylabel("VND million / month")
    top.legend(fontsize=6, loc="upper left", ncol=3)
    top.grid(alpha=0.3)
    bottom.step(x, history["support_vnd"] / 1e6, where="post", color="#27ae60", lw=1.5)
    bottom.set_ylabel("support so far\n(VND million)", fontsize=8)
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    bottom.grid(alpha=0.3)
    bottom.set_xlim(first + (MONTHS_PER_YEAR - 2) / MONTHS_PER_YEAR, last + 1)
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def _pretty(name: str) -> str:
    return name.replace("_", " ")


__all__ = [
    "TRACE_SHOCKS",
    "commune_rates",
    "communes_figure",
    "deprivations_figure",
    "household_figure",
    "rates_figure",
    "spending_figure",
    "transitions_figure",
]
