"""report.html: one self-contained page with the comparison's headlines, figures, tables and inputs.

Every number on the page is a cell of a stored table, written by `Page.cell`, which wraps it
in `<span class="num" data-table=... data-row=... data-column=... data-format=...>` so that
a reader (and the tests) can trace it back. The headline sentences are generated from those
cells; figures are embedded as base64 PNG (the SVG files sit beside the report).
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from povsim.comparison.figures import FIGURES, MEASURE_RATES, RATE_LABELS, baseline_posterior
from povsim.comparison.stored import TABLES, Stored

FORMATS: dict[str, Callable[[float], str]] = {
    "pct": lambda v: f"{100 * v:.2f} %",
    "points": lambda v: f"{100 * v:+.2f} points",
    "rate": lambda v: f"{v:.1f}",
    "signed_rate": lambda v: f"{v:+.1f}",
    "count": lambda v: f"{v:,.0f}",
    "signed_count": lambda v: f"{v:+,.0f}",
    "vnd_bn": lambda v: f"{v / 1e9:,.1f}",
    "signed_vnd_bn": lambda v: f"{v / 1e9:+,.1f}",
    "vnd_m": lambda v: f"{v / 1e6:,.1f}",
    "ratio": lambda v: f"{v:.1f}",
    "year": lambda v: f"{int(v)}",
}
MISSING = "n/a"
RATIO = "vnd_per_household_kept_out"
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1180px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
.warning { background: #fff3cd; border: 2px solid #d39e00; padding: .8em 1em; border-radius: 4px; }
.headline { margin: .6em 0; }
.scenario-name { font-weight: bold; }
table { border-collapse: collapse; margin: .8em 0; font-size: .85em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #444; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: .8em; max-height: 30em; }
.notes li { margin: .3em 0; }
"""


class Page:
    """Number cells read from the stored tables, each traceable to its table, row and column."""

    def __init__(self, stored: Stored) -> None:
        self.stored = stored

    def row(self, table: str, **keys: Any) -> int | None:
        """The index of the one row of `table` whose columns equal `keys`, if there is one."""
        frame = self.stored.table(table)
        if frame.empty:
            return None
        mask = pd.Series(True, index=frame.index)
        for column, value in keys.items():
            if column not in frame:
                return None
            mask &= frame[column] == value
        index = frame.index[mask]
        return int(index[0]) if len(index) == 1 else None

    def value(self, table: str, row: int | None, column: str) -> float:
        """A number of a stored table (NaN if the row or column is absent)."""
        frame = self.stored.table(table)
        if row is None or column not in frame:
            return math.nan
        value = frame.at[row, column]
        return float(value) if pd.notna(value) else math.nan

    def cell(self, table: str, row: int | None, column: str, fmt: str) -> str:
        """A formatted number wrapped in a span that names its source cell."""
        value = self.value(table, row, column)
        text = MISSING if math.isnan(value) else FORMATS[fmt](value)
        return (
            f'<span class="num" data-table="{table}" data-row="{"" if row is None else row}" '
            f'data-column="{column}" data-format="{fmt}">{html.escape(text)}</span>'
        )

    def band(self, table: str, row: int | None, fmt: str, low: str = "p05", high: str = "p95") -> str:
        """Two cells as a range: "low-high"."""
        return f"{self.cell(table, row, low, fmt)} to {self.cell(table, row, high, fmt)}"


def name(label: str) -> str:
    """A scenario's name in a sentence."""
    return f'<span class="scenario-name">{html.escape(label)}</span>'


def measure_rate(stored: Stored) -> str:
    """The baseline's targeted rate column."""
    scenarios = stored.table("scenarios")
    row = scenarios[scenarios["scenario"] == stored.baseline]
    return MEASURE_RATES.get(str(row["measure"].iloc[0]), "poor_or_near_poor_rate")


def horizon(stored: Stored) -> int:
    """The last review all scenarios share."""
    return int(stored.table("scenarios")["last_year"].min())


def verdict(page: Page, row: int | None) -> str:
    """Words for a paired difference, from its interval."""
    mean = page.value("differences", row, "mean")
    low = page.value("differences", row, "ci_low")
    high = page.value("differences", row, "ci_high")
    se = page.value("differences", row, "se_paired")
    if mean == 0 and se == 0:
        return "identical to the baseline (the same random streams give the same values)"
    if math.isnan(low):
        return "with too few replicates for an interval"
    if high < 0:
        return "lower than the baseline"
    if low > 0:
        return "higher than the baseline"
    return "not clearly different from the baseline"


def headline(page: Page, label: str) -> str:
    """One scenario's headline in plain words: rate and relapse risk at the horizon, against the baseline."""
    stored = page.stored
    year, rate, base = horizon(stored), measure_rate(stored), stored.baseline
    what = RATE_LABELS[rate][0].replace("+", "or")
    r = page.row("outcomes", scenario=label, year=year, outcome=rate)
    y = page.cell("outcomes", r, "year", "year")
    text = (
        f"{name(label)}{' (the baseline)' if label == base else ''}: at the end-{y} review "
        f"{page.cell('outcomes', r, 'mean', 'pct')} of households are {what} "
        f"(90 % band over replicates {page.band('outcomes', r, 'pct')})"
    )
    relapse = page.row("outcomes", scenario=label, year=year, outcome="relapses_per_1000_escaped")
    relapse_text = (
        f"{page.cell('outcomes', relapse, 'mean', 'rate')} relapses per 1,000 escaped households at that "
        f"review (band {page.band('outcomes', relapse, 'rate')})"
    )
    if label == base:
        return f"{text}; {relapse_text}."
    d = page.row("differences", scenario=label, year=year, outcome=rate)
    b = page.row("outcomes", scenario=base, year=year, outcome=rate)
    text += (
        f", against {page.cell('outcomes', b, 'mean', 'pct')} in the baseline: a paired difference of "
        f"{page.cell('differences', d, 'mean', 'points')} "
        f"(95 % CI {page.band('differences', d, 'points', 'ci_low', 'ci_high')}), "
        f"{verdict(page, d)}. "
    )
    dr = page.row("differences", scenario=label, year=year, outcome="relapses_per_1000_escaped")
    br = page.row("outcomes", scenario=base, year=year, outcome="relapses_per_1000_escaped")
    text += (
        f"Relapse risk: {relapse_text}, against {page.cell('outcomes', br, 'mean', 'rate')} in the baseline "
        f"(paired difference {page.cell('differences', dr, 'mean', 'signed_rate')}, 95 % CI "
        f"{page.band('differences', dr, 'signed_rate', 'ci_low', 'ci_high')}; {verdict(page, dr)})."
    )
    ratio = page.value("differences", d, "width_ratio")
    if not math.isnan(ratio):
        text += (
            f" Common random numbers make the paired interval of the rate difference "
            f"{page.cell('differences', d, 'width_ratio', 'ratio')} times narrower than an unpaired one."
        )
    measure = rate.removesuffix("_rate")
    c = page.row("costs", scenario=label, measure=measure, instrument="all instruments")
    if c is not None:
        reading = str(stored.table("costs").at[c, "reading"])
        ratio = page.cell("costs", c, RATIO, "vnd_m")
        meaning = {
            "costs more, keeps households out": f"{ratio} million VND per household kept out",
            "costs less, more households poor": f"{ratio} million VND saved per extra household in poverty",
            "costs less, keeps households out": "it saves money and keeps households out",
            "costs more, more households poor": "it costs more and keeps fewer households out",
        }.get(reading, "no household kept out or lost")
        text += (
            f" Extra spending {page.cell('costs', c, 'first_year', 'year')}-{y} against the baseline: "
            f"{page.cell('costs', c, 'extra_vnd_mean', 'signed_vnd_bn')} billion VND; households kept out "
            f"of poverty at the end-{y} review: {page.cell('costs', c, 'kept_out_mean', 'signed_count')} "
            f"({meaning})."
        )
    return text


def terminal_table(stored: Stored) -> list[str]:
    """The headlines as a compact table for the terminal: rate, relapses and their differences."""
    page = Page(stored)
    year, rate = horizon(stored), measure_rate(stored)

    def shown(table: str, row: int | None, column: str, fmt: str) -> str:
        value = page.value(table, row, column)
        return (
            MISSING if math.isnan(value) else FORMATS[fmt](value).removesuffix(" points").removesuffix(" %")
        )

    def cell(table: str, row: int | None, fmt: str, low: str, high: str, sep: str, unit: str = "") -> str:
        if row is None:
            return ""
        return (
            f"{shown(table, row, 'mean', fmt)}{unit} "
            f"({shown(table, row, low, fmt)}{sep}{shown(table, row, high, fmt)})"
        )

    rows = [
        [
            "scenario",
            f"{RATE_LABELS[rate][0]}, end-{year}",
            "vs baseline, points (95 % CI)",
            "relapses per 1,000 escaped",
            "vs baseline (95 % CI)",
        ]
    ]
    for label in stored.labels:
        r = page.row("outcomes", scenario=label, year=year, outcome=rate)
        q = page.row("outcomes", scenario=label, year=year, outcome="relapses_per_1000_escaped")
        d = page.row("differences", scenario=label, year=year, outcome=rate)
        dq = page.row("differences", scenario=label, year=year, outcome="relapses_per_1000_escaped")
        rows.append(
            [
                label,
                cell("outcomes", r, "pct", "p05", "p95", "-", " %"),
                cell("differences", d, "points", "ci_low", "ci_high", " to "),
                cell("outcomes", q, "rate", "p05", "p95", "-"),
                cell("differences", dq, "signed_rate", "ci_low", "ci_high", " to "),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def plain_headlines(stored: Stored) -> list[str]:
    """The headlines as plain text (for the terminal)."""
    page = Page(stored)
    return [html.unescape(re.sub(r"<[^>]+>", "", headline(page, label))) for label in stored.labels]


def warning(page: Page) -> str:
    """The calibration warning, with the baseline's simulated and observed end-2024 rates."""
    stored = page.stored
    rate = measure_rate(stored)
    posterior = baseline_posterior(stored)
    if posterior:
        text = (
            "<strong>The baseline is calibrated to the 2021-2024 decline.</strong> Each replicate runs with "
            f"a parameter set drawn from the posterior <code>{html.escape(posterior)}</code>, so the bands "
            "hold parameter uncertainty as well as chance; the fit identifies nominal income growth and "
            "leaves the other fitted assumptions near their priors (docs/calibration.md). Projected levels "
            "assume the fitted 2022-2024 income growth continues to the last review."
        )
    else:
        text = (
            "<strong>The baseline is not calibrated.</strong> No parameter has been fitted to the observed "
            "decline, so the projected levels are a demonstration of the machinery, not a forecast. "
            "Differences between scenarios (same households, same shocks) are more informative than "
            "levels, but they too depend on the uncalibrated parameters."
        )
    observed = page.row("observed", scenario=stored.baseline, year=2024)
    simulated = page.row("outcomes", scenario=stored.baseline, year=2024, outcome=rate)
    if observed is not None and simulated is not None:
        text += (
            f" At the end-2024 review the baseline shows {page.cell('outcomes', simulated, 'mean', 'pct')} "
            f"(90 % band {page.band('outcomes', simulated, 'pct')}) against the observed "
            f"{page.cell('observed', observed, 'rate', 'pct')}."
        )
    return f'<p class="warning">{text}</p>'


def key_rates_table(page: Page) -> str:
    """The targeted rate at key reviews, per scenario."""
    stored = page.stored
    outcomes = stored.table("outcomes")
    rate = measure_rate(stored)
    years = sorted(outcomes["year"].unique())
    switches = {int(s) for s in stored.table("scenarios")["switch_year"].dropna() if str(s).isdigit()}
    wanted = {years[0], years[-1], 2024, *switches, *(s - 1 for s in switches)}
    key_years = [y for y in years if y in wanted]
    head = "".join(f"<th>end-{y}</th>" for y in key_years)
    rows = []
    for label in stored.labels:
        cells = []
        for year in key_years:
            r = page.row("outcomes", scenario=label, year=year, outcome=rate)
            cells.append(
                f'<td class="n">{page.cell("outcomes", r, "mean", "pct")}<br>'
                f"<small>{page.band('outcomes', r, 'pct')}</small></td>"
            )
        rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
    return (
        f"<table><tr><th>scenario</th>{head}</tr>{''.join(rows)}</table>"
        f"<p><small>{RATE_LABELS[rate][0]} rate, mean over replicates and 90 % band "
        "(tables/outcomes.csv).</small></p>"
    )


def differences_table(page: Page) -> str:
    """Paired differences at the horizon."""
    stored = page.stored
    year, rate = horizon(stored), measure_rate(stored)
    outcomes = [(rate, "points"), ("poor_rate", "points"), ("relapses_per_1000_escaped", "signed_rate")]
    outcomes = list(dict.fromkeys(outcomes))
    head = "".join(
        f"<th>{html.escape(o.replace('_', ' '))}: paired 95 % CI</th><th>unpaired 95 % CI</th>"
        for o, _ in outcomes
    )
    rows = []
    for label in stored.labels:
        if label == stored.baseline:
            continue
        cells = []
        for outcome, fmt in outcomes:
            d = page.row("differences", scenario=label, year=year, outcome=outcome)
            cells.append(
                f'<td class="n">{page.cell("differences", d, "mean", fmt)}<br><small>'
                f"{page.band('differences', d, fmt, 'ci_low', 'ci_high')}</small></td>"
                '<td class="n"><small>'
                f"{page.band('differences', d, fmt, 'ci_low_unpaired', 'ci_high_unpaired')}</small></td>"
            )
        rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
    if not rows:
        return "<p>Only one scenario: no differences.</p>"
    return (
        f"<table><tr><th>scenario minus baseline, end-{year}</th>{head}</tr>{''.join(rows)}</table>"
        "<p><small>Rates in percentage points, relapses per 1,000 escaped households "
        "(tables/differences.csv; every year and more outcomes are there).</small></p>"
    )


def costs_table(page: Page) -> str:
    """Extra spending, households kept out and VND per household, per scenario; by instrument below."""
    stored = page.stored
    costs = stored.table("costs")
    if costs.empty:
        return "<p>No spending to compare (no ledger, or only one scenario).</p>"
    measure = measure_rate(stored).removesuffix("_rate")
    rows = []
    for label in stored.labels:
        c = page.row("costs", scenario=label, measure=measure, instrument="all instruments")
        if c is None:
            continue
        reading = html.escape(str(costs.at[c, "reading"]))
        rows.append(
            f"<tr><td>{html.escape(label)}</td>"
            f'<td class="n">{page.cell("costs", c, "extra_vnd_mean", "signed_vnd_bn")}<br><small>'
            f"{page.band('costs', c, 'signed_vnd_bn', 'extra_vnd_ci_low', 'extra_vnd_ci_high')}</small></td>"
            f'<td class="n">{page.cell("costs", c, "kept_out_mean", "signed_count")}<br><small>'
            f"{page.band('costs', c, 'signed_count', 'kept_out_ci_low', 'kept_out_ci_high')}</small></td>"
            f'<td class="n">{page.cell("costs", c, "vnd_per_household_kept_out", "vnd_m")}<br><small>'
            f"{page.band('costs', c, 'vnd_m', f'{RATIO}_ci_low', f'{RATIO}_ci_high')}"
            f"</small></td><td>{reading}</td></tr>"
        )
    instruments = sorted(i for i in costs["instrument"].dropna().unique() if i != "all instruments")
    detail = []
    for label in stored.labels:
        cells = []
        for instrument in instruments:
            c = page.row("costs", scenario=label, measure=measure, instrument=instrument)
            cells.append(f'<td class="n">{page.cell("costs", c, "vnd_per_household_kept_out", "vnd_m")}</td>')
        if page.row("costs", scenario=label, measure=measure, instrument="all instruments") is not None:
            detail.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
    head = "".join(f"<th>{html.escape(i.replace('_', ' '))}</th>" for i in instruments)
    return (
        "<table><tr><th>scenario</th><th>extra spending (VND bn), 95 % CI</th>"
        "<th>households kept out at the last review, 95 % CI</th>"
        "<th>VND million per household kept out, 95 % CI</th><th>reading</th></tr>"
        f"{''.join(rows)}</table>"
        "<details><summary>VND million per household kept out, by instrument (each instrument's share of "
        "the extra spending; they add up to the total)</summary>"
        f"<table><tr><th>scenario</th>{head}</tr>{''.join(detail)}</table></details>"
        "<p><small>Against the baseline, from the first program year to the last common review "
        "(tables/costs.csv, also for the poor rate alone and per household-year). Read the ratio with its "
        "reading: 'costs more, keeps households out': VND per household kept out; 'costs less, more "
        "households poor': VND saved per extra household in poverty; a negative ratio is a scenario that "
        "costs less and keeps more households out, or costs more and keeps fewer out. The interval is a "
        "paired bootstrap over replicates, left empty when the households kept out are not clearly "
        "different from zero.</small></p>"
    )


def standard_table(page: Page) -> str:
    """The decomposition of the jump at the change of standard."""
    stored = page.stored
    change = stored.table("standard_change")
    if change.empty:
        return (
            "<p>No scenario changes standard within its reviews (or the runs predate the counterfactual "
            "rates): nothing to decompose.</p>"
        )
    components = [
        ("before", "pct"),
        ("real_change", "points"),
        ("new_lines", "points"),
        ("new_indicators", "points"),
        ("total_jump", "points"),
        ("after", "pct"),
    ]
    rows = []
    for rate in dict.fromkeys([measure_rate(stored), "poor_rate"]):
        for label in stored.labels:
            first = page.row("standard_change", scenario=label, rate=rate, component="before")
            if first is None:
                continue
            cells = "".join(
                f'<td class="n">{page.cell("standard_change", row, "mean", fmt)}</td>'
                for row, fmt in (
                    (page.row("standard_change", scenario=label, rate=rate, component=c), fmt)
                    for c, fmt in components
                )
            )
            year = page.cell("standard_change", first, "switch_year", "year")
            rows.append(
                f"<tr><td>{html.escape(RATE_LABELS[rate][0])}</td><td>{html.escape(label)}</td>"
                f"<td>end-{year}</td>{cells}</tr>"
            )
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c, _ in components)
    return (
        f"<table><tr><th>rate</th><th>scenario</th><th>first review under Decree 351</th>{head}</tr>"
        f"{''.join(rows)}</table>"
        "<p><small>Means over replicates (tables/standard_change.csv has the bands). before: the review "
        "before the switch; real change: the same households under Decree 07 at the switch review minus "
        "before; new lines: Decree 351's lines with Decree 07's indicators minus Decree 07; new indicators: "
        "Decree 351 minus that; the three add up to the total jump. Indicators that the standard in force "
        "did not score are read from the households' state without scoring error.</small></p>"
    )


def figure_block(stored: Stored, page: Page, stem: str, caption: str) -> str:
    """One embedded figure with its caption (and, for the paired differences, how much pairing saves)."""
    path = stored.folder / "figures" / f"{stem}.png"
    if not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    extra = ""
    if stem == "paired_differences":
        extra = pairing_sentence(page)
    return (
        f'<figure id="{stem}"><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)} (figures/{stem}.png, figures/{stem}.svg). {extra}</figcaption>"
        "</figure>"
    )


def pairing_sentence(page: Page) -> str:
    """How much narrower the paired intervals are, from the narrowest and widest ratios."""
    stored = page.stored
    diff = stored.table("differences")
    year, rate = horizon(stored), measure_rate(stored)
    rows = diff[(diff["year"] == year) & (diff["outcome"] == rate) & diff["width_ratio"].notna()]
    if rows.empty:
        return ""
    low, high = int(rows["width_ratio"].idxmin()), int(rows["width_ratio"].idxmax())
    return (
        "Common random numbers: replicate r of every scenario meets the same households and shocks, so the "
        f"paired intervals of the end-{page.cell('differences', low, 'year', 'year')} rate difference are "
        f"{page.cell('differences', low, 'width_ratio', 'ratio')} to "
        f"{page.cell('differences', high, 'width_ratio', 'ratio')} times narrower than unpaired ones over "
        "the same replicates."
    )


def scenarios_section(stored: Stored) -> str:
    """Each scenario's question, its changes from the baseline (stored table) and its file."""
    changes = stored.table("scenario_changes")
    texts = {i["folder"]: i for i in stored.manifest["inputs"]}
    parts = []
    for entry in stored.manifest["scenarios"]:
        label = entry["label"]
        rows = changes[changes["scenario"] == label] if not changes.empty else changes
        table = (
            "<table><tr><th>setting</th><th>baseline</th><th>this scenario</th></tr>"
            + "".join(
                f"<tr><td>{html.escape(r.key)}</td><td>{html.escape(str(r.baseline_value))}</td>"
                f"<td>{html.escape(str(r.value))}</td></tr>"
                for r in rows.itertuples()
            )
            + "</table>"
            if len(rows)
            else "<p>No setting differs from the baseline's.</p>"
        )
        source = texts.get(entry["folder"], {})
        text = source.get("scenario_text")
        file_block = (
            f"<details><summary>{html.escape(str(source.get('scenario_file')))} (as on disk when compared)"
            f"</summary><pre>{html.escape(text)}</pre></details>"
            if text
            else f"<p><small>The file {html.escape(str(source.get('scenario_file')))} could not be read "
            "when compared; the settings above come from the run's manifest.</small></p>"
        )
        description = html.escape(entry.get("description") or "(no description)")
        parts.append(f"<h3>{html.escape(label)}</h3><p>{description}</p>{table}{file_block}")
    return "".join(parts)


def manifests_section(stored: Stored) -> str:
    """The runs compared: a table from scenarios.csv and every input's manifest."""
    scenarios = stored.table("scenarios")
    columns = [
        "scenario",
        "kind",
        "folder",
        "households",
        "replicates",
        "first_year",
        "last_year",
        "master_seed",
        "panel",
        "scenario_sha256",
        "created_utc",
    ]
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(getattr(r, c)))}</td>" for c in columns) + "</tr>"
        for r in scenarios.itertuples()
    )
    details = "".join(
        f"<details><summary>{html.escape(i['manifest_file'])}</summary>"
        f"<pre>{html.escape(json.dumps(i['manifest'], indent=2))}</pre></details>"
        for i in stored.manifest["inputs"]
    )
    return f"<table><tr>{head}</tr>{body}</table>{details}"


def write_report(stored: Stored, path: Path) -> list[str]:
    """Write report.html from the stored tables and figures; return the file written."""
    page = Page(stored)
    labels = ", ".join(html.escape(label) for label in stored.labels)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in stored.manifest.get("notes", []))
    figures = "".join(figure_block(stored, page, stem, caption) for stem, (_, caption) in FIGURES.items())
    headlines = "".join(f'<p class="headline">{headline(page, label)}</p>' for label in stored.labels)
    tables = ", ".join(f"{relative}" for relative in TABLES.values() if (stored.folder / relative).is_file())
    document = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>povsim: comparing policy mixes in Son Duong district</title>
<style>{STYLE}</style></head>
<body>
<h1>Which policy mix keeps households out of poverty? Son Duong district, {labels}</h1>
<p>povsim comparison made {html.escape(str(stored.manifest.get("created_utc")))}, povsim
{html.escape(str(stored.manifest.get("software", {}).get("povsim")))}, revision
{html.escape(str(stored.manifest.get("git_revision")))}.
Baseline: <strong>{html.escape(stored.baseline)}</strong>.</p>
{warning(page)}
<h2>Headlines</h2>
{headlines}
<h2>How to read this</h2>
<ul class="notes">
<li>Every scenario follows the same synthetic households of Son Duong district from the end-2021 review;
replicate r of every scenario meets the same random draws (common random numbers), so a difference
between scenarios is taken replicate by replicate. 90 % bands show the spread over replicates (what
could happen); 95 % confidence intervals show how precisely the mean difference is known.</li>
<li>A relapse is a household that was poor at some review, was not poor at a later one, and is poor
again. The first review under Decree 351/2025 moves the yardstick: part of that year's relapses and new
poverty is the new standard, not a change in the households (see the decomposition below).</li>
<li>A scenario's settings hold from January 2022 unless its own dates say otherwise (the scenario
files cannot yet change a value at a date): scenarios are alternative programs over the whole period,
and the end-2024 and end-2025 reviews already show their differences.</li>
<li>Spending is what the ledger paid, loans at face value (repayments not deducted).</li>
{notes}
</ul>
<h2>The targeted rate at key reviews</h2>
{key_rates_table(page)}
<h2>Differences from the baseline</h2>
{differences_table(page)}
<h2>Cost per household kept out of poverty</h2>
{costs_table(page)}
<h2>The change of standard</h2>
{standard_table(page)}
<h2>Figures</h2>
{figures}
<h2>The scenarios</h2>
{scenarios_section(stored)}
<h2>The runs compared</h2>
{manifests_section(stored)}
<p><small>Tables: {html.escape(tables)}. Every number above is a cell of one of them (hover-free: each
number's source is in its HTML element's data-table, data-row and data-column attributes).</small></p>
</body></html>
"""
    path.write_text(document, encoding="utf-8")
    return [path.name]
