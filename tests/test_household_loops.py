"""The compiled household loops give exactly what the numpy expressions they replaced gave.

Covered: earnings, settlement, classification, loss of workers, treatment costs, jobs
lost and found, departures abroad, herd losses, the monthly count-down and the monthly
table's household totals (the totals to rounding: the
loop sums in household order, numpy pairwise; every other loop bit for bit).

Each reference below is the numpy formulation the model used before the loop was compiled
(the same operations, order and types). The loops are checked against it bit for bit, on
random households that include the edge cases: no debt, debt below an instalment, negative
savings and income, no livestock to sell, no children, an epidemic month.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from povsim.economy import (
    CROP_SEASON,
    TEA_SEASON,
    USUAL_INCOME_MONTHS,
    MarketConditions,
    earn,
    persistent_monthly_autocorrelation,
    settle_month,
    trend_factor,
    write_off_defaults,
)
from povsim.household_loops import (
    change_jobs_at,
    count_true_in_columns,
    depart_migrants,
    kill_livestock_at,
    record_transitions,
)
from povsim.households import NO_STATUS, NOT_LEAVING, HouseholdState
from povsim.model import HouseholdTotals
from povsim.scenario import load_scenario
from povsim.shocks import (
    MAX_COUNTED_MEMBERS,
    TREATMENT_COST_LOG_SD,
    WORKER_DEATH_SHARE,
    any_of_table,
    count_down,
    fall_ill,
    remove_workers,
)
from povsim.standards import Status, decree_07, decree_351

N = 4_000


def random_households(seed: int) -> HouseholdState:
    """Households with every money and count column drawn, zeros and negatives included."""
    rng = np.random.default_rng(seed)
    state = HouseholdState.empty(N)

    def some(values: np.ndarray, share_zero: float) -> np.ndarray:
        return np.where(rng.random(N) < share_zero, 0.0, values)

    for name in ("n_under6", "n_6_15", "n_16_59", "n_60plus"):
        getattr(state, name)[:] = rng.integers(0, 4, N)
    state.n_16_59[state.n_under6 + state.n_6_15 + state.n_16_59 + state.n_60plus == 0] = 1
    state.urban[:] = rng.random(N) < 0.1
    state.crops_vnd_month[:] = some(rng.lognormal(14, 1, N), 0.2)
    state.tea_vnd_month[:] = some(rng.lognormal(13, 1, N), 0.5)
    state.forestry_vnd_month[:] = some(rng.lognormal(13, 1, N), 0.5)
    state.livestock_units[:] = some(rng.exponential(2.0, N), 0.3)
    state.wage_workers[:] = np.minimum(rng.integers(0, 3, N), state.n_16_59)
    state.wage_vnd_per_worker_month[:] = some(rng.lognormal(15, 0.3, N), 0.4)
    state.remittance_vnd_month[:] = some(rng.lognormal(14, 1, N), 0.6)
    state.abroad_months_left[:] = np.where(rng.random(N) < 0.05, rng.integers(1, 36, N), 0)
    state.income_persistent[:] = rng.normal(0, 0.5, N)
    state.illness_months_left[:] = np.where(rng.random(N) < 0.05, rng.integers(1, 4, N), 0)
    state.crop_loss_months_left[:] = np.where(rng.random(N) < 0.1, rng.integers(1, 6, N), 0)
    state.crop_loss_share[:] = rng.random(N)
    state.transfers_vnd_this_month[:] = some(rng.lognormal(13, 1, N), 0.8)
    state.income_since_review_vnd[:] = rng.lognormal(15, 1, N)
    state.usual_income_vnd_month[:] = rng.normal(5e6, 4e6, N)  # some negative
    state.savings_vnd[:] = rng.normal(2e6, 5e6, N)  # some negative
    state.informal_debt_vnd[:] = some(rng.lognormal(15, 1, N), 0.5)
    state.formal_debt_vnd[:] = some(rng.lognormal(16, 1.5, N), 0.5)
    state.formal_debt_vnd[rng.random(N) < 0.02] = 0.5  # nearly repaid: closes this month
    state.formal_rate_per_year[:] = np.where(state.formal_debt_vnd > 0, rng.uniform(0.05, 0.1, N), 0.0)
    state.formal_instalment_vnd_month[:] = np.where(
        state.formal_debt_vnd > 0, rng.lognormal(14, 1, N), 0.0
    )  # sometimes above the debt left
    state.arrears_vnd[:] = some(rng.lognormal(14, 1, N), 0.8)
    state.arrears_months[:] = np.where(state.arrears_vnd > 0, rng.integers(1, 6, N), 0)
    state.tuition_exempt_months_left[:] = np.where(rng.random(N) < 0.2, rng.integers(1, 12, N), 0)
    state.lacks[:] = rng.random(state.lacks.shape) < 0.3
    state.house_type[:] = rng.integers(0, 4, N)
    state.floor_area_m2[:] = rng.uniform(5, 120, N).astype(np.float32)
    return state


def add_special_values(state: HouseholdState, seed: int) -> HouseholdState:
    """A few households with NaN, infinite or signed-zero amounts, no members, or odd debts.

    The loops must treat these exactly as numpy does (NaN passes through minimum and
    maximum, x / 0 is inf or NaN), even though a run should never produce them.
    """
    rng = np.random.default_rng(seed + 50)
    specials = (np.nan, np.inf, -np.inf, -0.0, 0.0)
    for name in (
        "crops_vnd_month",
        "wage_vnd_per_worker_month",
        "remittance_vnd_month",
        "transfers_vnd_this_month",
        "usual_income_vnd_month",
        "savings_vnd",
        "informal_debt_vnd",
        "formal_debt_vnd",
        "formal_instalment_vnd_month",
        "livestock_units",
    ):
        rows = rng.choice(N, 40, replace=False)
        getattr(state, name)[rows] = rng.choice(specials, 40)
    debtors = np.flatnonzero(state.formal_debt_vnd > 0)
    state.formal_instalment_vnd_month[debtors[:30]] = 0.0  # debt with nothing due this month
    state.arrears_months[debtors[30:60]] = np.iinfo(np.int16).max  # wraps, as numpy's int16 does
    childless = rng.choice(N, 10, replace=False)
    for name in ("n_under6", "n_6_15", "n_16_59", "n_60plus", "wage_workers"):
        getattr(state, name)[childless] = 0  # no members: income per person is inf or NaN
    return state


def assert_same_bits(got: HouseholdState, expected: HouseholdState) -> None:
    for field in dataclasses.fields(HouseholdState):
        a, b = getattr(got, field.name), getattr(expected, field.name)
        assert a.dtype == b.dtype, field.name
        assert a.tobytes() == b.tobytes(), f"{field.name} differs"


# --- the numpy references -----------------------------------------------------------------


def reference_earn(state, scenario, market, month, months_elapsed, normals):
    e, s = scenario.economy, scenario.shocks
    phi = persistent_monthly_autocorrelation(scenario)
    persistent = state.income_persistent
    persistent *= phi
    persistent += (np.sqrt(1.0 - phi**2) * scenario.population.persistent_income_log_sd) * normals[0]
    crop_rate = CROP_SEASON[month - 1] * market.price_factor("crops", scenario)
    farm = state.crops_vnd_month * crop_rate
    farm += state.tea_vnd_month * (TEA_SEASON[month - 1] * market.price_factor("tea", scenario))
    farm += state.forestry_vnd_month
    farm += state.livestock_units * (
        scenario.livelihoods.livestock_net_return_vnd_per_unit_month
        * market.price_factor("livestock", scenario)
    )
    damaged = np.flatnonzero(state.crop_loss_months_left)
    farm[damaged] -= state.crops_vnd_month[damaged] * crop_rate * state.crop_loss_share[damaged]
    epidemic = market.epidemic_months_left > 0
    earned = state.wage_vnd_per_worker_month * state.wage_workers
    earned *= 1.0 - s.epidemic_wage_loss_share if epidemic else 1.0
    earned += farm
    noise_sd = e.monthly_income_noise_log_sd
    luck = noise_sd * normals[1]
    luck += persistent
    luck -= 0.5 * noise_sd**2
    np.exp(luck, out=luck)
    earned *= luck
    trend = trend_factor(scenario, months_elapsed)
    earned *= trend
    ill = np.flatnonzero(state.illness_months_left)
    earned[ill] *= 1.0 - s.illness_income_loss_share
    remittances = state.remittance_vnd_month * trend
    abroad = np.flatnonzero(state.abroad_months_left)
    remittances[abroad] += scenario.instruments.labour_export.remittance_vnd_month
    if epidemic:
        remittances *= 1.0 - s.epidemic_remittance_loss_share
    income = earned + remittances + state.transfers_vnd_this_month
    per_person = income / state.size
    state.income_vnd_per_person_month = per_person
    state.income_since_review_vnd += per_person
    return income


def reference_settle_month(state, scenario, income_vnd, extra_costs_vnd, withdrawal_candidates, price):
    c = scenario.coping
    debtors = np.flatnonzero(state.formal_debt_vnd > 0.0)
    borrowers = np.flatnonzero(state.informal_debt_vnd > 0.0)
    debt = state.formal_debt_vnd[debtors]
    formal_interest = debt * state.formal_rate_per_year[debtors] / 12.0
    informal_interest = state.informal_debt_vnd[borrowers] * (c.informal_interest_rate_per_year / 12.0)
    principal_due = np.minimum(state.formal_instalment_vnd_month[debtors], debt)
    floor = c.subsistence_vnd_per_person_month * state.size
    disposable = income_vnd.copy()
    disposable[debtors] -= formal_interest + principal_due
    disposable[borrowers] -= informal_interest
    disposable -= floor
    np.maximum(disposable, 0.0, out=disposable)
    consumption = floor + c.consumption_share_of_income_above_subsistence * disposable
    school = np.where(
        state.tuition_exempt_months_left > 0,
        c.school_cost_vnd_per_child_month - scenario.instruments.tuition_exemption.amount_vnd_per_unit / 12.0,
        c.school_cost_vnd_per_child_month,
    )
    school *= state.n_6_15
    school *= ~state.lacks[:, state.condition("child_school_attendance")]
    savings = state.savings_vnd
    savings += income_vnd
    savings -= consumption
    savings -= extra_costs_vnd
    savings -= school
    savings[debtors] -= formal_interest
    savings[borrowers] -= informal_interest
    left = savings[debtors]
    paid = np.clip(left, 0.0, principal_due)
    savings[debtors] = left - paid
    unpaid = principal_due - paid
    remaining = state.formal_debt_vnd[debtors] - paid
    state.formal_debt_vnd[debtors] = remaining
    late = unpaid > 0
    state.arrears_vnd[debtors[late]] += unpaid[late]
    state.arrears_months[debtors] = np.where(late, state.arrears_months[debtors] + 1, 0)
    cleared = debtors[remaining <= 1.0]
    state.formal_debt_vnd[cleared] = 0.0
    state.formal_instalment_vnd_month[cleared] = 0.0
    repay = np.minimum(
        np.maximum(savings[borrowers], 0.0),
        state.informal_debt_vnd[borrowers] * c.informal_repayment_share_per_month,
    )
    savings[borrowers] -= repay
    state.informal_debt_vnd[borrowers] -= repay
    short_of = np.flatnonzero(savings < 0.0)
    shortfall = -savings[short_of]
    savings[short_of] = 0.0
    capacity = np.maximum(
        c.informal_borrowing_limit_months_of_income * np.maximum(state.usual_income_vnd_month[short_of], 0.0)
        - state.informal_debt_vnd[short_of],
        0.0,
    )
    borrowed = np.minimum(shortfall, capacity)
    state.informal_debt_vnd[short_of] += borrowed
    shortfall -= borrowed
    if price > 0:
        sold = np.minimum(state.livestock_units[short_of], shortfall / price)
        state.livestock_units[short_of] -= sold
        shortfall -= sold * price
    state.short_this_month[:] = False
    state.short_this_month[short_of[shortfall > 1.0]] = True
    candidates = withdrawal_candidates[state.short_this_month[withdrawal_candidates]]
    withdraw = candidates[state.n_6_15[candidates] > 0]
    state.lacks[withdraw, state.condition("child_school_attendance")] = True
    usual = state.usual_income_vnd_month
    usual += (income_vnd - usual) / USUAL_INCOME_MONTHS
    np.minimum(savings, c.savings_buffer_months_of_income * np.maximum(usual, 0.0), out=savings)


def reference_classify(standard, income, count, urban):
    line = standard.income_line(urban)
    at_or_below = income <= line
    status = np.full(len(line), Status.ABOVE_AVERAGE, dtype=np.int8)
    status[~at_or_below & (income <= standard.average_living_line_multiple * line)] = Status.AVERAGE
    poor = at_or_below & (count >= standard.poor_min_deprivation_count)
    status[at_or_below & ~poor] = Status.NEAR_POOR
    status[poor] = Status.POOR
    return status


def reference_remove_workers(state, hit, wage_draws, death_draws):
    state.worker_loss_count[hit] += 1
    workers = np.maximum(state.n_16_59[hit] - state.jobless[hit], 1)
    wage_hit = (state.wage_workers[hit] > 0) & (wage_draws < state.wage_workers[hit] / workers)
    state.wage_workers[hit[wage_hit]] -= 1
    farm = hit[~wage_hit]
    farm_workers = np.maximum(workers[~wage_hit] - state.wage_workers[farm], 1)
    kept = 1.0 - 1.0 / (farm_workers + 1)
    state.crops_vnd_month[farm] *= kept
    state.tea_vnd_month[farm] *= kept
    dies = hit[(death_draws < WORKER_DEATH_SHARE) & (state.n_16_59[hit] + state.n_60plus[hit] > 1)]
    state.n_16_59[dies] -= 1
    state.jobless[dies] = np.minimum(state.jobless[dies], state.n_16_59[dies])
    state.wage_workers[dies] = np.minimum(state.wage_workers[dies], state.n_16_59[dies] - state.jobless[dies])


def reference_fall_ill(state, scenario, candidates, cost_normals, poor_card_paid_share):
    s = scenario.shocks
    healthy = state.illness_months_left[candidates] == 0
    sick, normals = candidates[healthy], cost_normals[healthy]
    state.illness_months_left[sick] = s.illness_duration_months
    state.illness_count[sick] += 1
    mean_log = np.log(s.illness_treatment_cost_vnd) - 0.5 * TREATMENT_COST_LOG_SD**2
    insured = ~state.lacks[sick, state.condition("health_insurance")]
    paid_share = np.where(insured, s.insurance_paid_cost_share, 0.0)
    poor_card = insured & state.state_insurance_card[sick] & (state.status[sick] == Status.POOR)
    paid_share[poor_card] = poor_card_paid_share
    cost = np.zeros(state.count)
    cost[sick] = np.exp(mean_log + TREATMENT_COST_LOG_SD * normals) * (1.0 - paid_share)
    return cost, sick.size


def reference_change_jobs(state, loss, loss_uniforms, table, find, find_uniforms, bound, base, wage, premium):
    losers = loss[
        loss_uniforms * table[-1] < table[np.minimum(state.wage_workers[loss], MAX_COUNTED_MEMBERS)]
    ]
    finders = find[find_uniforms * bound < np.where(state.trained[find], bound, base)]
    lose = np.zeros(state.count, bool)
    lose[losers] = True
    finders = finders[~lose[finders] & (state.jobless[finders] > 0)]
    never_waged = finders[state.wage_vnd_per_worker_month[finders] <= 0]
    state.wage_vnd_per_worker_month[never_waged] = wage * np.where(
        state.trained[never_waged], 1.0 + premium, 1.0
    )
    state.jobless[finders] -= 1
    state.wage_workers[finders] += 1
    state.wage_workers[losers] -= 1
    state.jobless[losers] += 1
    state.job_loss_count[losers] += 1


def reference_depart_migrants(state, contract_months):
    waiting = np.flatnonzero(state.departure_in_months > 0)
    state.departure_in_months[waiting] -= 1
    leaving = np.flatnonzero(state.departure_in_months == 0)
    state.abroad_months_left[leaving] = contract_months
    state.departure_in_months[leaving] = NOT_LEAVING
    state.jobless[leaving[state.jobless[leaving] > 0]] -= 1


def reference_kill_livestock(state, candidates, kept):
    hit = candidates[state.livestock_units[candidates] > 0]
    state.livestock_units[hit] *= kept
    state.herd_disease_count[hit] += 1
    return hit.size


# --- the checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("epidemic_months", [0, 2])
def test_earnings_loop_matches_numpy(seed, epidemic_months, special):
    scenario = load_scenario(None)
    market = MarketConditions(
        price_log_deviation=np.random.default_rng(seed).normal(0, 0.1, 3),
        epidemic_months_left=epidemic_months,
    )
    state = random_households(seed)
    if special:
        add_special_values(state, seed)
    expected = copy.deepcopy(state)
    normals = np.random.default_rng(seed + 100).standard_normal((2, N), dtype=np.float32)
    month, elapsed = seed * 3, seed * 7
    with np.errstate(all="ignore"):
        income = earn(state, scenario, market, month, elapsed, normals)
        expected_income = reference_earn(expected, scenario, market, month, elapsed, normals)
    assert income.tobytes() == expected_income.tobytes()
    assert_same_bits(state, expected)


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("livestock_price_vnd", [0.0, 9e6])
def test_settlement_loop_matches_numpy(seed, livestock_price_vnd, special):
    scenario = load_scenario(None)
    rng = np.random.default_rng(seed + 200)
    state = random_households(seed)
    if special:
        add_special_values(state, seed)
        for name in ("n_under6", "n_6_15", "n_16_59", "n_60plus"):  # settlement needs members
            getattr(state, name)[state.size == 0] = 1 if name == "n_16_59" else 0
    expected = copy.deepcopy(state)
    income = rng.normal(4e6, 6e6, N)  # some negative
    if special:
        income[rng.choice(N, 40, replace=False)] = rng.choice([np.nan, np.inf, -np.inf, -0.0], 40)
    extra = np.where(rng.random(N) < 0.1, rng.lognormal(15, 1, N), 0.0)
    candidates = np.flatnonzero(rng.random(N) < 0.3)
    with np.errstate(all="ignore"):
        settle_month(state, scenario, income, extra, candidates, livestock_price_vnd)
        reference_settle_month(expected, scenario, income, extra, candidates, livestock_price_vnd)
    assert_same_bits(state, expected)
    # The cases the comparison is about occurred.
    assert expected.short_this_month.any()
    assert not expected.short_this_month.all()
    assert (expected.arrears_months > 0).any()
    assert (expected.formal_debt_vnd == 0).any()


@pytest.mark.parametrize("seed", [1, 2])
def test_classification_loop_matches_numpy(seed):
    scenario = load_scenario(None)
    rng = np.random.default_rng(seed)
    income = rng.lognormal(np.log(2.5e6), 0.6, N)
    income[:10] = 1_500_000.0  # exactly on the rural line
    count = rng.integers(0, 8, N)
    urban = rng.random(N) < 0.2
    for standard in (decree_07(scenario), decree_351(scenario)):
        got = standard.classify(income, count, urban)
        assert got.tobytes() == reference_classify(standard, income, count, urban).tobytes()


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_worker_loss_loop_matches_numpy(seed, special):
    state = random_households(seed)
    if special:
        add_special_values(state, seed)
    rng = np.random.default_rng(seed + 300)
    hit = np.sort(rng.choice(N, 600, replace=False))
    wage_draws, death_draws = rng.random((2, hit.size))
    expected = copy.deepcopy(state)
    sure = np.vstack([np.zeros(hit.size), wage_draws, death_draws])  # a zero thinning draw: all hit
    remove_workers(state, hit, sure, np.ones(MAX_COUNTED_MEMBERS + 1))
    reference_remove_workers(expected, hit, wage_draws, death_draws)
    assert_same_bits(state, expected)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_illness_cost_loop_matches_numpy(seed):
    scenario = load_scenario(None)
    state = random_households(seed)
    rng = np.random.default_rng(seed + 400)
    state.illness_months_left[rng.random(N) < 0.3] = 2
    state.state_insurance_card[:] = rng.random(N) < 0.3
    state.status[:] = rng.integers(0, 4, N)
    candidates = np.sort(rng.choice(N, 800, replace=False))
    normals = rng.standard_normal(candidates.size)
    expected = copy.deepcopy(state)
    cost, count = fall_ill(state, scenario, candidates, normals, 0.95)
    expected_cost, expected_count = reference_fall_ill(expected, scenario, candidates, normals, 0.95)
    assert count == expected_count
    assert cost.tobytes() == expected_cost.tobytes()
    assert_same_bits(state, expected)


def reference_count_down(state: HouseholdState) -> None:
    for name in (
        "illness_months_left",
        "crop_loss_months_left",
        "abroad_months_left",
        "tuition_exempt_months_left",
    ):
        months = getattr(state, name)
        months -= months > 0
    with np.errstate(invalid="ignore"):
        state.crop_loss_share *= state.crop_loss_months_left != 0


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_count_down_loop_matches_numpy(seed, special):
    state = random_households(seed)
    rng = np.random.default_rng(seed + 500)
    state.tuition_exempt_months_left[:] = rng.integers(-2, 4, N)  # negatives stay as they are
    if special:
        rows = rng.choice(N, 60, replace=False)
        state.crop_loss_share[rows] = rng.choice(np.array([np.nan, np.inf, -0.0, -1.0], np.float32), 60)
    expected = copy.deepcopy(state)
    count_down(state)
    reference_count_down(expected)
    assert_same_bits(state, expected)


def test_household_totals_match_numpy_reductions():
    state = random_households(4)
    rng = np.random.default_rng(600)
    state.income_vnd_per_person_month[:] = rng.lognormal(14.5, 0.8, N)
    state.short_this_month[:] = rng.random(N) < 0.2
    line = np.where(state.urban, 2.0e6, 1.5e6)
    totals = HouseholdTotals.of(state, line)
    # Sums are taken in loop order, numpy's pairwise: equal to rounding.
    assert totals.mean_income_vnd_per_person_month == pytest.approx(state.income_vnd_per_person_month.mean())
    assert totals.mean_savings_vnd == pytest.approx(state.savings_vnd.mean())
    assert totals.mean_informal_debt_vnd == pytest.approx(state.informal_debt_vnd.mean())
    assert totals.formal_debt_vnd == pytest.approx(state.formal_debt_vnd.sum())
    assert totals.share_below_line_this_month == np.mean(state.income_vnd_per_person_month <= line)
    assert totals.ill_household_share == np.mean(state.illness_months_left > 0)
    assert totals.short_household_share == np.mean(state.short_this_month)
    assert totals.households_abroad == np.count_nonzero(state.abroad_months_left > 0)


def test_loops_refuse_arrays_that_do_not_fit_the_households():
    """The loops do not check bounds, so their callers refuse arrays of the wrong size."""
    scenario = load_scenario(None)
    state = random_households(1)
    market = MarketConditions(price_log_deviation=np.zeros(3))
    with pytest.raises(ValueError, match=r"normals have shape \(2, 10\)"):
        earn(state, scenario, market, 1, 1, np.zeros((2, 10), np.float32))
    short = np.zeros(N - 1)
    with pytest.raises(ValueError, match="income_vnd has shape"):
        settle_month(state, scenario, short, np.zeros(N), np.empty(0, int), 1e7)
    with pytest.raises(ValueError, match="extra_costs_vnd has shape"):
        settle_month(state, scenario, np.zeros(N), short, np.empty(0, int), 1e7)
    with pytest.raises(ValueError, match="differ in length"):
        decree_07(scenario).classify(np.zeros(N), np.zeros(N - 1, int), np.zeros(N, bool))


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_job_moves_loop_matches_numpy(seed, special):
    state = random_households(seed)
    if special:
        add_special_values(state, seed)
    rng = np.random.default_rng(seed + 600)
    state.jobless[:] = rng.integers(0, 3, N)
    state.wage_workers[:] = rng.integers(0, 20, N)  # beyond the members counted, too
    state.trained[:] = rng.random(N) < 0.3
    state.wage_vnd_per_worker_month[rng.random(N) < 0.5] = 0.0
    table = any_of_table(0.08)
    # Many candidates of both moves, overlapping, so every branch is taken.
    loss = np.sort(rng.choice(N, 1_500, replace=False))
    find = np.sort(rng.choice(N, 1_500, replace=False))
    loss_uniforms, find_uniforms = rng.random(loss.size), rng.random(find.size)
    args = (loss, loss_uniforms, table, find, find_uniforms, 0.6, 0.2, 4_000_000.0, 0.15)
    before, expected = copy.deepcopy(state), copy.deepcopy(state)
    reference_change_jobs(expected, *args)
    change_jobs_at(
        *args,
        state.wage_workers,
        state.jobless,
        state.job_loss_count,
        state.trained,
        state.wage_vnd_per_worker_month,
    )
    assert_same_bits(state, expected)
    assert (state.job_loss_count > 0).sum() > 100
    assert (state.jobless < before.jobless).sum() > 100


@pytest.mark.parametrize("seed", [1, 2])
def test_departures_loop_matches_numpy(seed):
    state = random_households(seed)
    rng = np.random.default_rng(seed + 700)
    state.departure_in_months[:] = np.where(rng.random(N) < 0.3, rng.integers(0, 4, N), NOT_LEAVING)
    state.jobless[:] = rng.integers(0, 2, N)
    expected = copy.deepcopy(state)
    for _ in range(3):
        depart_migrants(state.departure_in_months, state.abroad_months_left, state.jobless, 36, NOT_LEAVING)
        reference_depart_migrants(expected, 36)
        assert_same_bits(state, expected)
    assert (state.abroad_months_left == 36).sum() > 0.2 * N


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_herd_loss_loop_matches_numpy(seed, special):
    state = random_households(seed)
    if special:
        add_special_values(state, seed)
    candidates = np.sort(np.random.default_rng(seed + 800).choice(N, 900, replace=False))
    expected = copy.deepcopy(state)
    hit = kill_livestock_at(candidates, 0.7, state.livestock_units, state.herd_disease_count)
    assert hit == reference_kill_livestock(expected, candidates, 0.7)
    assert 0 < hit < candidates.size
    assert_same_bits(state, expected)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_worker_loss_thinning_matches_numpy(seed):
    state = random_households(seed)
    rng = np.random.default_rng(seed + 900)
    state.n_16_59[:] = rng.integers(0, 20, N)  # beyond the members counted, too
    candidates = np.sort(rng.choice(N, 1_000, replace=False))
    draws = rng.random((3, candidates.size))
    table = any_of_table(0.05)
    expected = copy.deepcopy(state)
    keep = draws[0] * table[-1] < table[np.minimum(expected.n_16_59[candidates], MAX_COUNTED_MEMBERS)]
    reference_remove_workers(expected, candidates[keep], draws[1][keep], draws[2][keep])
    hit = remove_workers(state, candidates, draws, table)
    assert hit == keep.sum()
    assert 0 < hit < candidates.size
    assert_same_bits(state, expected)


def reference_record_transitions(state, status, year):
    poor_now = status == Status.POOR
    reviewed_before = state.status != NO_STATUS
    poor_before = state.status == Status.POOR
    entered = poor_now & ~poor_before & reviewed_before
    escaped = poor_before & ~poor_now
    relapsed = entered & state.ever_poor
    newly_poor = entered & ~state.ever_poor
    state.escape_year[escaped] = year
    state.relapse_count += relapsed
    state.ever_poor |= poor_now
    state.status[:] = status
    by_status = [
        np.bincount(status[members], minlength=4) for members in (slice(None), state.ethnic_minority)
    ]
    return [escaped.sum(), relapsed.sum(), newly_poor.sum()], by_status


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_review_transitions_loop_matches_numpy(seed):
    state = random_households(seed)
    rng = np.random.default_rng(seed + 1000)
    state.status[:] = rng.integers(-1, 4, N)  # NO_STATUS too: never reviewed
    state.ever_poor[:] = (state.status == Status.POOR) | (rng.random(N) < 0.3)
    state.ethnic_minority[:] = rng.random(N) < 0.6
    new_status = rng.integers(0, 4, N).astype(np.int8)
    expected = copy.deepcopy(state)
    transitions, by_status = reference_record_transitions(expected, new_status, 2026)
    tallies = np.zeros((3, 4), np.int64)
    record_transitions(
        new_status,
        state.status,
        state.ever_poor,
        state.escape_year,
        state.relapse_count,
        state.ethnic_minority,
        2026,
        int(Status.POOR),
        NO_STATUS,
        tallies,
    )
    assert_same_bits(state, expected)
    assert tallies[0, :3].tolist() == transitions
    assert min(transitions) > 0
    np.testing.assert_array_equal(tallies[1:], by_status)


def reference_write_off(state, after_months):
    default = np.flatnonzero(state.arrears_months >= after_months)
    state.formal_debt_vnd[default] = 0.0
    state.formal_instalment_vnd_month[default] = 0.0
    state.arrears_vnd[default] = 0.0
    state.arrears_months[default] = 0
    state.loan_defaulted[default] = True
    return default.size


@pytest.mark.parametrize("seed", [1, 2])
def test_write_off_loop_matches_numpy(seed):
    state = random_households(seed)
    rng = np.random.default_rng(seed + 1100)
    state.arrears_months[:] = rng.integers(0, 10, N)
    state.arrears_vnd[:] = rng.random(N) * 1e6
    expected = copy.deepcopy(state)
    written_off = write_off_defaults(state, 6)
    assert written_off == reference_write_off(expected, 6)
    assert 0 < written_off < N
    assert_same_bits(state, expected)


@pytest.mark.parametrize("columns", [1, 9, 14])
def test_deprivation_counts_are_row_sums(columns):
    from povsim.review import deprivation_counts

    rng = np.random.default_rng(columns)
    deprived = rng.random((N, columns)) < 0.4
    for matrix in (deprived, np.asfortranarray(deprived), deprived[::2]):
        counts = deprivation_counts(matrix, np.int16)
        assert counts.dtype == np.int16
        np.testing.assert_array_equal(counts, matrix.sum(axis=1))


@pytest.mark.parametrize("shape", [(0, 14), (N, 1), (N, 14), (7, 0)])
def test_column_counts_are_count_nonzero(shape):
    rng = np.random.default_rng(shape[1])
    deprived = rng.random(shape) < 0.3
    for matrix in (deprived, np.asfortranarray(deprived), deprived[::3]):
        np.testing.assert_array_equal(count_true_in_columns(matrix), np.count_nonzero(matrix, axis=0))
