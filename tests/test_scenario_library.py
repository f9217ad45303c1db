"""The scenario library: small, commented overrides of the calibrated baseline, run to the end-2030 review."""

import datetime as dt
import tomllib

import pytest

from conftest import SCENARIOS
from povsim import load_scenario
from povsim.policies import INSTRUMENT_IDS
from povsim.runner import run_one

LIBRARY = (
    "program_continued",
    "program_ends_2025",
    "insurance_housing_first",
    "livelihoods_first",
    "near_poor_and_escaped",
    "labour_export_push",
    "budget_cut_30",
    "climate_stress",
    "new_standard_extra_support",
    "decree_07_kept",
)


def flat(data, prefix=""):
    items = {}
    for key, value in data.items():
        if isinstance(value, dict):
            items.update(flat(value, f"{prefix}{key}."))
        else:
            items[f"{prefix}{key}"] = value
    return items


@pytest.fixture(scope="module")
def calibrated():
    """The library's reference: the baseline with parameters drawn from the shipped posterior."""
    return load_scenario(SCENARIOS / "calibrated.toml")


def changes(name, reference):
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    base, mine = flat(reference.model_dump()), flat(scenario.model_dump())
    return {k: (base[k], mine[k]) for k in base if base[k] != mine[k] and k not in ("name", "description")}


def test_the_library_is_complete():
    files = {p.stem for p in SCENARIOS.glob("*.toml")} - {"baseline", "calibrated"}
    assert files == set(LIBRARY)


@pytest.mark.parametrize("name", LIBRARY)
def test_each_file_is_a_small_commented_override_of_the_baseline(name):
    path = SCENARIOS / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ")
    assert "# Question:" in text
    data = tomllib.loads(text)
    assert data["extends"] == "calibrated.toml"
    assert data["name"] == name
    assert len(data["description"].split()) >= 10
    assert len(flat(data)) <= 20
    scenario = load_scenario(path)
    assert scenario.calendar.end_date >= dt.date(2030, 12, 31)


def test_program_continued_is_the_calibrated_baseline(calibrated):
    assert changes("program_continued", calibrated) == {}


def test_program_ends_2025_stops_every_instrument(calibrated):
    found = changes("program_ends_2025", calibrated)
    assert set(found) == {f"instruments.{i}.end_date" for i in INSTRUMENT_IDS}
    assert {new for _, new in found.values()} == {dt.date(2025, 12, 31)}


def test_budget_cut_30_cuts_every_capped_budget_and_nothing_else(calibrated):
    found = changes("budget_cut_30", calibrated)
    capped = [i for i in INSTRUMENT_IDS if getattr(calibrated.instruments, i).annual_budget_vnd is not None]
    assert set(found) == {f"instruments.{i}.annual_budget_vnd" for i in capped}
    for old, new in found.values():
        assert new == pytest.approx(0.7 * old, rel=1e-12)


def test_decree_07_kept_never_applies_decree_351(calibrated):
    found = changes("decree_07_kept", calibrated)
    assert list(found) == ["standards.decree_351_first_review_date"]
    assert found["standards.decree_351_first_review_date"][1] > calibrated.calendar.end_date


@pytest.mark.parametrize("name", [n for n in LIBRARY if n not in ("program_continued", "decree_07_kept")])
def test_each_policy_scenario_changes_something(name, calibrated):
    assert changes(name, calibrated)


@pytest.fixture(scope="module")
def tiny_runs():
    """Replicate 0 of the calibrated baseline and of every library scenario, 1,500 households, to 2030.

    Replicate 0 draws the same parameter set from the posterior in every one of them.
    """
    sizes = {"run.household_count": 1500, "run.replicate_count": 1}
    runs = {"calibrated": run_one(load_scenario(SCENARIOS / "calibrated.toml", sizes), 0)}
    for name in LIBRARY:
        runs[name] = run_one(load_scenario(SCENARIOS / f"{name}.toml", sizes), 0)
    return runs


def test_every_scenario_runs_to_the_end_2030_review(tiny_runs):
    for name, run in tiny_runs.items():
        assert [r["year"] for r in run.reviews][-1] == 2030, name


def test_the_scenarios_do_what_they_say(tiny_runs):
    def spent(name, instrument=None, years=range(2022, 2031)):
        return sum(
            row["vnd"]
            for row in tiny_runs[name].ledger
            if row["year"] in years and (instrument is None or row["instrument"] == instrument)
        )

    def monthly(name, column):
        return sum(row[column] for row in tiny_runs[name].monthly)

    assert spent("program_ends_2025", years=range(2026, 2031)) == 0
    assert spent("program_ends_2025", years=range(2022, 2026)) == spent("calibrated", years=range(2022, 2026))
    for a, b in zip(tiny_runs["program_continued"].reviews, tiny_runs["calibrated"].reviews, strict=True):
        assert a == pytest.approx(b, nan_ok=True)
    assert monthly("climate_stress", "disaster_households_hit") > 1.5 * monthly(
        "calibrated", "disaster_households_hit"
    )
    assert monthly("labour_export_push", "households_abroad") > 2 * monthly("calibrated", "households_abroad")
    assert spent("insurance_housing_first", "health_insurance") > spent("calibrated", "health_insurance")
    assert spent("livelihoods_first", "livestock_support") > 2 * spent("calibrated", "livestock_support")
    assert spent("near_poor_and_escaped", "electricity_support") > spent("calibrated", "electricity_support")
    assert spent("new_standard_extra_support", "health_insurance") > spent("calibrated", "health_insurance")
    kept = tiny_runs["decree_07_kept"].reviews
    assert {r["standard"] for r in kept} == {"Decree 07/2021/ND-CP"}
