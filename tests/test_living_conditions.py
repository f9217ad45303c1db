"""The yearly change of living conditions: remedies, lapses and houses at their configured chances."""

import numpy as np
import pytest

from povsim import PovertyModel, living_conditions
from povsim.living_conditions import ROOMY_FLOOR_AREA_M2_PER_PERSON, TOP_HOUSE_TYPE
from povsim.scenario.loading import with_overrides

HOUSEHOLDS = 20_000


def one_year(scenario, comfortable: bool, seed: int = 0):
    """A model's households before and after one `advance_year`, all comfortable or none."""
    model = PovertyModel(scenario=scenario, rng=seed)
    state = model.households
    line = np.full(state.count, 1_000.0)
    state.income_since_review_vnd[:] = 12 * (1e9 if comfortable else 0.0)
    before = {
        "lacks": state.lacks.copy(),
        "house_type": state.house_type.copy(),
        "floor_area_m2": state.floor_area_m2.copy(),
    }
    living_conditions.advance_year(state, model.params, line, 12, model.streams["living_conditions"])
    return before, state, model.params.living_conditions


def rate_bound(trials: int, prob: float) -> float:
    """Four binomial standard deviations of an event count, as a share of the trials."""
    return 4 * np.sqrt(prob * (1 - prob) / trials) + 1 / trials


@pytest.mark.parametrize("comfortable", [True, False])
def test_lacking_conditions_are_remedied_at_the_household_chance(baseline, comfortable):
    scenario = with_overrides(baseline, {"run.household_count": HOUSEHOLDS})
    before, state, c = one_year(scenario, comfortable)
    chance = c.improve_prob_per_year * (1.0 if comfortable else c.low_income_improve_multiplier)
    lacking = before["lacks"]
    remedied = lacking & ~state.lacks
    rate = remedied.sum() / lacking.sum()
    assert abs(rate - chance) <= rate_bound(lacking.sum(), chance)
    # Every indicator column is remedied alike (no condition favoured by the cell order).
    per_condition = remedied.sum(axis=0) / np.maximum(lacking.sum(axis=0), 1)
    counted = lacking.sum(axis=0) > 500
    assert np.all(
        np.abs(per_condition[counted] - chance) <= 4 * np.sqrt(chance / lacking.sum(axis=0)[counted])
    )


def test_met_conditions_lapse_at_the_worsening_chance(baseline):
    scenario = with_overrides(
        baseline, {"run.household_count": HOUSEHOLDS, "living_conditions.worsen_prob_per_year": 0.05}
    )
    before, state, _ = one_year(scenario, comfortable=True)
    met = ~before["lacks"]
    lapsed = met & state.lacks
    assert abs(lapsed.sum() / met.sum() - 0.05) <= rate_bound(met.sum(), 0.05)


def test_houses_move_one_grade_at_most_within_the_types(baseline):
    scenario = with_overrides(
        baseline,
        {
            "run.household_count": HOUSEHOLDS,
            "living_conditions.worsen_prob_per_year": 0.1,
            "living_conditions.improve_prob_per_year": 0.3,
        },
    )
    before, state, _ = one_year(scenario, comfortable=True)
    step = state.house_type.astype(int) - before["house_type"]
    assert set(np.unique(step)) <= {-1, 0, 1}
    assert state.house_type.min() >= 0
    assert state.house_type.max() <= TOP_HOUSE_TYPE
    below_top = before["house_type"] < TOP_HOUSE_TYPE
    upgraded = (step == 1)[below_top].mean()
    # An upgrade takes the improvement chance (0.3, above the sparse sampler's range).
    assert abs(upgraded - 0.3) <= rate_bound(below_top.sum(), 0.3)
    decayable = before["house_type"] > 0
    decayed = (step == -1)[decayable].mean()
    # A house that could have been upgraded decays only if it was not: 0.1 x (1 - 0.3) below the top.
    expected = np.where(below_top[decayable], 0.1 * 0.7, 0.1).mean()
    assert abs(decayed - expected) <= rate_bound(decayable.sum(), expected)


def test_only_cramped_houses_are_extended(baseline):
    scenario = with_overrides(baseline, {"run.household_count": HOUSEHOLDS})
    before, state, c = one_year(scenario, comfortable=True)
    extended = state.floor_area_m2 > before["floor_area_m2"]
    cramped = before["floor_area_m2"] < ROOMY_FLOOR_AREA_M2_PER_PERSON * state.size
    assert not extended[~cramped].any()
    rate = extended[cramped].mean()
    assert abs(rate - c.improve_prob_per_year) <= rate_bound(cramped.sum(), c.improve_prob_per_year)


def test_the_draws_do_not_depend_on_which_conditions_are_lacking(baseline):
    scenario = with_overrides(baseline, {"run.household_count": 2_000})
    streams = []
    for lacks_all in (False, True):
        model = PovertyModel(scenario=scenario, rng=4)
        model.households.lacks[:] = lacks_all
        rng = model.streams["living_conditions"]
        line = np.full(model.households.count, 1_000.0)
        living_conditions.advance_year(model.households, model.params, line, 12, rng)
        streams.append(rng.random())
    assert streams[0] == streams[1]


def numpy_advance_year(state, scenario, income_line_vnd, months_of_income, rng):
    """The year as numpy expressions and `povsim.sampling`'s generator-level draws."""
    from povsim.living_conditions import FLOOR_AREA_EXTENSION_SHARE
    from povsim.sampling import chance_indices, thinned_indices, thinned_rows

    c = scenario.living_conditions
    comfortable = (
        state.income_since_review_vnd / months_of_income
        > scenario.standards.average_living_line_multiple * income_line_vnd
    )
    improve = np.where(
        comfortable, c.improve_prob_per_year, c.improve_prob_per_year * c.low_income_improve_multiplier
    )
    bound = c.improve_prob_per_year
    conditions = state.lacks.shape[1]
    lacking = state.lacks.reshape(-1)
    remedied = thinned_rows(rng, lacking.size, bound, lambda hit: improve[hit // conditions])
    lapsed = chance_indices(rng, lacking.size, c.worsen_prob_per_year)
    changed = np.concatenate([remedied[lacking[remedied]], lapsed[~lacking[lapsed]]])
    households, condition = np.divmod(changed, conditions)
    state.lacks[households, condition] = ~state.lacks[households, condition]
    upgrade = thinned_indices(rng, improve, bound)
    upgrade = upgrade[state.house_type[upgrade] < TOP_HOUSE_TYPE]
    decay = chance_indices(rng, state.count, c.worsen_prob_per_year)
    upgraded = np.zeros(state.count, bool)
    upgraded[upgrade] = True
    decay = decay[(state.house_type[decay] > 0) & ~upgraded[decay]]
    state.house_type[upgrade] += 1
    state.house_type[decay] -= 1
    extend = thinned_indices(rng, improve, bound)
    extend = extend[state.floor_area_m2[extend] < ROOMY_FLOOR_AREA_M2_PER_PERSON * state.size[extend]]
    state.floor_area_m2[extend] *= 1.0 + FLOOR_AREA_EXTENSION_SHARE


@pytest.mark.parametrize(
    ("improve", "worsen", "seed"),
    [(None, None, 1), (None, None, 2), (0.3, 0.25, 3), (1.0, 0.0, 4), (0.0, 0.5, 5)],
)
def test_compiled_year_is_the_numpy_rule(baseline, improve, worsen, seed):
    """The compiled pass changes every cell, house and floor area as the numpy rule does, and
    leaves the stream where the rule leaves it: on the gap path, the dense path (chances above
    `sampling.DENSE_ABOVE`) and at chances 0 and 1."""
    overrides = {"run.household_count": 3_000}
    if improve is not None:
        overrides["living_conditions.improve_prob_per_year"] = improve
        overrides["living_conditions.worsen_prob_per_year"] = worsen
    scenario = with_overrides(baseline, overrides)
    ours, theirs = (PovertyModel(scenario=scenario, rng=seed) for _ in range(2))
    for model in (ours, theirs):
        model.households.income_since_review_vnd[:] = np.random.default_rng(seed).uniform(0, 4e7, 3_000)
        model.households.floor_area_m2[::7] = 500.0  # roomy houses, which are not extended
        model.households.house_type[::5] = TOP_HOUSE_TYPE
        model.households.house_type[1::5] = 0
    line = np.full(3_000, 1.5e6)
    streams = (np.random.Generator(np.random.SFC64(seed)) for _ in range(2))
    rng_ours, rng_theirs = streams
    before = ours.households.lacks.copy()
    living_conditions.advance_year(ours.households, ours.params, line, 12, rng_ours)
    numpy_advance_year(theirs.households, theirs.params, line, 12, rng_theirs)
    for name in ("lacks", "house_type", "floor_area_m2"):
        got, want = getattr(ours.households, name), getattr(theirs.households, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert rng_ours.random() == rng_theirs.random()
    if improve is None:
        assert (before != ours.households.lacks).any()
