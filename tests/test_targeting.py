"""Who an instrument selects and in what order, and how the ledger funds them.

The selection is compiled and draws from its stream itself; here it is checked against the
same rules written as numpy expressions on numpy's own draws (eligibility by list or group,
officials' errors, take-up, poorest list first and by draw within a list), for every list
and group, and the funding order for tied draws.
"""

import itertools

import numpy as np
import pytest

from povsim.households import NO_YEAR
from povsim.policies.credit import add_loans
from povsim.policies.ledger import Ledger
from povsim.policies.targeting import (
    BUCKET_SORT_UP_TO,
    CROWDED_BUCKET,
    GROUP_BITS,
    applying_rows,
    bucket_order,
    funding_order,
)
from povsim.sfc64 import state_words
from povsim.standards import Status


def population(rng, n):
    status = rng.integers(0, 4, n).astype(np.int8)
    escape_year = np.where(rng.random(n) < 0.4, rng.integers(2021, 2030, n), NO_YEAR).astype(np.int16)
    return {
        "status": status,
        "escape_year": escape_year,
        "ethnic_minority": rng.random(n) < 0.5,
        "remote": rng.random(n) < 0.3,
        "urban": rng.random(n) < 0.2,
        "needs": rng.random(n) < 0.8,
    }


def members(people, group, year, max_years):
    status, escape_year = people["status"], people["escape_year"]
    return {
        "poor": status == Status.POOR,
        "near_poor": status == Status.NEAR_POOR,
        "newly_escaped": (escape_year != NO_YEAR)
        & (status != Status.POOR)
        & (year - escape_year <= max_years),
        "ethnic_minority": people["ethnic_minority"],
        "remote": people["remote"],
        "ethnic_minority_remote": people["ethnic_minority"] & people["remote"],
        "rural": ~people["urban"],
        "all": np.ones(status.size, bool),
    }[group]


def numpy_selection(people, groups, year, max_years, error, apply, missed_below, included_above, take_up):
    eligible = np.zeros(people["status"].size, bool)
    for group in groups:
        eligible |= members(people, group, year, max_years)
    eligible &= people["needs"]
    selected = eligible & (error >= missed_below)
    selected |= ~eligible & people["needs"] & (people["status"] == Status.AVERAGE) & (error > included_above)
    chosen = np.flatnonzero(selected & (apply < take_up))
    return chosen[np.lexsort((apply[chosen], people["status"][chosen]))]


def compiled_selection(people, groups, year, max_years, stream_seed, missed_below, included_above, take_up):
    """The selection as `applicants` makes it, drawing from an SFC64 stream of `stream_seed`."""
    flags = 0
    for group in groups:
        flags |= GROUP_BITS[group]
    rng = sfc64_stream(stream_seed)
    chosen, draws = applying_rows(
        flags,
        year - max_years,
        people["status"],
        people["escape_year"],
        people["ethnic_minority"],
        people["remote"],
        people["urban"],
        people["needs"],
        state_words(rng),
        missed_below,
        included_above,
        take_up,
    )
    return chosen[funding_order(people["status"][chosen], draws)], draws, rng


def sfc64_stream(seed):
    return np.random.Generator(np.random.SFC64(seed))


SINGLE_GROUPS = [(group,) for group in GROUP_BITS]
SOME_PAIRS = list(itertools.combinations(GROUP_BITS, 2))[::3]


@pytest.mark.parametrize("groups", SINGLE_GROUPS + SOME_PAIRS + [("poor", "near_poor", "newly_escaped")])
def test_compiled_selection_is_the_numpy_rule(groups):
    """Same households, same order, same draws as numpy's `random((2, n))` and the numpy rule."""
    seed = len(groups) * 100 + sum(GROUP_BITS[g] for g in groups)
    people = population(np.random.default_rng(seed), 3_000)
    numpy_stream = sfc64_stream(seed)
    error, apply = numpy_stream.random((2, 3_000))
    expected = numpy_selection(people, groups, 2026, 3, error, apply, 0.1, 0.95, 0.6)
    assert expected.size > 0
    chosen, draws, stream = compiled_selection(people, groups, 2026, 3, seed, 0.1, 0.95, 0.6)
    np.testing.assert_array_equal(chosen, expected)
    np.testing.assert_array_equal(np.sort(draws), np.sort(apply[expected]))
    # The stream continues where numpy's would after the same draws.
    np.testing.assert_array_equal(stream.random(4), numpy_stream.random(4))


def test_funding_order_keeps_row_order_for_tied_draws_within_a_list():
    rng = np.random.default_rng(5)
    # lexsort itself, the bucket sort, and the two sorts with the fallback for ties
    for size in (300, 3_000, BUCKET_SORT_UP_TO + 1):
        status = rng.integers(0, 4, size).astype(np.int8)
        draws = np.round(rng.random(size), 2) * 0.5  # many ties among a hundred values
        np.testing.assert_array_equal(funding_order(status, draws), np.lexsort((draws, status)))
        untied = rng.random(size)
        np.testing.assert_array_equal(funding_order(status, untied), np.lexsort((untied, status)))


@pytest.mark.parametrize(
    ("size", "codes", "distinct_draws"),
    [
        (1_000, (0, 1, 2, 3), None),
        (50_000, (0, 1, 2, 3), None),
        (4_000, (-1, 0, 3), None),
        (20_000, (2,), 600),
    ],
)
def test_bucket_order_is_lexsorts_order(size, codes, distinct_draws):
    """The bucket sort gives lexsort's order: any status codes (NO_STATUS too), and ties among a
    few hundred distinct draws (dozens a bucket) kept in position order."""
    rng = np.random.default_rng(size)
    status = rng.choice(np.array(codes, dtype=np.int8), size)
    draws = rng.random(size) * 0.7
    if distinct_draws:
        draws = rng.integers(0, distinct_draws, size) / distinct_draws
    order = bucket_order(status, draws, size)
    np.testing.assert_array_equal(order, np.lexsort((draws, status)))
    np.testing.assert_array_equal(funding_order(status, draws), np.lexsort((draws, status)))


def test_a_crowded_bucket_sends_the_funding_order_to_lexsort():
    status = np.zeros(5_000, np.int8)
    draws = np.full(5_000, 0.25)
    draws[::7] = 0.5
    assert bucket_order(status, draws, CROWDED_BUCKET).size == 0
    assert bucket_order(np.empty(0, np.int8), np.empty(0), CROWDED_BUCKET).size == 0  # no one to order
    np.testing.assert_array_equal(funding_order(status, draws), np.lexsort((draws, status)))


@pytest.mark.parametrize("take_up", [0.0, 1.0])
def test_take_up_bounds_select_no_one_or_every_selected(take_up):
    people = population(np.random.default_rng(8), 1_000)
    chosen, _, _ = compiled_selection(people, ("all",), 2024, 3, 8, 0.0, 1.0, take_up)
    expected_count = 0 if take_up == 0.0 else int(people["needs"].sum())
    assert chosen.size == expected_count


def test_selection_refuses_a_stream_other_than_sfc64():
    with pytest.raises(TypeError, match="SFC64"):
        state_words(np.random.default_rng(1))


@pytest.mark.parametrize("budget", [0.0, 2.5, 3.0, 100.0, None])
def test_ledger_funds_a_prefix_within_the_budget(budget):
    ledger = Ledger(10, 2022, 2023, {"food_aid": budget})
    households = np.array([7, 2, 9, 4])
    amounts = np.array([1.0, 0.5, 1.5, 2.0])
    paid = ledger.pay("food_aid", 2023, households, amounts, np.array([1, 2, 1, 3]))
    funded = np.cumsum(amounts) <= (np.inf if budget is None else budget)
    np.testing.assert_array_equal(paid, households[funded])
    column = ledger.vnd[-1]
    assert column[1] == amounts[funded].sum()
    assert column[0] == 0.0
    assert ledger.units[-1, 1] == np.array([1, 2, 1, 3])[funded].sum()
    np.testing.assert_array_equal(ledger.household_vnd[households[funded], -1], amounts[funded])
    assert ledger.household_vnd.sum() == amounts[funded].sum()
    if budget is not None:
        assert column[1] <= budget


def numpy_lend(debt, rate, instalment, households, amount, rate_per_year, term_months):
    old = debt[households]
    total = old + amount
    rate[households] = np.where(
        total > 0, (old * rate[households] + amount * rate_per_year) / np.maximum(total, 1.0), 0.0
    )
    debt[households] = total
    instalment[households] += amount / term_months


def test_loans_add_to_debt_as_the_numpy_rule():
    rng = np.random.default_rng(12)
    n = 2_000
    debt = np.where(rng.random(n) < 0.5, 0.0, rng.lognormal(17, 1, n))
    debt[:5] = [-3e6, np.nan, 0.5, -0.0, np.inf]  # odd debts are carried as numpy carries them
    rate = rng.random(n) * 0.1
    instalment = rng.random(n) * 1e6
    households = np.sort(rng.choice(n, 800, replace=False))
    households[:5] = np.arange(5)
    amount = np.where(rng.random(800) < 0.1, 0.0, rng.lognormal(17, 0.5, 800))
    rates = rng.random(800) * 0.1
    expected = [debt.copy(), rate.copy(), instalment.copy()]
    with np.errstate(invalid="ignore"):
        numpy_lend(*expected, households, amount, rates, 36)
    add_loans(households, amount, rates, 36, debt, rate, instalment)
    for got, want in zip((debt, rate, instalment), expected, strict=True):
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("budget", [0.0, 0.3, 0.7 + 1e-9, 5.0, None])
def test_one_amount_for_all_funds_as_the_same_amounts_listed(budget):
    """A single amount funds exactly whom the list of equal amounts funds (running sums alike)."""
    households = np.array([3, 1, 4, 0, 5, 9, 2])
    listed, single = (Ledger(10, 2022, 2022, {"food_aid": budget}) for _ in range(2))
    paid_listed = listed.pay("food_aid", 2022, households, np.full(7, 0.1), np.ones(7, np.int64))
    paid_single = single.pay("food_aid", 2022, households, 0.1, 1)
    np.testing.assert_array_equal(paid_single, paid_listed)
    assert single.vnd.tobytes() == listed.vnd.tobytes()
    assert single.household_vnd.tobytes() == listed.household_vnd.tobytes()
    np.testing.assert_array_equal(single.units, listed.units)
    for column, values in single.payments().items():
        np.testing.assert_array_equal(values, listed.payments()[column])
