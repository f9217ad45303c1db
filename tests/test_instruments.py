"""Each instrument changes exactly the state it should, within its budget, through the ledger."""

import datetime as dt

import numpy as np
import pytest

from povsim import PovertyModel
from povsim.economy import trend_factor
from povsim.policies import INSTRUMENT_IDS, INSTRUMENTS, PolicyContext
from povsim.scenario.instruments import Instruments
from povsim.scenario.loading import with_overrides
from povsim.shocks import fall_ill
from povsim.standards import Status


def fresh_model(small, **overrides):
    model = PovertyModel(scenario=with_overrides(small, overrides) if overrides else small, rng=17)
    return model


def context(model, year=2022, month=3):
    p = model.params
    trend = trend_factor(p, 3)
    return PolicyContext(
        model.households,
        p,
        model.ledger,
        year,
        month,
        3,
        trend,
        p.livelihoods.livestock_unit_price_vnd * trend,
        model.streams,
    )


def snapshot(state):
    return {name: np.copy(value) for name, value in vars(state).items()}


def changed_fields(before, state):
    return {name for name, value in vars(state).items() if not np.array_equal(before[name], value)}


def test_instrument_registry_matches_schema_and_ledger():
    assert tuple(INSTRUMENTS) == INSTRUMENT_IDS
    assert tuple(Instruments.model_fields) == INSTRUMENT_IDS


EXPECTED_CHANGES = {
    "preferential_loans": {
        "formal_debt_vnd",
        "formal_rate_per_year",
        "formal_instalment_vnd_month",
        "livestock_units",
        "crops_vnd_month",
    },
    "student_loans": {"formal_debt_vnd", "formal_rate_per_year", "formal_instalment_vnd_month", "lacks"},
    "water_sanitation_loans": {
        "formal_debt_vnd",
        "formal_rate_per_year",
        "formal_instalment_vnd_month",
        "lacks",
    },
    "tuition_exemption": {"tuition_exempt_months_left"},
    "study_cost_support": {"transfers_vnd_this_month"},
    "health_insurance": {"state_insurance_card", "lacks"},
    "electricity_support": {"transfers_vnd_this_month"},
    "housing_support": {"house_type", "floor_area_m2"},
    "vocational_training": {"trained"},
    "job_placement": {"jobless", "wage_workers", "wage_vnd_per_worker_month"},
    "labour_export": {
        "formal_debt_vnd",
        "formal_rate_per_year",
        "formal_instalment_vnd_month",
        "departure_in_months",
    },
    "livestock_support": {"livestock_units"},
    "value_chain_support": {"tea_vnd_month", "value_chain_member"},
    "food_aid": {"transfers_vnd_this_month"},
}


@pytest.mark.parametrize("instrument", INSTRUMENT_IDS)
def test_each_instrument_changes_only_its_state_and_pays_through_the_ledger(small, instrument):
    # The district's whole budget for this small population, so that every instrument pays.
    model = fresh_model(
        small, **{f"instruments.{instrument}.take_up_share": 1.0, "run.district_household_count": 2_000}
    )
    state = model.households
    before = snapshot(state)
    INSTRUMENTS[instrument](context(model))
    paid = model.ledger.household_vnd[:, INSTRUMENT_IDS.index(instrument)]
    assert paid.sum() > 0, f"{instrument} paid nobody in a 2,000-household district"
    assert changed_fields(before, state) <= EXPECTED_CHANGES[instrument]
    assert changed_fields(before, state), f"{instrument} changed nothing"
    others = np.delete(model.ledger.household_vnd, INSTRUMENT_IDS.index(instrument), axis=1)
    assert others.sum() == 0
    assert model.ledger.vnd.sum() == pytest.approx(paid.sum())
    budget = getattr(model.params.instruments, instrument).annual_budget_vnd
    if budget is not None:
        assert model.ledger.vnd.sum() <= budget * (1 + 1e-12)


def test_loan_creates_debt_and_buys_an_asset(small):
    model = fresh_model(small)
    state = model.households
    units, debt = state.livestock_units.copy(), state.formal_debt_vnd.copy()
    INSTRUMENTS["preferential_loans"](context(model))
    borrowers = np.flatnonzero(model.ledger.household_vnd[:, 0] > 0)
    config = model.params.instruments.preferential_loans
    np.testing.assert_allclose(state.formal_debt_vnd[borrowers] - debt[borrowers], config.amount_vnd_per_unit)
    assert (state.livestock_units[borrowers] > units[borrowers]).all()
    np.testing.assert_allclose(
        state.formal_instalment_vnd_month[borrowers], config.amount_vnd_per_unit / config.term_months
    )
    on_lists = np.isin(state.status[borrowers], [Status.POOR, Status.NEAR_POOR])
    assert on_lists.mean() > 0.8  # the rest: newly escaped and inclusion errors


def test_insurance_removes_the_deprivation_and_cuts_treatment_cost(small):
    model = fresh_model(small, **{"targeting.exclusion_error_share": 0.0})
    state = model.households
    column = state.condition("health_insurance")
    poor = state.status == Status.POOR
    state.lacks[:, column] = True
    INSTRUMENTS["health_insurance"](context(model, month=1))
    assert not state.lacks[poor, column].any()
    everyone = np.arange(state.count)
    cost, _ = fall_ill(state, model.params, everyone, np.zeros(state.count), 1.0)
    assert (cost[poor] == 0).all()
    uninsured = state.lacks[:, column]
    assert uninsured.any()
    assert (cost[uninsured] > 0).all()


def test_housing_removes_housing_deprivation_and_cuts_disaster_damage_chance(small):
    from povsim.shocks import house_damage_chance
    from povsim.standards import indicator_deprived

    model = fresh_model(small, **{"targeting.exclusion_error_share": 0.0})
    state = model.households
    standard = model.standard
    bad = indicator_deprived("housing_quality", state, standard)
    chance_before = house_damage_chance(state, model.params).copy()
    INSTRUMENTS["housing_support"](context(model))
    built = model.ledger.household_vnd[:, INSTRUMENT_IDS.index("housing_support")] > 0
    assert built.any()
    assert bad[built].all()
    assert not indicator_deprived("housing_quality", state, standard)[built].any()
    assert (house_damage_chance(state, model.params)[built] < chance_before[built]).all()


def test_budget_binds_and_is_never_exceeded_over_a_run(small):
    scenario = with_overrides(
        small,
        {
            "instruments.preferential_loans.annual_budget_vnd": 3 * 58_000_000.0,
            "run.district_household_count": 2_000,
        },
    )
    model = PovertyModel(scenario=scenario, rng=3)
    model.run()
    for record in model.ledger.records():
        if record["budget_vnd"] is not None:
            assert record["vnd"] <= record["budget_vnd"] * (1 + 1e-12)
    loans = [r for r in model.ledger.records() if r["instrument"] == "preferential_loans"]
    assert all(r["units"] == 3 for r in loans)


def test_vnd_is_conserved_between_ledger_totals_and_households(small):
    model = PovertyModel(scenario=small, rng=4)
    model.run()
    assert model.ledger.household_vnd.sum(axis=0) == pytest.approx(model.ledger.vnd.sum(axis=1))
    assert model.households.count == small.run.household_count


def test_switched_off_instrument_costs_nothing_and_changes_nothing_else(small):
    """Disabled or with a zero budget, housing pays nothing; the rest of the run is identical."""
    off = PovertyModel(scenario=with_overrides(small, {"instruments.housing_support.enabled": False}), rng=9)
    zero = PovertyModel(
        scenario=with_overrides(small, {"instruments.housing_support.annual_budget_vnd": 0.0}), rng=9
    )
    off.run()
    zero.run()
    column = INSTRUMENT_IDS.index("housing_support")
    assert off.ledger.vnd[column].sum() == 0
    assert zero.ledger.vnd[column].sum() == 0
    assert off.reviews == zero.reviews
    np.testing.assert_array_equal(off.ledger.vnd, zero.ledger.vnd)
    on = PovertyModel(scenario=small, rng=9)
    on.run()
    assert on.ledger.vnd[column].sum() > 0
    assert (on.households.house_type >= off.households.house_type).mean() > 0.95


def test_instruments_run_only_between_their_dates(small):
    scenario = with_overrides(
        small,
        {
            "instruments.preferential_loans.start_date": dt.date(2024, 1, 1),
            "instruments.preferential_loans.end_date": dt.date(2025, 12, 31),
        },
    )
    model = PovertyModel(scenario=scenario, rng=5)
    model.run()
    by_year = {
        r["year"]: r["units"] for r in model.ledger.records() if r["instrument"] == "preferential_loans"
    }
    assert by_year[2022] == by_year[2023] == by_year[2026] == 0
    assert by_year[2024] > 0
    assert by_year[2025] > 0


def test_every_vnd_traces_to_an_instrument_year_and_household(small):
    model = PovertyModel(scenario=small, rng=6)
    model.run()
    payments = model.ledger.payments()
    assert len(payments["vnd"]) > 0
    for i, instrument in enumerate(INSTRUMENT_IDS):
        for t, year in enumerate(model.ledger.years):
            mine = (payments["instrument"] == instrument) & (payments["year"] == year)
            assert payments["vnd"][mine].sum() == pytest.approx(model.ledger.vnd[i, t])
            assert payments["units"][mine].sum() == model.ledger.units[i, t]
        per_household = np.bincount(
            payments["household"][payments["instrument"] == instrument],
            weights=payments["vnd"][payments["instrument"] == instrument],
            minlength=model.households.count,
        )
        np.testing.assert_allclose(per_household, model.ledger.household_vnd[:, i])


def test_state_insurance_cards_expire_after_the_instrument_ends(small):
    scenario = with_overrides(small, {"instruments.health_insurance.end_date": dt.date(2023, 12, 31)})
    model = PovertyModel(scenario=scenario, rng=8)
    cards = {}
    while model.running:
        model.step()
        if model.month == 2:
            cards[model.year] = int(model.households.state_insurance_card.sum())
    assert cards[2022] > 0
    assert cards[2023] > 0
    assert cards[2024] == cards[2027] == 0
    column = INSTRUMENT_IDS.index("health_insurance")
    assert model.ledger.vnd[column, 2:].sum() == 0


def test_budgets_and_scheduled_disasters_scale_with_the_simulated_share_of_the_district(small):
    from povsim.model import scaled_budgets

    half = with_overrides(small, {"run.district_household_count": 4_000})
    full = with_overrides(small, {"run.district_household_count": 2_000})
    for instrument, budget in scaled_budgets(half).items():
        if budget is not None:
            assert budget == pytest.approx(scaled_budgets(full)[instrument] / 2)
    assert half.district_scale == pytest.approx(0.5)


def test_instruments_fall_due_in_their_month_only(small):
    """Each instrument is due in its disbursement month (food aid: each crop-gap month), no other."""
    from povsim.policies import instruments_due

    scenario = with_overrides(
        small,
        {
            "instruments.housing_support.disbursement_month": 7,
            "instruments.food_aid.crop_gap_months": [1, 11],
        },
    )
    due = {month: instruments_due(scenario, month) for month in range(1, 13)}
    assert [month for month in due if "housing_support" in due[month]] == [7]
    assert [month for month in due if "food_aid" in due[month]] == [1, 11]
    for instrument in set(INSTRUMENTS) - {"housing_support", "food_aid"}:
        months = [month for month in due if instrument in due[month]]
        assert months == [getattr(scenario.instruments, instrument).disbursement_month], instrument
    for instruments in due.values():  # in the registry's order
        assert list(instruments) == [i for i in INSTRUMENTS if i in instruments]
