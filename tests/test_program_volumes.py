"""The baseline, run on the whole district, against the program volumes the seed reports.

Volumes are outcomes of budgets, eligibility, targeting and take-up applied to the
simulated population. Instruments whose volume depends on list sizes (entitlements) do
not yet match the seed; they are marked as expected failures with the reason, strictly, so
that a change that brings them within 10 % is noticed and the documentation updated.
"""

import pytest

from conftest import SCENARIOS
from povsim import load_scenario
from povsim.metrics import compare_to_seed, summarize_ledger
from povsim.runner import run_one

TOLERANCE = 0.10
SCHOOL_AGES = "only children aged 6-15 are modelled; the seed counts preschool and upper-secondary too"
NOT_YET = {
    "tuition_exemption": SCHOOL_AGES,
    "study_cost_support": SCHOOL_AGES,
    "health_insurance": "ethnic-minority households in remote communes are an assumed group (7 communes)",
    "electricity_support": "follows the number of poor households, which the uncalibrated baseline puts low",
}


@pytest.fixture(scope="module")
def volumes():
    scenario = load_scenario(SCENARIOS / "baseline.toml", ["calendar.end_date=2024-12-31"])
    result = run_one(scenario, 0)
    rows = [{"replicate": 0, **row} for row in result.ledger]
    return {row["instrument"]: row for row in compare_to_seed(summarize_ledger(rows))}


@pytest.mark.parametrize(
    "instrument",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=NOT_YET[name], strict=True))
        if name in NOT_YET
        else name
        for name in (
            "preferential_loans",
            "student_loans",
            "water_sanitation_loans",
            "housing_support",
            "tuition_exemption",
            "study_cost_support",
            "health_insurance",
            "electricity_support",
        )
    ],
)
def test_baseline_reproduces_seed_volume(volumes, instrument):
    row = volumes[instrument]
    assert abs(row["units_gap_share"]) <= TOLERANCE, row
    if row["vnd_gap_share"] is not None:
        assert abs(row["vnd_gap_share"]) <= TOLERANCE, row
