"""Each shock and coping step does what it should to household state."""

import dataclasses
import datetime as dt

import numpy as np
import pytest

from povsim import PovertyModel
from povsim.communes import son_duong_communes
from povsim.economy import MarketConditions, earn, settle_month
from povsim.household_loops import change_jobs_at
from povsim.sampling import chance_indices
from povsim.scenario.loading import with_overrides
from povsim.shocks import (
    MAX_COUNTED_MEMBERS,
    NO_DISASTER,
    advance_market,
    any_of_table,
    apply_month_shocks,
    change_jobs,
    draw_month_shocks,
    house_damage_chance,
    kill_livestock,
    lose_workers,
    move_migrants,
    remove_workers,
    spread_livestock_disease,
    start_illnesses,
    strike_disasters,
)
from povsim.standards import indicator_deprived, standard_in_force

NO_RANDOM_DISASTERS = {
    "disasters.flood_prob_per_month": 0.0,
    "disasters.landslide_prob_per_month": 0.0,
    "disasters.storm_prob_per_month": 0.0,
}


def calm_market():
    return MarketConditions(price_log_deviation=np.zeros(3))


def test_scheduled_disaster_hits_the_named_communes_in_the_named_month(small):
    scenario = with_overrides(small, NO_RANDOM_DISASTERS)
    model = PovertyModel(scenario=scenario, rng=2)
    event = scenario.disasters.scheduled[0]
    communes = son_duong_communes()
    named = [communes.names.index(c) for c in event.communes]
    before = None
    while model.running:
        if (model.year, model.month) == (2024, 8):
            before = model.households.house_type.copy()
        model.step()
        if (model.year, model.month) == (2024, 9):
            after = model.households.house_type.copy()
            damaged = np.flatnonzero(after < before)
    monthly = model.datacollector.get_model_vars_dataframe()
    hit_months = monthly[monthly["houses_damaged"] > 0][["year", "month"]].values.tolist()
    assert hit_months == [[2024, 9]]
    september = monthly[(monthly["year"] == 2024) & (monthly["month"] == 9)].iloc[0]
    assert set(september["communes_hit"].split(";")) == set(event.communes)
    expected = round(event.damaged_houses_count * scenario.run.household_count / 58_000)
    assert september["houses_damaged"] == expected
    assert np.isin(model.households.commune[damaged], named).all()
    assert len(damaged) <= expected  # makeshift houses cannot drop further


def test_disasters_damage_weak_houses_more():
    scenario = with_overrides(
        PovertyModel(households=4000, rng=1).params,
        {
            "disasters.storm_prob_per_month": 1.0,
            "disasters.affected_household_share": 1.0,
        },
    )
    model = PovertyModel(scenario=scenario, rng=1)
    state = model.households
    before = state.house_type.copy()
    communes = son_duong_communes()
    rng = np.random.default_rng(0)
    outcome = strike_disasters(state, scenario, communes, 2023, 8, rng.random((3, communes.count)), rng)
    assert outcome.households_hit == state.count
    damaged = state.house_type < before
    weak, strong = before <= 1, before == 3
    assert damaged[weak].mean() > 3 * damaged[strong].mean()
    assert (state.crop_loss_months_left == scenario.disasters.crop_loss_months).all()
    assert outcome.repair_cost_vnd.sum() == pytest.approx(
        outcome.houses_damaged * scenario.disasters.house_repair_cost_vnd
    )
    assert (house_damage_chance(state, scenario) >= 0).all()


def test_illness_cuts_earnings_for_its_duration(small):
    model = PovertyModel(scenario=small, rng=3)
    state, p = model.households, model.params
    normals = np.zeros((2, state.count))
    state.income_persistent[:] = 0.0
    healthy = earn(state, p, calm_market(), 5, 5, normals).copy()
    state.income_persistent[:] = 0.0
    state.illness_months_left[:] = 2
    ill = earn(state, p, calm_market(), 5, 5, normals)
    remittances = state.remittance_vnd_month * (1 + p.economy.nominal_income_growth_per_year) ** (5 / 12)
    earned_healthy = healthy - remittances
    np.testing.assert_allclose(ill - remittances, earned_healthy * (1 - p.shocks.illness_income_loss_share))


def test_job_loss_makes_a_member_jobless_and_shows_in_the_employment_indicator(small):
    model = PovertyModel(scenario=small, rng=3)
    state = model.households
    workers = state.wage_workers > 0
    jobless = state.jobless.copy()
    # Every wage-working household a candidate, each kept (a zero uniform); nobody finds work.
    losers, nobody = np.flatnonzero(workers), np.empty(0, np.intp)
    change_jobs_at(
        losers,
        np.zeros(losers.size),
        any_of_table(0.5),
        nobody,
        np.empty(0),
        0.1,
        0.1,
        4_500_000.0,
        0.0,
        state.wage_workers,
        state.jobless,
        state.job_loss_count,
        state.trained,
        state.wage_vnd_per_worker_month,
    )
    assert (state.jobless[workers] == jobless[workers] + 1).all()
    assert indicator_deprived("employment", state, model.standard)[workers].all()


def test_livestock_disease_kills_part_of_the_herd(small):
    model = PovertyModel(scenario=small, rng=3)
    state = model.households
    herd = state.livestock_units.copy()
    hit = kill_livestock(state, model.params, np.arange(state.count))
    assert hit == (herd > 0).sum()
    np.testing.assert_allclose(
        state.livestock_units, herd * (1 - model.params.shocks.livestock_disease_loss_share)
    )


def test_price_falls_recover_and_epidemics_start_and_end(small):
    p = with_overrides(small, {"shocks.price_fall_prob_per_year": 1.0, "shocks.epidemic_prob_per_year": 1.0})
    market = calm_market()
    advance_market(market, p, np.zeros(5))
    assert market.price_factor("tea", p) < 1.0
    assert market.epidemic_months_left == 6
    fallen = market.price_log_deviation.copy()
    for _ in range(6):
        advance_market(market, small, np.ones(5))
    assert (np.abs(market.price_log_deviation) < np.abs(fallen)).all()
    assert market.epidemic_months_left == 0


def test_coping_order_savings_then_borrowing_then_livestock_then_school(small):
    scenario = with_overrides(small, {"coping.child_withdrawal_prob_per_short_month": 1.0})
    model = PovertyModel(scenario=scenario, rng=3)
    state = model.households
    state.savings_vnd[:] = 1_000_000.0
    state.informal_debt_vnd[:] = 0.0
    state.formal_debt_vnd[:] = 0.0
    state.livestock_units[:] = 1.0
    state.lacks[:, state.condition("child_school_attendance")] = False
    income = np.full(state.count, 50_000_000.0)
    small_cost = np.zeros(state.count)
    savings_before = state.savings_vnd.copy()
    everyone = np.arange(state.count)
    settle_month(state, scenario, income, small_cost, everyone, 10_000_000.0)
    assert (state.informal_debt_vnd == 0).all()
    assert (state.livestock_units == 1.0).all()
    huge = np.full(state.count, 1e9)
    settle_month(state, scenario, income, huge, everyone, 10_000_000.0)
    assert (state.savings_vnd == 0).all()
    assert (state.informal_debt_vnd > 0).all()
    assert (state.livestock_units == 0).all()
    withdrawn = state.lacks[:, state.condition("child_school_attendance")]
    np.testing.assert_array_equal(withdrawn, state.n_6_15 > 0)
    assert state.short_this_month.all()
    assert (savings_before > 0).all()


def test_a_new_job_keeps_the_household_wage_level(small):
    from povsim.shocks import take_job_at

    model = PovertyModel(scenario=small, rng=3)
    state = model.households
    state.jobless[:] = 1
    had_wage = state.wage_vnd_per_worker_month > 0
    before = state.wage_vnd_per_worker_month.copy()
    take_job_at(state, np.arange(state.count), 4_500_000.0, 0.15)
    np.testing.assert_array_equal(state.wage_vnd_per_worker_month[had_wage], before[had_wage])
    assert (state.wage_vnd_per_worker_month[~had_wage] == 4_500_000.0).all()
    assert (state.jobless == 0).all()


def test_losing_the_only_farm_worker_halves_the_farm_not_ends_it(small):

    model = PovertyModel(scenario=small, rng=3)
    state = model.households
    state.n_16_59[:] = 1
    state.jobless[:] = 0
    state.wage_workers[:] = 0
    crops = state.crops_vnd_month.copy()
    everyone = np.arange(state.count)
    # Hit for sure (a zero thinning draw), the farm's worker (no wage workers), no death.
    draws = np.vstack([np.zeros(state.count), np.full(state.count, 0.5), np.full(state.count, 0.99)])
    remove_workers(state, everyone, draws, np.ones(MAX_COUNTED_MEMBERS + 1))
    np.testing.assert_allclose(state.crops_vnd_month, crops * 0.5)


def test_contract_workers_leave_after_exactly_the_delay(small):
    from povsim.shocks import move_migrants

    scenario = with_overrides(small, {"shocks.migrant_job_loss_prob_per_month": 0.0})
    model = PovertyModel(scenario=scenario, rng=3)
    state = model.households
    state.departure_in_months[:5] = 3
    rng = np.random.default_rng(0)
    for _ in range(2):
        move_migrants(state, model.params, 36, rng)
        assert not state.abroad[:5].any()
    move_migrants(state, model.params, 36, rng)
    assert state.abroad[:5].all()
    assert (state.abroad_months_left[:5] == 36).all()
    assert (state.departure_in_months[:5] == -1).all()


def test_review_misscores_only_indicators_that_can_apply(small):
    from povsim.review import measure

    model = PovertyModel(scenario=small, rng=3)
    state = model.households
    state.n_under6[:] = 0
    state.n_6_15[:] = 0
    _, deprived = measure(state, model.standard, 12, 0.1, 0.5, np.random.default_rng(1))
    columns = list(model.standard.indicators)
    assert not deprived[:, columns.index("nutrition")].any()
    assert not deprived[:, columns.index("child_school_attendance")].any()
    assert deprived[:, columns.index("domestic_water")].mean() > 0.3


def test_savings_buffer_follows_usual_not_this_months_income(small):
    model = PovertyModel(scenario=small, rng=3)
    state = model.households
    state.usual_income_vnd_month[:] = 10_000_000.0
    state.savings_vnd[:] = 25_000_000.0
    state.informal_debt_vnd[:] = 0.0
    state.formal_debt_vnd[:] = 0.0
    lean_month = np.full(state.count, 8_000_000.0)
    settle_month(state, small, lean_month, np.zeros(state.count), np.empty(0, dtype=int), 1e7)
    buffer = small.coping.savings_buffer_months_of_income * state.usual_income_vnd_month
    assert (state.savings_vnd <= buffer + 1e-6).all()
    assert (state.savings_vnd > small.coping.savings_buffer_months_of_income * 8_000_000.0 * 0.5).mean() > 0.5


@pytest.mark.parametrize("chance", [0.02, 1.0])
def test_review_misscores_each_applicable_score_with_its_chance(small, chance):
    """Sparse (2 %) and certain misscoring: only applicable scores flip, at the chance given."""
    from povsim.review import measure

    model = PovertyModel(scenario=small, rng=5)
    state = model.households
    state.n_under6[::3] = 0
    state.n_6_15[::3] = 0
    standard = model.standard
    truth = standard.deprivations(state)
    applies = standard.applicability(state)
    _, scored = measure(state, standard, 12, 0.1, chance, np.random.default_rng(2))
    flipped = scored ^ truth
    assert not flipped[~applies].any()
    cells = int(applies.sum())
    if chance == 1.0:
        assert flipped[applies].all()
    else:
        sd = np.sqrt(cells * chance * (1 - chance))
        assert abs(int(flipped.sum()) - cells * chance) < 4 * sd


@pytest.mark.parametrize("year", [2024, 2028])
def test_applicability_of_a_few_cells_is_that_of_the_whole_matrix(small, year):
    model = PovertyModel(scenario=small, rng=5)
    state = model.households
    state.n_under6[::3] = 0
    state.n_6_15[::4] = 0
    state.n_16_59[::5] = 0
    standard = standard_in_force(dt.date(year, 12, 31), model.params)
    whole = standard.applicability(state)
    rng = np.random.default_rng(year)
    households = rng.integers(0, state.count, 5_000)
    indicators = rng.integers(0, len(standard.indicators), 5_000)
    cells = standard.applicable_cells(state, households, indicators)
    np.testing.assert_array_equal(cells, whole[households, indicators])
    assert 0 < cells.mean() < 1


def test_disasters_touch_only_the_communes_struck_and_draw_nothing_when_none_is(small):
    scenario = with_overrides(
        small,
        {
            **NO_RANDOM_DISASTERS,
            "disasters.flood_prob_per_month": 1.0,
            "disasters.affected_household_share": 1.0,
        },
    )
    model = PovertyModel(scenario=scenario, rng=5)
    state = model.households
    communes = son_duong_communes()
    before = state.house_type.copy(), state.crop_loss_months_left.copy(), state.disaster_hit_count.copy()
    rng = np.random.default_rng(0)
    # June: floods strike every flood-exposed commune (chance 1); storms cannot (not a storm month).
    outcome = strike_disasters(state, scenario, communes, 2023, 6, np.zeros((3, communes.count)), rng)
    exposed = communes.flood_exposed[state.commune]
    assert exposed.any()
    assert not exposed.all()
    assert outcome.households_hit == exposed.sum()
    assert (state.disaster_hit_count[exposed] == before[2][exposed] + 1).all()
    outside = ~exposed
    assert (state.house_type[outside] == before[0][outside]).all()
    assert (state.crop_loss_months_left[outside] == before[1][outside]).all()
    assert (outcome.repair_cost_vnd[outside] == 0).all()
    # No commune struck and no scheduled event: nothing is drawn for households.
    calm = with_overrides(scenario, {"disasters.flood_prob_per_month": 0.0})
    a, b = np.random.default_rng(1), np.random.default_rng(1)
    assert strike_disasters(state, calm, communes, 2023, 6, np.zeros((3, communes.count)), a) is NO_DISASTER
    assert a.random() == b.random()


def test_market_moves_as_the_numpy_rule(small):
    """Prices recover and fall exactly as the array expressions they replaced computed them."""
    from povsim.shocks import monthly_prob

    scenario = with_overrides(small, {"shocks.price_fall_prob_per_year": 0.6})
    s = scenario.shocks
    market = MarketConditions(price_log_deviation=np.array([0.3, -0.2, 0.05]))
    expected = market.price_log_deviation.copy()
    rng = np.random.default_rng(4)
    falls = 0
    for _ in range(240):
        uniforms = rng.random(5)
        advance_market(market, scenario, uniforms)
        expected *= 1.0 - s.price_recovery_per_month
        fell = uniforms[:3] < monthly_prob(s.price_fall_prob_per_year)
        expected[fell] += np.log1p(-s.price_fall_share)
        falls += fell.sum()
        assert market.price_log_deviation.tobytes() == expected.tobytes()
    assert falls > 20


def reference_strike_disasters(state, scenario, communes, year, month, commune_uniforms, rng):
    """The disasters' harm as numpy expressions, before the households' loop was compiled."""
    from povsim.shocks import (
        NO_DISASTER,
        RAINY_MONTHS,
        STORM_MONTHS,
        communes_mask,
        damage_chance_by_house_type,
        lose_harvest_and_herd,
        scheduled_this_month,
        weighted_choice,
    )

    d = scenario.disasters
    struck = np.zeros(communes.count, bool)
    if month in RAINY_MONTHS:
        struck |= communes.flood_exposed & (commune_uniforms[0] < d.flood_prob_per_month)
        struck |= communes.remote & (commune_uniforms[1] < d.landslide_prob_per_month)
    if month in STORM_MONTHS:
        struck |= commune_uniforms[2] < d.storm_prob_per_month
    events = scheduled_this_month(scenario, year, month)
    event_areas = [communes_mask(communes, event.communes) for event in events]
    exposed_communes = np.logical_or.reduce([struck, *event_areas])
    if not exposed_communes.any():
        return NO_DISASTER
    rows = np.flatnonzero(exposed_communes[state.commune])
    uniforms = rng.random((3, rows.size))
    commune = state.commune[rows]
    damage_chance = damage_chance_by_house_type(scenario)[state.house_type[rows]]
    hit = struck[commune] & (uniforms[0] < d.affected_household_share)
    damaged = hit & (uniforms[1] < damage_chance)
    scheduled_hit = np.zeros(rows.size, bool)
    for event, area in zip(events, event_areas, strict=True):
        in_area = area[commune]
        quota = round(event.damaged_houses_count * scenario.district_scale)
        chosen = weighted_choice(in_area * damage_chance, quota, uniforms[2])
        damaged[chosen] = True
        flooded = in_area & (uniforms[0] < d.affected_household_share)
        flooded[chosen] = True
        lose_harvest_and_herd(state, scenario, rows[flooded], event.crop_loss_share)
        scheduled_hit |= flooded
        hit |= flooded
        struck |= area
    lose_harvest_and_herd(state, scenario, rows[hit & ~scheduled_hit], d.crop_loss_share)
    state.disaster_hit_count[rows[hit]] += 1
    damaged_rows = rows[damaged]
    state.house_type[damaged_rows] = np.maximum(state.house_type[damaged_rows] - 1, 0)
    repair_cost = np.zeros(state.count)
    repair_cost[damaged_rows] = d.house_repair_cost_vnd
    return repair_cost, int(np.count_nonzero(hit)), damaged_rows.size, struck


@pytest.mark.parametrize(("year", "month"), [(2023, 6), (2023, 8), (2023, 10), (2024, 9)])
def test_disasters_harm_households_as_the_numpy_rule(year, month):
    import copy

    from povsim.shocks import scheduled_this_month

    scenario = with_overrides(
        PovertyModel(households=3_000, rng=1).params,
        {"disasters.flood_prob_per_month": 0.5, "disasters.storm_prob_per_month": 0.3},
    )
    if (year, month) == (2024, 9):  # Typhoon Yagi: the scheduled event's path
        assert scheduled_this_month(scenario, year, month)
    model = PovertyModel(scenario=scenario, rng=7)
    for _ in range(20):
        model.step()
    state = model.households
    state.crop_loss_share[::7] = np.float32(0.9)  # a larger earlier loss is kept
    expected = copy.deepcopy(state)
    communes = son_duong_communes()
    commune_uniforms = np.random.default_rng(month).random((3, communes.count))
    outcome = strike_disasters(
        state, scenario, communes, year, month, commune_uniforms, np.random.default_rng(11)
    )
    repair, hit, damaged, struck = reference_strike_disasters(
        expected, scenario, communes, year, month, commune_uniforms, np.random.default_rng(11)
    )
    assert outcome.households_hit == hit > 0
    assert outcome.houses_damaged == damaged > 0
    assert outcome.repair_cost_vnd.tobytes() == repair.tobytes()
    assert outcome.communes_hit == tuple(n for n, s in zip(communes.names, struck, strict=True) if s)
    for name, value in vars(state).items():
        assert value.tobytes() == getattr(expected, name).tobytes(), name


@pytest.mark.parametrize("outbreak", [False, True])
def test_the_months_shocks_drawn_together_are_those_of_the_per_process_functions(small, outbreak):
    """`draw_month_shocks` then the appliers leave the households, the counts and every stream
    exactly as `start_illnesses`, `lose_workers`, `change_jobs`, `move_migrants`,
    `spread_livestock_disease` and the coping draw do, one after the other."""
    scenario = with_overrides(
        small,
        {
            "shocks.illness_prob_per_month": 0.05,
            "shocks.job_loss_prob_per_month": 0.05,
            "shocks.worker_loss_prob_per_year": 0.3,
        },
    )
    together, apart = (PovertyModel(scenario=scenario, rng=11) for _ in range(2))
    for model in (together, apart):
        for _ in range(3):  # some workers abroad, some loans and jobs, before the month compared
            model.step()
        model.market.outbreak_months_left = 2 if outbreak else 0
    p, n = scenario, small.run.household_count
    training = p.instruments.vocational_training
    wage = p.livelihoods.district_wage_vnd_per_worker_month
    share = p.instruments.health_insurance.poor_card_paid_cost_share
    contract = p.instruments.labour_export.contract_months

    state, streams = together.households, together.streams
    shocks = draw_month_shocks(n, p, together.market, streams, training.job_finding_multiplier)
    normals = streams["illness"].standard_normal(shocks.illness.size)
    cost, ill, lost, herds = apply_month_shocks(state, p, shocks, normals, wage, training.wage_premium_share)

    state, streams = apart.households, apart.streams
    expected_cost, expected_ill = start_illnesses(state, p, streams["illness"], share)
    expected_lost = lose_workers(state, p, streams["work"])
    change_jobs(state, p, streams["work"], wage, training.job_finding_multiplier, training.wage_premium_share)
    move_migrants(state, p, contract, streams["migration"])
    expected_herds = spread_livestock_disease(state, p, apart.market, streams["livestock"])
    withdrawals = chance_indices(streams["coping"], n, p.coping.child_withdrawal_prob_per_short_month)

    assert (ill, lost, herds) == (expected_ill, expected_lost, expected_herds)
    assert min(ill, lost, herds, shocks.job_loss.size, shocks.migrants_fired.size) > 0
    assert cost.tobytes() == expected_cost.tobytes()
    np.testing.assert_array_equal(shocks.school_withdrawal, withdrawals)
    for field in dataclasses.fields(together.households):
        got, want = getattr(together.households, field.name), getattr(apart.households, field.name)
        assert got.tobytes() == want.tobytes(), field.name
    for name in ("illness", "work", "migration", "livestock", "coping"):
        assert together.streams[name].random() == apart.streams[name].random(), name
