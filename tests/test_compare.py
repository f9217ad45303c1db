"""`povsim compare` end to end, small: figures, tables, and a report whose numbers are the tables'."""

import html
import json
import math
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import SCENARIOS
from povsim import load_scenario
from povsim.cli import main
from povsim.comparison import compare
from povsim.comparison.report import FORMATS
from povsim.results import write_run_outputs
from povsim.runner import run_replicates

HOUSEHOLDS = 1000
REPLICATES = 3
REFERENCE = "calibrated"  # the library extends it; its replicates draw from the shipped posterior
LIBRARY = (REFERENCE, "program_ends_2025", "insurance_housing_first", "decree_07_kept")
WITHOUT_PANEL = "decree_07_kept"
SPAN = re.compile(
    r'<span class="num" data-table="(\w+)" data-row="(\d*)" data-column="(\w+)" '
    r'data-format="(\w+)">([^<]*)</span>'
)
UNITS = {"pct": 100, "points": 100, "vnd_bn": 1e-9, "signed_vnd_bn": 1e-9, "vnd_m": 1e-6}


def make_run(root, name, panel=True, overrides=()):
    """Run a library scenario small, in this process, and write its folder as `povsim run` does."""
    path = SCENARIOS / f"{name}.toml"
    assignments = [f"run.household_count={HOUSEHOLDS}", f"run.replicate_count={REPLICATES}", *overrides]
    scenario = load_scenario(path, assignments)
    results = run_replicates(scenario, progress=False, household_panel=panel)
    out = root / name
    info = {"command": ["test"], "scenario_file": str(path), "overrides": assignments, "wall_seconds": 0.0}
    write_run_outputs(out, scenario, results, info)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return {name: make_run(root, name, panel=name != WITHOUT_PANEL) for name in LIBRARY}


@pytest.fixture(scope="module")
def done(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("comparison") / "cmp"
    return compare([runs[name] for name in LIBRARY], out, baseline=REFERENCE, command=["test"])


def read(done, name):
    return pd.read_csv(done.out / "tables" / f"{name}.csv")


def test_figures_exist_as_png_and_svg(done):
    expected = [
        "rates_fan",
        "targeted_rate_all",
        "relapse_rate",
        "relapse_hazard",
        "who_relapses",
        "paired_differences",
        "paired_differences_by_year",
        "cost",
        "standard_change",
        "deprivations",
        "ethnicity",
        "communes",
    ]
    for stem in expected:
        png = done.out / "figures" / f"{stem}.png"
        svg = done.out / "figures" / f"{stem}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", stem
        text = svg.read_text(encoding="utf-8")
        assert text.lstrip().startswith("<?xml"), stem
        assert "<svg" in text, stem
        assert REFERENCE in text, f"{stem}: names no scenario"
        assert "povsim" in text, f"{stem}: states no source"


def test_report_is_self_contained_and_says_the_baseline_is_calibrated(done):
    page = (done.out / "report.html").read_text(encoding="utf-8")
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<script" not in page
    assert "<link" not in page
    assert page.count("<figure") == 12
    warning = re.search(r'<p class="warning">(.*?)</p>', page, re.S).group(1)
    assert "calibrated to the 2021-2024 decline" in warning
    assert "calibration.parquet" in warning
    assert "not calibrated" not in warning
    assert read(done, "scenarios")["posterior"].str.endswith("calibration.parquet").all()
    for name in LIBRARY:
        assert name in page
    # the scenario texts and the manifest of every run
    assert "Question:" in page
    assert page.count("manifest.json</summary>") == len(LIBRARY)


def test_every_number_in_the_report_is_a_table_cell(done):
    page = (done.out / "report.html").read_text(encoding="utf-8")
    spans = SPAN.findall(page)
    assert len(spans) > 150
    tables = {}
    checked = 0
    for table, row, column, fmt, shown in spans:
        shown = html.unescape(shown)
        if table not in tables:
            tables[table] = read(done, table)
        if not row:
            assert shown == "n/a"
            continue
        value = tables[table].at[int(row), column]
        if pd.isna(value):
            assert shown == "n/a", (table, row, column)
            continue
        assert shown == FORMATS[fmt](float(value)), (table, row, column)
        # and, independently of the formatter, the digits shown round the table's value
        number = float(re.sub(r"[^0-9.+-]", "", shown.replace(",", "")))
        scaled = float(value) * UNITS.get(fmt, 1)
        decimals = len(shown.split(".")[1].split()[0]) if "." in shown else 0
        assert abs(number - scaled) <= 0.5 * 10**-decimals + 1e-9, (table, row, column, shown, value)
        checked += 1
    assert checked > 100


def test_headlines_hold_no_number_that_is_not_from_a_table(done):
    page = (done.out / "report.html").read_text(encoding="utf-8")
    headlines = re.findall(r'<p class="headline">(.*?)</p>', page, re.S)
    assert len(headlines) == len(LIBRARY)
    for text in headlines:
        bare = SPAN.sub("", text)
        bare = re.sub(r'<span class="scenario-name">[^<]*</span>', "", bare)
        for fixed in ("90 %", "95 %", "1,000"):  # definitions of the bands and the relapse rate
            bare = bare.replace(fixed, "")
        assert not re.search(r"\d", bare), bare
    assert any("paired difference" in h for h in headlines)
    assert len(done.headlines) == len(LIBRARY)


def test_outcomes_equal_the_runs_summaries(done, runs):
    outcomes = read(done, "outcomes")
    for name in LIBRARY:
        summary = json.loads((runs[name] / "summary.json").read_text())
        for year, entry in summary["reviews"].items():
            for rate in ("poor_rate", "near_poor_rate", "poor_or_near_poor_rate"):
                row = outcomes[
                    (outcomes["scenario"] == name)
                    & (outcomes["year"] == int(year))
                    & (outcomes["outcome"] == rate)
                ].iloc[0]
                assert row["mean"] == entry[rate]["mean"]
                assert row["p05"] == entry[rate]["p05"]
                assert row["p95"] == entry[rate]["p95"]


def test_escaped_stock_from_the_reviews_equals_the_panel(done, runs):
    """Escapes minus relapses, summed, is the number of ever-poor households not poor now."""
    replicates = pq.read_table(done.out / "tables" / "replicates.parquet").to_pandas()
    panel = pq.read_table(runs[REFERENCE] / "households.parquet").to_pandas()
    years = sorted(int(c.removeprefix("status_")) for c in panel if c.startswith("status_"))
    stock = replicates[(replicates["scenario"] == REFERENCE) & (replicates["outcome"] == "escaped_stock")]
    for replicate, households in panel.groupby("replicate"):
        ever_poor = np.zeros(len(households), bool)
        for year in years:
            status = households[f"status_{year}"].to_numpy()
            ever_poor |= status == 0
            expected = int((ever_poor & (status != 0)).sum())
            got = stock[(stock["replicate"] == replicate) & (stock["year"] == year)]["value"].iloc[0]
            assert got == expected, (replicate, year)


def test_relapse_hazard_and_who_relapses_match_the_panel(done, runs):
    panel = pq.read_table(runs[REFERENCE] / "households.parquet").to_pandas()
    years = sorted(int(c.removeprefix("status_")) for c in panel if c.startswith("status_"))
    first_year_hazards, same_standard, shares = [], [], []
    switch = years.index(2026)
    for _, households in panel.groupby("replicate"):
        poor = np.column_stack([households[f"status_{y}"].to_numpy() == 0 for y in years])
        escapes = poor[:, :-2] & ~poor[:, 1:-1]  # escapes with a review after them
        relapses = escapes & poor[:, 2:]
        first_year_hazards.append(relapses.sum() / escapes.sum())
        # censored at the change of standard: the escapes of the review before it are not followed
        kept = np.ones(escapes.shape[1], bool)
        kept[switch - 2] = False
        same_standard.append(relapses[:, kept].sum() / escapes[:, kept].sum())
        escaped = households["escape_year"].to_numpy() >= 0
        shares.append((households["relapse_count"].to_numpy()[escaped] > 0).mean())
    hazard = read(done, "hazard")
    reference = hazard[(hazard["scenario"] == REFERENCE) & (hazard["years_since_escape"] == 1)]
    one = reference.set_index("variant")
    assert one.at["all escapes", "hazard_mean"] == pytest.approx(np.mean(first_year_hazards), rel=1e-12)
    assert one.at["same standard", "hazard_mean"] == pytest.approx(np.mean(same_standard), rel=1e-12)
    assert one.at["same standard", "hazard_mean"] < one.at["all escapes", "hazard_mean"]
    for _, rows in hazard.groupby(["scenario", "variant"]):
        cumulative = rows.sort_values("years_since_escape")["cumulative_mean"].dropna().to_numpy()
        assert (np.diff(cumulative) >= -1e-12).all()
    who = read(done, "who_relapses")
    everyone = who[(who["scenario"] == REFERENCE) & (who["group"] == "all escaped households")].iloc[0]
    assert everyone["share_mean"] == pytest.approx(np.mean(shares), rel=1e-12)
    ethnic = who[(who["scenario"] == REFERENCE) & (who["dimension"] == "ethnicity")]
    assert ethnic["escaped_mean"].sum() == pytest.approx(everyone["escaped_mean"])


def test_paired_intervals_are_narrower_than_unpaired(done):
    """Common random numbers: the paired standard error is smaller than the unpaired one."""
    diff = read(done, "differences")
    rates = diff[
        diff["outcome"].isin(["poor_rate", "near_poor_rate", "poor_or_near_poor_rate"])
        & (diff["scenario"] == "insurance_housing_first")
        & (diff["year"] > 2021)
    ]
    assert len(rates) == 3 * 9
    assert (rates["se_paired"] < rates["se_unpaired"]).mean() > 0.75
    assert rates["width_ratio"].median() > 1.5
    widths = rates["ci_high"] - rates["ci_low"]
    assert (widths <= rates["ci_high_unpaired"] - rates["ci_low_unpaired"]).mean() > 0.75


def test_differences_are_replicate_by_replicate(done):
    replicates = pq.read_table(done.out / "tables" / "replicates.parquet").to_pandas()
    diff = read(done, "differences")

    def values(scenario):
        rows = replicates[
            (replicates["scenario"] == scenario)
            & (replicates["year"] == 2030)
            & (replicates["outcome"] == "poor_or_near_poor_rate")
        ]
        return rows.set_index("replicate")["value"].sort_index().to_numpy()

    d = values("program_ends_2025") - values(REFERENCE)
    row = diff[
        (diff["scenario"] == "program_ends_2025")
        & (diff["year"] == 2030)
        & (diff["outcome"] == "poor_or_near_poor_rate")
    ].iloc[0]
    assert row["mean"] == pytest.approx(d.mean(), abs=1e-15)
    assert row["se_paired"] == pytest.approx(d.std(ddof=1) / math.sqrt(len(d)), rel=1e-12)
    # the program is the same until it ends: the reviews up to end-2025 do not differ at all
    before = diff[(diff["scenario"] == "program_ends_2025") & (diff["year"] <= 2025)].dropna(subset="mean")
    assert len(before) > 40
    assert (before["mean"] == 0).all()
    assert (before["se_paired"] == 0).all()


def test_the_standard_change_decomposition_adds_up(done):
    change = read(done, "standard_change")
    assert set(change["scenario"]) == {REFERENCE, "program_ends_2025", "insurance_housing_first"}
    for (_, _), rows in change.groupby(["scenario", "rate"]):
        part = rows.set_index("component")["mean"]
        parts = part["real_change"] + part["new_lines"] + part["new_indicators"]
        assert parts == pytest.approx(part["total_jump"], abs=1e-12)
        assert part["after"] - part["before"] == pytest.approx(part["total_jump"], abs=1e-12)
        assert (rows["switch_year"] == 2026).all()
    # the combined rate depends on incomes alone, not on the indicators
    combined = change[
        (change["rate"] == "poor_or_near_poor_rate") & (change["component"] == "new_indicators")
    ]
    assert (combined["mean"].abs() < 1e-12).all()
    # the jump at the switch equals the step of the reviews' own rates
    outcomes = read(done, "outcomes")
    base = outcomes[(outcomes["scenario"] == REFERENCE) & (outcomes["outcome"] == "poor_rate")]
    step = base[base["year"] == 2026]["mean"].iloc[0] - base[base["year"] == 2025]["mean"].iloc[0]
    total = change[
        (change["scenario"] == REFERENCE)
        & (change["rate"] == "poor_rate")
        & (change["component"] == "total_jump")
    ]["mean"].iloc[0]
    assert total == pytest.approx(step, abs=1e-12)
    assert any("decree_07_kept" in note and "one standard" in note for note in done.notes)


def test_costs_add_up_by_instrument_and_trace_to_the_ledgers(done, runs):
    costs = read(done, "costs")
    for (_, _), rows in costs.groupby(["scenario", "measure"]):
        total = rows[rows["instrument"] == "all instruments"].iloc[0]
        parts = rows[rows["instrument"] != "all instruments"]
        assert parts["extra_vnd_mean"].sum() == pytest.approx(total["extra_vnd_mean"], rel=1e-9, abs=1e-3)
        if total["kept_out_mean"]:
            assert parts["vnd_per_household_kept_out"].sum() == pytest.approx(
                total["vnd_per_household_kept_out"], rel=1e-9
            )
    spending = read(done, "spending")
    for name in LIBRARY:
        ledger = pq.read_table(runs[name] / "ledger.parquet").to_pandas()
        expected = ledger.groupby("replicate")["vnd"].sum().mean()
        row = spending[(spending["scenario"] == name) & (spending["instrument"] == "all instruments")].iloc[0]
        assert row["vnd_mean"] == pytest.approx(expected, rel=1e-12)
    ended = costs[
        (costs["scenario"] == "program_ends_2025")
        & (costs["instrument"] == "all instruments")
        & (costs["measure"] == "poor_or_near_poor")
    ].iloc[0]
    assert ended["extra_vnd_mean"] < 0


def test_a_run_without_panel_is_reported_and_left_out_of_the_panel_figures(done):
    page = (done.out / "report.html").read_text(encoding="utf-8")
    assert "No household panel" in page
    assert WITHOUT_PANEL in page
    assert any("No household panel" in note for note in done.notes)
    for table in ("hazard", "who_relapses", "communes"):
        assert set(read(done, table)["scenario"]) == set(LIBRARY) - {WITHOUT_PANEL}, table


def test_a_sweep_is_read_point_by_point_and_pairs_with_runs(tmp_path, capsys):
    from povsim.experiments import load_experiment, run_sweep

    experiment_file = tmp_path / "growth.toml"
    experiment_file.write_text(
        f"""
name = "growth"
scenario = "{(SCENARIOS / "baseline.toml").as_posix()}"
master_seed = 20211231
replicates = 2

[overrides]
run.household_count = 600

[design]
method = "grid"

[parameters.growth]
path = "economy.nominal_income_growth_per_year"
levels = [0.09, 0.13]

[outcomes]
rate_2030 = "reviews.2030.poor_or_near_poor_rate"
""",
        encoding="utf-8",
    )
    sweep = tmp_path / "sweep"
    run_sweep(load_experiment(experiment_file), sweep, workers=1, figures=False)
    scenario = load_scenario(
        SCENARIOS / "baseline.toml", ["run.household_count=600", "run.replicate_count=2"]
    )
    run = tmp_path / "baseline"
    write_run_outputs(run, scenario, run_replicates(scenario, progress=False), {"command": ["test"]})
    out = tmp_path / "cmp"  # holds an earlier comparison, which is replaced
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"kind": "povsim-comparison"}))
    (out / "stale.txt").write_text("from an earlier comparison")
    assert main(["compare", str(sweep), str(run), "--out", str(out), "--baseline", "baseline"]) == 0
    assert not (out / "stale.txt").exists()
    assert not list(tmp_path.glob(".cmp.*"))
    printed = capsys.readouterr().out
    assert "compared 3 scenarios against 'baseline'" in printed
    assert json.loads((out / "manifest.json").read_text())["baseline"] == "baseline"
    assert any(line.strip().startswith("growth:p1 ") for line in printed.splitlines())
    diff = pd.read_csv(out / "tables" / "differences.csv").dropna(subset="mean")
    # point 0 is the baseline's own growth rate: the same streams give the same numbers
    assert (diff[diff["scenario"] == "growth:p0"]["mean"] == 0).all()
    assert (diff[(diff["scenario"] == "growth:p1") & (diff["year"] >= 2023)]["mean"] != 0).any()
    outcomes = pd.read_csv(out / "tables" / "outcomes.csv")
    points = pd.read_csv(sweep / "tables" / "points.csv")
    for point in (0, 1):
        mine = outcomes[
            (outcomes["scenario"] == f"growth:p{point}")
            & (outcomes["year"] == 2030)
            & (outcomes["outcome"] == "poor_or_near_poor_rate")
        ]["mean"].iloc[0]
        assert mine == pytest.approx(points[points["point"] == point]["mean"].iloc[0], rel=1e-12)
    changes = pd.read_csv(out / "tables" / "scenario_changes.csv")
    assert "economy.nominal_income_growth_per_year" in set(changes[changes["scenario"] == "growth:p1"]["key"])
    assert set(changes["scenario"]) == {"growth:p1"}
    assert (out / "figures" / "paired_differences.png").is_file()
    assert not (out / "figures" / "relapse_hazard.png").exists()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "identical to the baseline" in page
    assert "No household panel" in page
    assert "The baseline is not calibrated" in page
