"""The poverty standards: classification rules and indicators straight from the decrees.

Reference values are the decrees' own numbers (lines of VND 1.5/2.0 million under Decree 07,
2.2/2.8 million under Decree 351; poor = at or below the line and 3+ deprivations; average
living standard = above the line up to 1.5 times it), not outputs of the code.
"""

import datetime as dt

import numpy as np
import pytest

from povsim.households import HouseholdState
from povsim.scenario.loading import with_overrides
from povsim.standards import (
    DECREE_07_INDICATORS,
    DECREE_351_INDICATORS,
    INDICATORS,
    Status,
    decree_07,
    decree_351,
    indicator_deprived,
    standard_in_force,
)

P, N, A, X = Status.POOR, Status.NEAR_POOR, Status.AVERAGE, Status.ABOVE_AVERAGE

CLASSIFICATION = [
    # decree, urban, income VND/person/month, deprivations, expected status
    ("07", False, 1_500_000, 3, P),
    ("07", False, 1_500_000, 2, N),
    ("07", False, 1_000_000, 0, N),
    ("07", False, 900_000, 12, P),
    ("07", False, 1_500_001, 6, A),
    ("07", False, 2_250_000, 0, A),
    ("07", False, 2_250_001, 5, X),
    ("07", True, 2_000_000, 3, P),
    ("07", True, 1_999_999, 2, N),
    ("07", True, 2_000_001, 4, A),
    ("07", True, 3_000_000, 0, A),
    ("07", True, 3_000_001, 0, X),
    ("351", False, 2_200_000, 3, P),
    ("351", False, 1_600_000, 2, N),
    ("351", False, 2_200_001, 3, A),
    ("351", False, 3_300_000, 3, A),
    ("351", False, 3_300_001, 3, X),
    ("351", True, 2_800_000, 4, P),
    ("351", True, 2_500_000, 0, N),
    ("351", True, 4_200_001, 0, X),
]


@pytest.mark.parametrize(("decree", "urban", "income", "count", "expected"), CLASSIFICATION)
def test_classification_follows_the_decree(baseline, decree, urban, income, count, expected):
    standard = decree_07(baseline) if decree == "07" else decree_351(baseline)
    status = standard.classify(np.array([float(income)]), np.array([count]), np.array([urban]))
    assert status[0] == expected


def test_same_household_poorer_under_the_new_line(baseline):
    income = np.array([1_800_000.0, 1_800_000.0])
    count = np.array([1, 3])
    urban = np.array([False, False])
    assert list(decree_07(baseline).classify(income, count, urban)) == [A, A]
    assert list(decree_351(baseline).classify(income, count, urban)) == [N, P]


def test_indicator_sets():
    assert len(DECREE_07_INDICATORS) == 12
    dimensions = [INDICATORS[name].dimension for name in DECREE_07_INDICATORS]
    assert sorted(set(dimensions)) == sorted(
        ["employment", "health", "education", "housing", "water and sanitation", "information"]
    )
    assert all(dimensions.count(d) == 2 for d in set(dimensions))
    assert "information_means" not in DECREE_351_INDICATORS
    assert {"digital_services", "internet_access", "waste_handling"} <= set(DECREE_351_INDICATORS)
    assert len(DECREE_351_INDICATORS) == 14


def test_only_publicly_confirmed_thresholds_are_marked_verified():
    verified = {name for name, indicator in INDICATORS.items() if indicator.verified}
    assert verified == {"nutrition", "health_insurance"}
    assert all(indicator.source for indicator in INDICATORS.values())


def make_state(rows: list[dict]) -> HouseholdState:
    """Households built by hand: defaults are a well-off adult couple with nothing lacking."""
    state = HouseholdState.empty(len(rows))
    state.n_16_59[:] = 2
    state.floor_area_m2[:] = 60.0
    for i, row in enumerate(rows):
        for name, value in row.items():
            if name == "lacks":
                for condition in value:
                    state.lacks[i, HouseholdState.condition(condition)] = True
            else:
                getattr(state, name)[i] = value
    return state


INDICATOR_CASES = [
    # indicator, household, deprived?
    ("floor_area", {"floor_area_m2": 15.8}, True),  # 7.9 m2 per person for 2 members
    ("floor_area", {"floor_area_m2": 16.0}, False),  # exactly 8 m2 per person
    ("dependents", {"n_6_15": 2, "n_16_59": 1}, True),  # 2 of 3 members dependent
    ("dependents", {"n_6_15": 2, "n_16_59": 2}, False),  # exactly half
    ("dependents", {"n_60plus": 1, "n_16_59": 0}, True),  # a lone elderly member
    ("nutrition", {"lacks": ["nutrition"], "n_under6": 1}, True),
    ("nutrition", {"lacks": ["nutrition"]}, False),  # no child under 16 to be malnourished
    ("child_school_attendance", {"lacks": ["child_school_attendance"], "n_6_15": 1}, True),
    ("child_school_attendance", {"lacks": ["child_school_attendance"]}, False),
    ("employment", {"jobless": 1}, True),
    ("employment", {"jobless": 0, "wage_workers": 2}, False),
    ("health_insurance", {"lacks": ["health_insurance"]}, True),
    ("health_insurance", {}, False),
    ("housing_quality", {"house_type": 0}, True),
    ("housing_quality", {"house_type": 1}, True),
    ("housing_quality", {"house_type": 2}, False),
    ("domestic_water", {"lacks": ["domestic_water"]}, True),
    ("hygienic_latrine", {"lacks": ["hygienic_latrine"]}, True),
    ("telecom_use", {"lacks": ["telecom_use"]}, True),
    ("information_means", {"lacks": ["information_means"]}, True),
    ("information_means", {"lacks": ["domestic_water"]}, False),
]


@pytest.mark.parametrize(("name", "household", "deprived"), INDICATOR_CASES)
def test_indicator_rules(baseline, name, household, deprived):
    state = make_state([household])
    assert bool(indicator_deprived(name, state, decree_07(baseline))[0]) is deprived


def test_unverified_thresholds_are_parameters(baseline):
    state = make_state([{"floor_area_m2": 20.0}])  # 10 m2 per person
    strict = with_overrides(baseline, {"standards.floor_area_min_m2_per_person": 12.0})
    assert not indicator_deprived("floor_area", state, decree_07(baseline))[0]
    assert indicator_deprived("floor_area", state, decree_07(strict))[0]


def test_deprivation_matrix_counts_by_standard(baseline):
    lacking = ["information_means", "digital_services", "internet_access", "waste_handling"]
    state = make_state([{"lacks": lacking}])
    assert decree_07(baseline).deprivations(state).sum() == 1
    assert decree_351(baseline).deprivations(state).sum() == 3


@pytest.mark.parametrize("decree", [decree_07, decree_351])
def test_the_compiled_deprivation_matrix_is_each_indicators_rule(baseline, decree):
    """Every column of `deprivations` equals `indicator_deprived`, on households of every
    composition (the thresholds met exactly included) and random conditions."""
    rng = np.random.default_rng(7)
    n = 5_000
    state = HouseholdState.empty(n)
    for group in ("n_under6", "n_6_15", "n_16_59", "n_60plus"):
        getattr(state, group)[:] = rng.integers(0, 4, n)
    state.n_60plus[state.size == 0] = 1
    state.jobless[:] = rng.integers(0, 3, n)
    state.house_type[:] = rng.integers(0, 4, n)
    # Whole and half square metres per person, so that some sit exactly on the threshold.
    state.floor_area_m2[:] = (rng.integers(8, 40, n) * 0.5 * state.size).astype(np.float32)
    state.lacks[:] = rng.random(state.lacks.shape) < 0.4
    standard = decree(baseline)
    expected = np.column_stack([indicator_deprived(name, state, standard) for name in standard.indicators])
    assert expected.any(axis=0).all()  # each column varies
    assert not expected.all(axis=0).any()
    np.testing.assert_array_equal(standard.deprivations(state), expected)


@pytest.mark.parametrize(
    ("switch", "review", "decree"),
    [
        (dt.date(2026, 12, 31), dt.date(2021, 12, 31), "Decree 07/2021/ND-CP"),
        (dt.date(2026, 12, 31), dt.date(2025, 12, 31), "Decree 07/2021/ND-CP"),
        (dt.date(2026, 12, 31), dt.date(2026, 12, 31), "Decree 351/2025/ND-CP"),
        (dt.date(2026, 12, 31), dt.date(2030, 12, 31), "Decree 351/2025/ND-CP"),
        (dt.date(2027, 12, 31), dt.date(2026, 12, 31), "Decree 07/2021/ND-CP"),
        (dt.date(2025, 12, 1), dt.date(2025, 12, 31), "Decree 351/2025/ND-CP"),
    ],
)
def test_standard_in_force_is_decided_by_date(baseline, switch, review, decree):
    scenario = with_overrides(baseline, {"standards.decree_351_first_review_date": switch})
    assert standard_in_force(review, scenario).decree == decree
