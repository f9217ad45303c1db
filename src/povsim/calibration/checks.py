"""Predictive runs behind the fit report, and the untargeted checks computed from each.

A predictive run draws a parameter set (from the posterior, or from the prior for
comparison), runs the district to the last calibration review with the household panel, and
returns a handful of numbers: the review rates, the moments, and statistics of household
trajectories the fit never saw (relapse, the ethnic-minority ratio, transient poverty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from povsim.experiments.outcomes import Outcome, RunRecord, extract
from povsim.runner import run_one
from povsim.scenario import Scenario
from povsim.scenario.loading import with_overrides
from povsim.standards import Status

RATE_COLUMNS = (
    "poor_rate",
    "near_poor_rate",
    "poor_or_near_poor_rate",
    "ethnic_minority_poor_or_near_poor_rate",
)


@dataclass(frozen=True)
class Check:
    """An untargeted check: a statistic of the predictive runs and the evidence it is held against.

    Attributes:
        name: the statistic's key in a predictive run's result.
        label: what it is, in words.
        evidence_low: lower end of the evidence range (None: no range, reported only).
        evidence_high: upper end.
        evidence: the evidence, with its source.
    """

    name: str
    label: str
    evidence_low: float | None
    evidence_high: float | None
    evidence: str


CHECKS = (
    Check(
        "relapse_rate_per_year",
        "relapse rate a year among households that had escaped poverty (poor list), "
        "end-2023 and end-2024 reviews",
        0.03,
        0.12,
        "national relapse averaged 5.1 % a year in 2016-2018 and about 12 % in 2011-2015 "
        "(baothainguyen; apraca; facts.md s6); the denominator is not stated, so a range",
    ),
    Check(
        "fell_back_within_two_years_share",
        "share of households escaping the poor list at the end-2022 review that are poor again by end-2024",
        0.05,
        0.33,
        "one in three households that escaped poverty fell back (National Assembly report 2015, over about "
        "five years; facts.md s6): two years should see fewer",
    ),
    Check(
        "transient_share",
        "share of households below the line at some review 2021-2024 whose mean measured income is above it",
        0.35,
        0.65,
        "about half of the poor are transiently poor (VHLSS 2010: 11.1 % structurally, 9.6 % "
        "stochastically poor; facts.md s6)",
    ),
    Check(
        "ethnic_minority_ratio_2021",
        "ethnic-minority rate over the overall rate, end-2021 (poor + near-poor)",
        1.5,
        1.7,
        "province: 37.31 % among ethnic minorities against 23.45 % overall at end-2021 = 1.59 (facts.md s2); "
        "matched by the synthesis",
    ),
    Check(
        "ethnic_minority_ratio_2024",
        "ethnic-minority rate over the overall rate, end-2024 (poor + near-poor)",
        None,
        None,
        "no district figure; the ratio is expected to rise as poverty concentrates among ethnic "
        "minorities (national pattern, facts.md s7)",
    ),
)


@dataclass(frozen=True)
class PredictiveTask:
    """One predictive run: the parameter set, the replicate index, the outcomes to read."""

    base: Scenario
    parameters: dict[str, float]
    replicate: int
    outcomes: tuple[Outcome, ...]
    years: tuple[int, ...]


def predictive_run(task: PredictiveTask) -> dict[str, Any]:
    """Run one parameter set with the household panel; return its rates, moments and check statistics."""
    scenario = with_overrides(task.base, task.parameters)
    result = run_one(scenario, task.replicate, household_panel=True)
    assert result.households is not None
    out: dict[str, Any] = {"replicate": task.replicate}
    by_year = {int(r["year"]): r for r in result.reviews}
    for year in task.years:
        for column in RATE_COLUMNS:
            out[f"{column}_{year}"] = float(by_year[year][column])
    record = RunRecord(scenario, task.replicate, result.reviews, result.ledger, None)
    values, _ = extract(record, task.outcomes, False)
    out.update({f"moment.{name}": value for name, value in values.items()})
    out.update(trajectory_statistics(result.households, task.years, scenario))
    for year in (task.years[0], task.years[-1]):
        overall = out[f"poor_or_near_poor_rate_{year}"]
        minority = out[f"ethnic_minority_poor_or_near_poor_rate_{year}"]
        out[f"ethnic_minority_ratio_{year}"] = minority / overall if overall > 0 else float("nan")
    return out


def trajectory_statistics(
    panel: dict[str, np.ndarray], years: tuple[int, ...], scenario: Scenario
) -> dict[str, float]:
    """Relapse, falling back and transient poverty from the households' statuses and measured incomes."""
    status = np.column_stack([panel[f"status_{y}"] for y in years])
    poor = status == Status.POOR
    at_risk_total = relapsed_total = 0
    for t in range(2, len(years)):
        ever_poor_before = poor[:, : t - 1].any(axis=1)
        at_risk = ever_poor_before & ~poor[:, t - 1]
        at_risk_total += int(at_risk.sum())
        relapsed_total += int((at_risk & poor[:, t]).sum())
    escaped_first = poor[:, 0] & ~poor[:, 1]
    fell_back = escaped_first & poor[:, 2:].any(axis=1)

    income = np.column_stack([panel[f"measured_income_vnd_per_person_month_{y}"] for y in years])
    standards = scenario.standards
    line = np.where(
        panel["urban"],
        standards.decree_07_urban_line_vnd_per_person_month,
        standards.decree_07_rural_line_vnd_per_person_month,
    )
    below = income <= line[:, None]
    ever_below = below.any(axis=1)
    transient = ever_below & (income.mean(axis=1) > line)
    return {
        "relapse_rate_per_year": relapsed_total / at_risk_total if at_risk_total else float("nan"),
        "fell_back_within_two_years_share": (
            float(fell_back.sum() / escaped_first.sum()) if escaped_first.any() else float("nan")
        ),
        "transient_share": float(transient.sum() / ever_below.sum()) if ever_below.any() else float("nan"),
    }
