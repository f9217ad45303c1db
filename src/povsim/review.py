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

import numpy as np

from povsim.households import NO_STATUS, HouseholdState
from povsim.standards import INDICATORS, PovertyStandard, Status

RATE_GROUPS = ("all", "ethnic_minority")


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
    error = np.exp(income_error_log_sd * rng.standard_normal(n))
    deprived = standard.deprivations(state)
    if misclassification_prob > 0:
        # Only indicators that can apply are misscored (no nutrition score without a child).
        deprived ^= (rng.random(deprived.shape) < misclassification_prob) & standard.applicability(state)
    return mean_income * error, deprived


def record_review(
    state: HouseholdState,
    standard: PovertyStandard,
    year: int,
    measured_income: np.ndarray,
    deprived: np.ndarray,
) -> dict[str, float | int | str]:
    """Classify every household, update its history, and return the review's figures."""
    status = standard.classify(measured_income, deprived.sum(axis=1), state.urban)
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
    state.income_since_review_vnd[:] = 0.0

    record: dict[str, float | int | str] = {
        "year": year,
        "standard": standard.decree,
        "households": state.count,
        "escaped": int(escaped.sum()),
        "relapsed": int(relapsed.sum()),
        "newly_poor": int(newly_poor.sum()),
        "mean_measured_income_vnd_per_person_month": float(measured_income.mean()),
        "mean_deprivation_count": float(deprived.sum(axis=1).mean()),
    }
    for group in RATE_GROUPS:
        members = np.ones(state.count, bool) if group == "all" else state.ethnic_minority
        record.update(status_rates(status[members], "" if group == "all" else f"{group}_"))
    in_force = dict(zip(standard.indicators, deprived.mean(axis=0), strict=True))
    for name in INDICATORS:
        record[f"deprived_{name}"] = float(in_force.get(name, np.nan))
    return record


def status_rates(status: np.ndarray, prefix: str) -> dict[str, float | int]:
    """Households and poor, near-poor, combined and average-living rates among `status`."""
    count = len(status)
    share = (lambda mask: float(mask.mean())) if count else (lambda mask: float("nan"))
    poor = status == Status.POOR
    near = status == Status.NEAR_POOR
    return {
        f"{prefix}household_count": count,
        f"{prefix}poor_rate": share(poor),
        f"{prefix}near_poor_rate": share(near),
        f"{prefix}poor_or_near_poor_rate": share(poor | near),
        f"{prefix}average_rate": share(status == Status.AVERAGE),
    }
