"""The synthetic population reproduces the end-2021 review within sampling tolerance.

Tolerances are sampling errors: binomial standard errors for one draw, and the spread
between independent seeds for the mean of several draws. Nothing in the synthesis is
rescaled after the draw, so these checks can fail if the construction is wrong.
"""

import numpy as np
import pytest
from scipy import stats

from povsim.communes import son_duong_communes
from povsim.model import PovertyModel, replicate_seed
from povsim.population import pick_top_gumbel_keys
from povsim.scenario.loading import with_overrides
from povsim.sfc64 import state_words
from povsim.standards import DECREE_07_INDICATORS, Status, decree_07

FULL = 58_000


def binomial_se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


@pytest.fixture(scope="module")
def district(baseline):
    return PovertyModel(scenario=baseline, rng=replicate_seed(2021, 0))


def test_configured_rate_of_configured_measure(baseline, district):
    review = district.reviews[0]
    target = baseline.targets.initial_rate_share
    assert review["year"] == 2021
    assert review["households"] == FULL
    assert abs(review["poor_or_near_poor_rate"] - target) < 4 * binomial_se(target, FULL)


def test_ethnic_minority_and_other_rates(baseline, district):
    state = district.households
    minority_target, other_target = baseline.initial_below_line_shares()
    assert minority_target == pytest.approx(1.59 * 0.2197)
    measure = np.isin(state.status, [Status.POOR, Status.NEAR_POOR])
    for group, target in ((state.ethnic_minority, minority_target), (~state.ethnic_minority, other_target)):
        n = int(group.sum())
        assert abs(measure[group].mean() - target) < 4 * binomial_se(target, n)
    ratio = (
        district.reviews[0]["ethnic_minority_poor_or_near_poor_rate"]
        / district.reviews[0]["poor_or_near_poor_rate"]
    )
    assert ratio == pytest.approx(1.59, abs=0.06)


def test_poor_share_of_households_below_the_line(baseline, district):
    status = district.households.status
    below = np.isin(status, [Status.POOR, Status.NEAR_POOR])
    target = baseline.targets.poor_among_poor_or_near_poor_share
    share = (status[below] == Status.POOR).mean()
    assert abs(share - target) < 4 * binomial_se(target, int(below.sum()))


def test_mean_over_seeds_within_replicate_spread(baseline):
    scenario = with_overrides(baseline, {"run.household_count": 20_000})
    rates = np.array(
        [
            PovertyModel(scenario=scenario, rng=replicate_seed(7, r)).reviews[0]["poor_or_near_poor_rate"]
            for r in range(8)
        ]
    )
    spread = rates.std(ddof=1) / np.sqrt(len(rates))
    assert spread > 0
    assert abs(rates.mean() - baseline.targets.initial_rate_share) < 3.5 * spread + 1e-4


def test_poor_only_measure_is_matched_when_configured(baseline):
    scenario = with_overrides(baseline, {"targets.measure": "poor", "targets.initial_rate_share": 0.12})
    review = PovertyModel(scenario=scenario, rng=3).reviews[0]
    assert abs(review["poor_rate"] - 0.12) < 4 * binomial_se(0.12, FULL)


def test_deprivations_are_plausible_and_consistent(baseline, district):
    state = district.households
    deprived = decree_07(baseline).deprivations(state)
    prevalence = dict(zip(DECREE_07_INDICATORS, deprived.mean(axis=0), strict=True))
    for name, share in prevalence.items():
        assert 0.005 < share < 0.6, (name, share)
    count = deprived.sum(axis=1)
    assert (count[state.status == Status.POOR] >= 3).all()
    assert (count[state.status == Status.NEAR_POOR] <= 2).all()
    assert count[state.status == Status.POOR].mean() > count[state.status == Status.ABOVE_AVERAGE].mean()


def test_members_and_communes(baseline, district):
    state = district.households
    size = state.size
    assert (size >= 1).all()
    assert ((state.n_16_59 + state.n_60plus) >= 1).all()
    target = baseline.population.mean_household_size_persons
    assert abs(size.mean() - target) < 4 * np.sqrt((target - 1) / FULL)
    communes = son_duong_communes()
    assert communes.count == 30
    assert communes.urban.sum() == 1
    observed = np.bincount(state.commune, minlength=communes.count)
    expected = communes.household_weights * FULL
    assert stats.chisquare(observed, expected).pvalue > 1e-4
    assert state.urban.sum() == observed[communes.urban].sum()


def test_ethnic_minority_share_matches_district_setting(baseline, district):
    share = district.households.ethnic_minority.mean()
    target = baseline.population.ethnic_minority_household_share
    assert abs(share - target) < 4 * binomial_se(target, FULL)


def test_incomes_are_positive_and_finite(district):
    income = district.households.income_vnd_per_person_month
    assert np.isfinite(income).all()
    assert (income > 0).all()


def numpy_gumbel_top_k(log_weights, applicable, still_needed, rng):
    """The deprivations' draw as numpy expressions: Gumbel keys, a sort per row, the top ranks."""
    keys = log_weights + rng.gumbel(size=applicable.shape)
    keys[~applicable] = -np.inf
    order = np.argsort(-keys, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(order.shape[1]), axis=1)
    return rank < still_needed[:, None]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_gumbel_top_k_is_the_numpy_rule(seed):
    rng = np.random.default_rng(seed)
    rows, columns = 5_000, 11
    weights = rng.random(columns) * 3
    weights[[2, 7]] = [0.0, 1e-300]  # an indicator never drawn, and one all but never
    with np.errstate(divide="ignore"):
        log_weights = np.log(weights)
    applicable = (rng.random((rows, columns)) < 0.8) & (weights > 0)
    still_needed = np.minimum(rng.integers(0, columns + 3, rows), applicable.sum(axis=1))
    chosen = np.empty((rows, columns), bool)
    ours, numpys = (np.random.Generator(np.random.SFC64(seed)) for _ in range(2))
    pick_top_gumbel_keys(log_weights, applicable, still_needed, state_words(ours), chosen)
    np.testing.assert_array_equal(chosen, numpy_gumbel_top_k(log_weights, applicable, still_needed, numpys))
    np.testing.assert_array_equal(chosen.sum(axis=1), still_needed)
    assert not (chosen & ~applicable).any()
    np.testing.assert_array_equal(ours.random(3), numpys.random(3))
