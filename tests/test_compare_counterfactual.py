"""Every review also classifies the same households under both standards (review.standard_counterfactuals)."""

import numpy as np
import pytest

import povsim.review
from povsim import PovertyModel
from povsim.review import COUNTERFACTUAL_RATES, counterfactual_standards
from povsim.scenario.loading import with_overrides
from povsim.standards import DECREE_07_INDICATORS, Status, decree_07, decree_351

YARDSTICKS = ("decree_07", "decree_351_lines", "decree_351")


@pytest.fixture(scope="module")
def scenario(small):
    return with_overrides(small, {"run.household_count": 800})


def test_the_yardsticks(scenario):
    standards = counterfactual_standards(scenario)
    assert sorted(standards) == sorted(YARDSTICKS)
    lines = standards["decree_351_lines"]
    assert lines.indicators == DECREE_07_INDICATORS
    assert lines.rural_line_vnd_per_person_month == decree_351(scenario).rural_line_vnd_per_person_month
    assert lines.urban_line_vnd_per_person_month == decree_351(scenario).urban_line_vnd_per_person_month


def test_the_standard_in_force_gives_the_reviews_own_rates(scenario):
    model = PovertyModel(scenario=scenario, rng=3)
    model.run()
    standards = {r["standard"] for r in model.reviews}
    assert len(standards) == 2
    for review in model.reviews:
        key = "decree_07" if review["standard"].startswith("Decree 07") else "decree_351"
        for rate in COUNTERFACTUAL_RATES:
            assert review[f"{rate}_under_{key}"] == review[rate], (review["year"], rate)
        # the combined rate needs income at or below the line only, so the indicators do not matter
        assert review["poor_or_near_poor_rate_under_decree_351_lines"] == pytest.approx(
            review["poor_or_near_poor_rate_under_decree_351"], abs=0
        )
        # the new lines are higher: more households are below them
        assert (
            review["poor_or_near_poor_rate_under_decree_351"]
            >= review["poor_or_near_poor_rate_under_decree_07"]
        )


def test_recording_them_draws_nothing_and_changes_nothing(scenario, monkeypatch):
    with_them = PovertyModel(scenario=scenario, rng=5)
    with_them.run()
    monkeypatch.setattr(povsim.review, "standard_counterfactuals", lambda *args: {})
    without = PovertyModel(scenario=scenario, rng=5)
    without.run()
    for a, b in zip(with_them.reviews, without.reviews, strict=True):
        assert {k: v for k, v in a.items() if "_under_" not in k} == pytest.approx(b, nan_ok=True)
    for a, b in zip(with_them.status_history, without.status_history, strict=True):
        np.testing.assert_array_equal(a, b)


def test_at_the_switch_the_same_households_are_classified_under_decree_07(scenario, monkeypatch):
    """Without scoring error, the rate under Decree 07 is a plain reclassification of the reviewed state."""
    exact = with_overrides(scenario, {"review.indicator_misscoring_prob_per_review": 0.0})
    expected = {}
    real = povsim.review.standard_counterfactuals

    def spy(state, params, standard, income, deprived, counts):
        for key, other in (("decree_07", decree_07(params)), ("decree_351", decree_351(params))):
            status = other.classify(income, other.deprivations(state).sum(axis=1), state.urban)
            expected.setdefault(key, []).append(float((status == Status.POOR).mean()))
        return real(state, params, standard, income, deprived, counts)

    monkeypatch.setattr(povsim.review, "standard_counterfactuals", spy)
    model = PovertyModel(scenario=exact, rng=11)
    model.run()
    for key in ("decree_07", "decree_351"):
        recorded = [r[f"poor_rate_under_{key}"] for r in model.reviews]
        assert recorded == expected[key]
    switch = next(r for r in model.reviews if r["standard"].startswith("Decree 351"))
    assert switch["year"] == 2026
    assert switch["poor_rate_under_decree_07"] < switch["poor_rate"]
