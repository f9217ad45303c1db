"""PovertyModel: reproducibility, invariants, transitions, calendar, and Mesa integration."""

import datetime as dt
import math

import mesa
import numpy as np
import pytest

from conftest import SCENARIOS
from povsim import InputError, PovertyModel
from povsim.households import Household
from povsim.model import replicate_seed
from povsim.scenario.loading import with_overrides
from povsim.standards import Status


def run(scenario, seed):
    model = PovertyModel(scenario=scenario, rng=replicate_seed(seed, 0))
    model.run()
    return model


def test_same_seed_same_numbers(small):
    a, b = run(small, 5), run(small, 5)
    assert a.reviews == b.reviews
    assert a.datacollector.get_model_vars_dataframe().equals(b.datacollector.get_model_vars_dataframe())
    np.testing.assert_array_equal(
        a.households.income_vnd_per_person_month, b.households.income_vnd_per_person_month
    )


def test_different_seed_different_numbers(small):
    assert run(small, 5).reviews != run(small, 6).reviews


def test_rng_none_uses_the_scenario_master_seed(small):
    assert PovertyModel(scenario=small).reviews == PovertyModel(scenario=small).reviews


def test_reviews_cover_the_calendar_and_switch_standard(small):
    model = run(small, 1)
    years = [r["year"] for r in model.reviews]
    assert years == list(range(2021, 2031))
    assert model.months_elapsed == 108
    by_year = {r["year"]: r for r in model.reviews}
    assert by_year[2025]["standard"] == "Decree 07/2021/ND-CP"
    assert by_year[2026]["standard"] == "Decree 351/2025/ND-CP"
    assert math.isnan(by_year[2026]["deprived_information_means"])
    assert math.isnan(by_year[2025]["deprived_digital_services"])
    assert not math.isnan(by_year[2026]["deprived_digital_services"])


def test_end_date_inside_a_year_stops_at_the_previous_review(small):
    scenario = with_overrides(small, {"calendar.end_date": dt.date(2024, 6, 30)})
    model = run(scenario, 1)
    assert [r["year"] for r in model.reviews] == [2021, 2022, 2023]
    assert not model.running


def test_invariants_hold_at_every_review(small):
    model = PovertyModel(scenario=small, rng=11)
    n = model.households.count
    while model.running:
        model.step()
        state = model.households
        assert state.count == n
        assert (state.size >= 1).all()
        assert np.isfinite(state.income_vnd_per_person_month).all()
        assert (state.income_vnd_per_person_month > 0).all()
        assert (state.floor_area_m2 > 0).all()
        assert ((state.house_type >= 0) & (state.house_type <= 3)).all()
    for review in model.reviews:
        rates = [review[k] for k in ("poor_rate", "near_poor_rate", "average_rate")]
        assert all(0.0 <= r <= 1.0 for r in rates)
        assert sum(rates) <= 1.0 + 1e-12
        assert review["poor_or_near_poor_rate"] == pytest.approx(rates[0] + rates[1])
        assert review["households"] == n
        assert 0 <= review["ethnic_minority_poor_rate"] <= 1


def test_transitions_match_an_independent_count_from_status_histories(small):
    """Escapes, relapses and new poor recomputed household by household from the statuses."""
    model = PovertyModel(scenario=small, rng=21)
    history = [model.households.status.copy()]
    while model.running:
        model.step()
        if model.month == 12:
            history.append(model.households.status.copy())
    statuses = np.array(history)
    for k in range(1, len(history)):
        escaped = relapsed = newly = 0
        for h in range(statuses.shape[1]):
            before, now = statuses[:k, h], statuses[k, h]
            was_poor = before[-1] == Status.POOR
            is_poor = now == Status.POOR
            escaped += was_poor and not is_poor
            if is_poor and not was_poor:
                if (before == Status.POOR).any():
                    relapsed += 1
                else:
                    newly += 1
        review = model.reviews[k]
        assert (review["escaped"], review["relapsed"], review["newly_poor"]) == (escaped, relapsed, newly)
    assert sum(r["relapsed"] for r in model.reviews) > 0
    np.testing.assert_array_equal(
        model.households.relapse_count,
        [
            sum(
                1
                for k in range(1, len(history))
                if statuses[k, h] == Status.POOR
                and statuses[k - 1, h] != Status.POOR
                and (statuses[:k, h] == Status.POOR).any()
            )
            for h in range(statuses.shape[1])
        ],
    )


def test_higher_growth_never_raises_the_income_measure_with_common_random_numbers(small):
    for seed in (1, 2, 3):
        low = run(with_overrides(small, {"economy.nominal_income_growth_per_year": 0.02}), seed)
        high = run(with_overrides(small, {"economy.nominal_income_growth_per_year": 0.12}), seed)
        for lo, hi in zip(low.reviews[1:], high.reviews[1:], strict=True):
            assert hi["poor_or_near_poor_rate"] <= lo["poor_or_near_poor_rate"]
        assert high.reviews[-1]["poor_or_near_poor_rate"] < low.reviews[-1]["poor_or_near_poor_rate"]


def test_keyword_overrides_and_household_count(small):
    model = PovertyModel(
        scenario=small,
        households=300,
        economy__nominal_income_growth_per_year=0.2,
        **{"shocks.illness_prob_per_month": 0.05},
    )
    assert model.households.count == 300
    assert model.params.economy.nominal_income_growth_per_year == 0.2
    assert model.params.shocks.illness_prob_per_month == 0.05
    with pytest.raises(InputError, match="did you mean 'nominal_income_growth_per_year'"):
        PovertyModel(scenario=small, economy__nominal_income_growth=0.2)
    with pytest.raises(InputError, match=r"run\.household_count"):
        PovertyModel(scenario=small, households=5)


def test_household_agents_are_views_created_on_request(small):
    model = PovertyModel(scenario=small, households=200, rng=4)
    assert len(model.agents) == 0
    agents = model.create_household_agents()
    assert len(agents) == 200
    assert model.create_household_agents() is agents
    model.step()
    for agent in agents.to_list()[:20]:
        assert isinstance(agent, Household)
        row = agent.row
        assert agent.income_vnd_per_person_month == model.households.income_vnd_per_person_month[row]
        assert agent.status == model.households.status[row]
        assert agent.state["commune"] == model.households.commune[row]
    eager = PovertyModel(scenario=small, households=150, rng=4, agent_views=True)
    assert len(eager.agents) == 150


def test_mesa_batch_run():
    # batch_run expands every iterable parameter, and a Scenario object is iterable: pass a
    # scenario path (a string is a scalar to batch_run) or a one-item list [scenario].
    rows = mesa.batch_run(
        PovertyModel,
        parameters={
            "scenario": str(SCENARIOS / "baseline.toml"),
            "households": 400,
            "economy__nominal_income_growth_per_year": [0.0, 0.15],
        },
        rng=[1, 2],
        max_steps=200,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    assert len(rows) == 4
    final = {(r["rng"], r["economy__nominal_income_growth_per_year"]): r for r in rows}
    for seed in (1, 2):
        assert final[(seed, 0.15)]["poor_or_near_poor_rate"] < final[(seed, 0.0)]["poor_or_near_poor_rate"]
    assert {r["Step"] for r in rows} == {108.0}
    assert all(0 <= r["poor_rate"] <= 1 for r in rows)


def test_monthly_table_records_what_mesas_collector_records(small):
    """The collector without Mesa's defensive copies gives Mesa's table, row for row."""
    model = PovertyModel(scenario=small, rng=replicate_seed(3, 0))
    reference = mesa.DataCollector(model_reporters=model.datacollector.model_reporters)
    reference.collect(model)
    while model.running:
        model.step()
        reference.collect(model)
    ours, mesas = model.datacollector.get_model_vars_dataframe(), reference.get_model_vars_dataframe()
    assert len(ours) == model.months_elapsed + 1
    assert ours.equals(mesas)
    assert model.datacollector._collection_steps == reference._collection_steps


def test_monthly_table_leaves_agent_reporters_to_mesa(small):
    model = PovertyModel(scenario=small, rng=replicate_seed(3, 0), agent_views=True)
    model.datacollector.agent_reporters["income"] = lambda agent: agent.income_vnd_per_person_month
    model.step()
    model.datacollector.collect(model)
    agents = model.datacollector.get_agent_vars_dataframe()
    assert len(agents) == model.households.count
