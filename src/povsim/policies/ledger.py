"""The budget ledger: every disbursement, by instrument, year and household.

Budgets are per calendar year. `pay` funds candidates in the order given until the year's
budget is spent, so a budget is never exceeded; what is paid is recorded as units (households,
students or people) and VND: in yearly totals, in each household's running total, and as
one entry per payment (instrument, year, household, VND, units).
"""

from __future__ import annotations

import numpy as np
from numba import njit

INSTRUMENT_IDS: tuple[str, ...] = (
    "preferential_loans",
    "student_loans",
    "water_sanitation_loans",
    "tuition_exemption",
    "study_cost_support",
    "health_insurance",
    "electricity_support",
    "housing_support",
    "vocational_training",
    "job_placement",
    "labour_export",
    "livestock_support",
    "value_chain_support",
    "food_aid",
)
UNIT_NAMES = {
    "student_loans": "students",
    "tuition_exemption": "students",
    "study_cost_support": "students",
    "health_insurance": "people",
    "vocational_training": "people",
}


class Ledger:
    """Spending of every instrument in every year, with per-year budgets."""

    def __init__(
        self, household_count: int, first_year: int, last_year: int, budgets_vnd: dict[str, float | None]
    ) -> None:
        self.first_year = first_year
        self.years = np.arange(first_year, last_year + 1)
        self.budgets_vnd = budgets_vnd
        shape = (len(INSTRUMENT_IDS), len(self.years))
        self.vnd = np.zeros(shape)
        self.units = np.zeros(shape, dtype=np.int64)
        # Households x instruments, stored instrument by instrument: an instrument's column,
        # which `pay` adds to and instruments read, is contiguous.
        self.household_vnd = np.zeros((len(INSTRUMENT_IDS), household_count)).T
        self._payments: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]] = []

    def remaining_vnd(self, instrument: str, year: int) -> float:
        """What is left of an instrument's budget for a year (infinite for an entitlement)."""
        budget = self.budgets_vnd.get(instrument)
        if budget is None:
            return float("inf")
        return budget - self.vnd[INSTRUMENT_IDS.index(instrument), year - self.first_year]

    def pay(
        self,
        instrument: str,
        year: int,
        households: np.ndarray,
        vnd_each: np.ndarray | float,
        units_each: np.ndarray | int,
    ) -> np.ndarray:
        """Fund the candidates in order while the year's budget lasts; return those funded.

        Args:
            instrument: an id from INSTRUMENT_IDS.
            year: calendar year of the disbursement.
            households: candidate household indices, in priority order.
            vnd_each: what each candidate would receive (one number: the same for all).
            units_each: units each candidate counts for (one number: the same for all).
        """
        same_amount = isinstance(vnd_each, float | int)
        amounts = np.array([vnd_each], dtype=float) if same_amount else np.asarray(vnd_each, dtype=float)
        i, t = INSTRUMENT_IDS.index(instrument), year - self.first_year
        count = fund_in_order(
            households, amounts, self.remaining_vnd(instrument, year) * (1 + 1e-12), self.household_vnd[:, i]
        )
        paid = households[:count]
        if not count:
            return paid
        vnd = np.full(count, amounts[0]) if same_amount else amounts[:count]
        self.vnd[i, t] += vnd.sum()
        if isinstance(units_each, int):
            self.units[i, t] += count * units_each
        else:
            units_each = np.asarray(units_each)[:count]
            self.units[i, t] += int(units_each.sum())
        # Kept as given (views the callers do not modify); `payments` widens and narrows them.
        self._payments.append((i, year, paid, vnd, units_each))
        return paid

    def payments(self) -> dict[str, np.ndarray]:
        """Every payment as columns: instrument, year, household (row index), vnd, units."""
        if not self._payments:
            empty = np.empty(0)
            return {
                "instrument": empty.astype(object),
                "year": empty.astype(np.int16),
                "household": empty.astype(np.int32),
                "vnd": empty,
                "units": empty.astype(np.int32),
            }
        return {
            "instrument": np.concatenate(
                [np.full(p[2].size, INSTRUMENT_IDS[p[0]], dtype=object) for p in self._payments]
            ),
            "year": np.concatenate([np.full(p[2].size, p[1], dtype=np.int16) for p in self._payments]),
            "household": np.concatenate([p[2] for p in self._payments]).astype(np.int32),
            "vnd": np.concatenate([p[3] for p in self._payments]),
            "units": np.concatenate([np.broadcast_to(p[4], p[2].shape) for p in self._payments]).astype(
                np.int32
            ),
        }

    def records(self) -> list[dict[str, object]]:
        """One row per instrument and year: units, VND and the budget (None for entitlements)."""
        return [
            {
                "instrument": instrument,
                "year": int(year),
                "units": int(self.units[i, t]),
                "unit": UNIT_NAMES.get(instrument, "households"),
                "vnd": float(self.vnd[i, t]),
                "budget_vnd": self.budgets_vnd.get(instrument),
            }
            for i, instrument in enumerate(INSTRUMENT_IDS)
            for t, year in enumerate(self.years)
        ]


@njit(cache=True)
def fund_in_order(
    households: np.ndarray, vnd_each: np.ndarray, budget_vnd: float, household_vnd: np.ndarray
) -> int:
    """How many candidates, in order, the budget covers; their amounts added to `household_vnd`.

    `vnd_each` holds each candidate's amount, or one amount for all. Amounts are
    non-negative, so the funded are a prefix: funding stops at the first candidate whose
    running total (summed in order, as `np.cumsum`) exceeds the budget.
    """
    step = 1 if vnd_each.size == households.size else 0
    count, total = households.size, 0.0
    for k in range(households.size):
        total += vnd_each[k * step]
        if not total <= budget_vnd:
            count = k
            break
    for k in range(count):
        household_vnd[households[k]] += vnd_each[k * step]
    return count
