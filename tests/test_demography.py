"""A year of births, ageing and deaths: the compiled pass against the numpy rule it replaced."""

import numpy as np
import pytest

from povsim import PovertyModel, demography
from povsim.demography import AGE_OUT_PROB_PER_YEAR
from povsim.sampling import binomial_counts

GROUPS = ("n_under6", "n_6_15", "n_16_59", "n_60plus")


def numpy_advance_year(state, scenario, rng):
    """The year as numpy expressions: binomial leavers and deaths, births, a member kept, jobs capped."""
    d = scenario.demography
    draws = rng.random((len(AGE_OUT_PROB_PER_YEAR) + 2, state.count))
    leaving = {
        group: binomial_counts(getattr(state, group), prob, draws[row])
        for row, (group, prob) in enumerate(AGE_OUT_PROB_PER_YEAR.items())
    }
    deaths = binomial_counts(state.n_60plus, d.elderly_death_prob_per_year, draws[-2])
    births = (state.n_16_59 > 0) & (draws[-1] < d.birth_prob_per_year)
    state.n_under6 += births - leaving["n_under6"]
    state.n_6_15 += leaving["n_under6"] - leaving["n_6_15"]
    state.n_16_59 += leaving["n_6_15"] - leaving["n_16_59"]
    state.n_60plus += leaving["n_16_59"] - deaths
    state.n_60plus[state.size == 0] = 1
    state.jobless = np.minimum(state.jobless, state.n_16_59).astype(np.int16)
    state.wage_workers = np.minimum(state.wage_workers, state.n_16_59 - state.jobless).astype(np.int16)


def households(seed, count=4_000):
    model = PovertyModel(households=count, rng=seed)
    state = model.households
    # Odd compositions too: empty groups, a lone elder who may die, many children.
    state.n_60plus[:50], state.n_16_59[:50], state.n_6_15[:50], state.n_under6[:50] = 1, 0, 0, 0
    state.n_6_15[50:100] = 9
    return model


@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_year_is_the_numpy_rule(seed):
    ours, theirs = households(seed), households(seed)
    demography.advance_year(ours.households, ours.params, np.random.Generator(np.random.SFC64(seed)))
    numpy_advance_year(theirs.households, theirs.params, np.random.Generator(np.random.SFC64(seed)))
    for name in (*GROUPS, "jobless", "wage_workers"):
        got, want = getattr(ours.households, name), getattr(theirs.households, name)
        assert got.dtype == want.dtype == np.int16
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_every_household_keeps_a_member_and_jobs_fit_the_adults():
    model = households(3)
    state = model.households
    for _ in range(5):
        demography.advance_year(state, model.params, np.random.Generator(np.random.SFC64(3)))
        assert (state.size >= 1).all()
        assert all((getattr(state, group) >= 0).all() for group in GROUPS)
        assert (state.jobless <= state.n_16_59).all()
        assert (state.wage_workers <= state.n_16_59 - state.jobless).all()
    assert state.count == 4_000


def test_negative_member_counts_are_refused_before_any_change():
    model = households(4, count=100)
    state = model.households
    state.n_6_15[7] = -1
    before = {name: getattr(state, name).copy() for name in GROUPS}
    with pytest.raises(ValueError, match="non-negative"):
        demography.advance_year(state, model.params, np.random.Generator(np.random.SFC64(4)))
    for name, values in before.items():
        np.testing.assert_array_equal(getattr(state, name), values)
