"""The annual December review: measure households, classify them, record transitions.

The review observes; it changes nothing but the official status and the history that
depends on it. Income is the mean monthly income per person since the last review, times
a log-normal measurement error; each indicator is scored wrongly with a small probability.

Transitions concern the official *poor* status:

- escaped: poor at the previous review, not poor now;
- relapsed: poor now, not poor at the previous review, and poor at some earlier review;
- newly poor: poor now for the first time.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from povsim.household_loops import count_true_in_columns, count_true_in_rows, record_transitions
from povsim.households import NO_STATUS, HouseholdState
from povsim.normals import standard_normals
from povsim.sampling import chance_indices
from povsim.scenario.schema import Scenario
from povsim.standards import (
    INDICATORS,
    PovertyStandard,
    Status,
    decree_07,
    decree_351,
    indicator_deprived,
)

RATE_GROUPS = ("all", "ethnic_minority")
COUNTERFACTUAL_RATES = ("poor_rate", "near_poor_rate", "poor_or_near_poor_rate")


def measure(
    state: HouseholdState,
    standard: PovertyStandard,
    months_in_window: int,
    income_error_log_sd: float,
    misclassification_prob: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The review's estimate of income per person and its scored deprivations matrix."""
    n = state.count
    mean_income = state.income_since_review_vnd / months_in_window
    # Log-normal error centred on the true income (median), as at the end-2021 review.
    error = np.exp(income_error_log_sd * standard_normals(rng, n))
    deprived = standard.deprivations(state)
    # Each score is wrong with the misscoring chance, drawn for the few cells hit rather than
    # with a uniform per household and indicator. Only indicators that can apply are
    # misscored (no nutrition score without a child).
    cells = chance_indices(rng, deprived.size, misclassification_prob)
    if cells.size:
        households, indicators = np.divmod(cells, deprived.shape[1])  # cells in row-major order
        applies = standard.applicable_cells(state, households, indicators)
        households, indicators = households[applies], indicators[applies]
        deprived[households, indicators] = ~deprived[households, indicators]
    return mean_income * error, deprived


def deprivation_counts(deprived: np.ndarray, dtype: type[np.integer]) -> np.ndarray:
    """Each household's number of deprivations: the row sums of `deprived`, as `sum(axis=1)`.

    A compiled pass over the rows: numpy's row reduction, or a sum column by column, costs
    several times more (and a dozen calls).
    """
    counts = np.empty(deprived.shape[0], dtype)
    count_true_in_rows(deprived, counts)
    return counts


def review_households(
    state: HouseholdState,
    scenario: Scenario,
    standard: PovertyStandard,
    year: int,
    measured_income: np.ndarray,
    deprived: np.ndarray,
) -> dict[str, float | int | str]:
    """Hold the review: `record_review`'s figures and `standard_counterfactuals`' rates.

    Each household's count of scored deprivations is taken once for both.
    """
    counts = deprivation_counts(deprived, np.int16)
    record = record_review(state, standard, year, measured_income, deprived, counts)
    record.update(standard_counterfactuals(state, scenario, standard, measured_income, deprived, counts))
    return record


def record_review(
    state: HouseholdState,
    standard: PovertyStandard,
    year: int,
    measured_income: np.ndarray,
    deprived: np.ndarray,
    counts: np.ndarray,
) -> dict[str, float | int | str]:
    """Classify every household, update its history, and return the review's figures.

    `counts` holds each household's number of scored deprivations (the row sums of `deprived`).
    """
    status = standard.classify(measured_income, counts, state.urban)
    tallies = np.zeros((3, len(Status)), np.int64)
    record_transitions(
        status,
        state.status,
        state.ever_poor,
        state.escape_year,
        state.relapse_count,
        state.ethnic_minority,
        year,
        int(Status.POOR),
        NO_STATUS,
        tallies,
    )
    state.income_since_review_vnd[:] = 0.0
    escaped, relapsed, newly_poor = tallies[0, :3].tolist()

    record: dict[str, float | int | str] = {
        "year": year,
        "standard": standard.decree,
        "households": state.count,
        "escaped": escaped,
        "relapsed": relapsed,
        "newly_poor": newly_poor,
        "mean_measured_income_vnd_per_person_month": float(measured_income.mean()),
        "mean_deprivation_count": float(counts.mean()),
    }
    for group, by_status in zip(RATE_GROUPS, tallies[1:].tolist(), strict=True):
        record.update(status_rates(by_status, "" if group == "all" else f"{group}_"))
    scored = count_true_in_columns(deprived).tolist()
    in_force = {name: count / state.count for name, count in zip(standard.indicators, scored, strict=True)}
    for name in INDICATORS:
        record[f"deprived_{name}"] = float(in_force.get(name, np.nan))
    return record


def status_rates(households_by_status: list[int], prefix: str) -> dict[str, float | int]:
    """Households and poor, near-poor, combined and average-living rates, from counts by status code."""
    count = sum(households_by_status)
    poor, near = households_by_status[Status.POOR], households_by_status[Status.NEAR_POOR]
    average = households_by_status[Status.AVERAGE]
    return {
        f"{prefix}household_count": count,
        f"{prefix}poor_rate": poor / count if count else float("nan"),
        f"{prefix}near_poor_rate": near / count if count else float("nan"),
        f"{prefix}poor_or_near_poor_rate": (poor + near) / count if count else float("nan"),
        f"{prefix}average_rate": average / count if count else float("nan"),
    }


def counterfactual_standards(scenario: Scenario) -> dict[str, PovertyStandard]:
    """The yardsticks every review also applies, by column suffix.

    `decree_07` and `decree_351` are the two standards with the scenario's parameters;
    `decree_351_lines` is Decree 351's income lines with Decree 07's indicators, which
    separates the effect of the new lines from that of the new indicators.
    """
    old, new = decree_07(scenario), decree_351(scenario)
    lines_only = dataclasses.replace(
        old,
        decree="Decree 351/2025/ND-CP lines with Decree 07/2021/ND-CP indicators",
        rural_line_vnd_per_person_month=new.rural_line_vnd_per_person_month,
        urban_line_vnd_per_person_month=new.urban_line_vnd_per_person_month,
    )
    return {"decree_07": old, "decree_351": new, "decree_351_lines": lines_only}


def standard_counterfactuals(
    state: HouseholdState,
    scenario: Scenario,
    standard: PovertyStandard,
    measured_income: np.ndarray,
    deprived: np.ndarray,
    counts: np.ndarray,
) -> dict[str, float]:
    """The rates this review would show under each yardstick, for the same households.

    Each yardstick of `counterfactual_standards` classifies the households with the review's
    measured incomes. Indicators the standard in force scored keep their scores (errors
    included); indicators it does not score are read from the households' state, without
    scoring error. So the rates under the standard in force equal the review's own, and the
    difference between yardsticks at one review is the change of standard alone. Nothing is
    drawn from any random stream and no state changes.

    Args:
        state: the households, as reviewed (their statuses are this review's).
        scenario: the scenario (lines and thresholds of both standards).
        standard: the standard in force at this review.
        measured_income: the review's measured income per person per month.
        deprived: the review's scored deprivations under `standard` (households x indicators).
        counts: each household's number of those deprivations (int16, not modified).

    Returns:
        `<rate>_under_<yardstick>` for the poor, near-poor and combined rates.
    """
    scored = dict(zip(standard.indicators, deprived.T, strict=True))
    record: dict[str, float] = {}
    for suffix, other in counterfactual_standards(scenario).items():
        if other == standard:
            status = state.status  # the review's own classification (`record_review` wrote it)
        else:
            # The review's own count, less the indicators the other standard drops, plus those it adds.
            count = counts.copy()
            for name in standard.indicators:
                if name not in other.indicators:
                    count -= scored[name]
            for name in other.indicators:
                if name not in scored:
                    count += indicator_deprived(name, state, other)
            status = other.classify(measured_income, count, state.urban)
        by_status = np.bincount(status, minlength=len(Status))
        poor, near_poor = int(by_status[Status.POOR]), int(by_status[Status.NEAR_POOR])
        households = (poor, near_poor, poor + near_poor)  # shares as `status_rates` computes them
        record.update(
            {
                f"{rate}_under_{suffix}": float(n / state.count)
                for rate, n in zip(COUNTERFACTUAL_RATES, households, strict=True)
            }
        )
    return record
