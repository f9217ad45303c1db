"""Relapse analyses that need every household's history (households.parquet).

Read row group by row group with only the columns needed; every quantity is a count that
adds up over households, kept per replicate and turned into rates at the end, so memory
does not grow with the size of the panel. Status codes are those of `povsim.standards.Status`
(0 poor, 1 near-poor, 2 average, 3 above average).

- The relapse hazard by years since escape (Kaplan-Meier): every escape (poor at one
  review, not poor at the next) starts an episode; the episode ends in a relapse at the
  first later review at which the household is poor again, or is censored at the last
  review. The hazard at k years is relapses k reviews after escape over episodes still at
  risk then; the cumulative relapse probability is 1 - prod(1 - hazard). A second variant
  censors every episode at the change of standard, so that it counts only relapses measured
  with the yardstick the household escaped under.
- Who relapses: among households that escaped at least once, the share that relapsed at
  least once, by shock suffered, ethnicity, remoteness and support received (any time in
  the run; descriptive, not causal: support goes to poorer households).
- Communes: the rate of the targeted measure in each commune at each review.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from povsim.comparison.loading import PANEL_COLUMNS, PANEL_SUPPORT_PREFIX, ScenarioResult
from povsim.comparison.tables import band

POOR, NEAR_POOR = 0, 1
SHOCKS = {
    "illness": "illness_count",
    "loss of a worker": "worker_loss_count",
    "job loss": "job_loss_count",
    "herd disease": "herd_disease_count",
    "natural disaster": "disaster_hit_count",
}
SUPPORT_GROUPS = {
    "loans (production, student, water)": ("preferential_loans", "student_loans", "water_sanitation_loans"),
    "education (tuition, study costs)": ("tuition_exemption", "study_cost_support"),
    "health insurance card": ("health_insurance",),
    "housing": ("housing_support",),
    "electricity or rice": ("electricity_support", "food_aid"),
    "livelihoods and jobs": (
        "vocational_training",
        "job_placement",
        "labour_export",
        "livestock_support",
        "value_chain_support",
    ),
}
DIMENSIONS = ("all", "shock suffered", "ethnicity", "remoteness", "support received")


VARIANTS = ("all escapes", "same standard")


@dataclass
class Counters:
    """Counts of one replicate, added up over the panel's row groups.

    Attributes:
        at_risk: per variant, escape episodes at risk k reviews after escape (index k).
        relapses: per variant, relapses k reviews after escape.
        groups: (dimension, group) -> [escaped households, of which relapsed].
        communes: commune -> (households, households in the measure) by review.
    """

    at_risk: dict[str, np.ndarray]
    relapses: dict[str, np.ndarray]
    groups: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    communes: dict[str, np.ndarray] = field(default_factory=dict)


def panel_tables(
    result: ScenarioResult, measure: str, switch_year: int | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The relapse hazard, who relapses, and commune rates of one scenario's panel.

    Args:
        result: a scenario whose run wrote households.parquet.
        measure: the targeted measure (`poor_or_near_poor` or `poor`) for the commune rates.
        switch_year: the scenario's first review under a new standard, if any.

    Returns:
        (hazard, who_relapses, communes) tables, one row per scenario and key.
    """
    if result.panel is None:
        raise ValueError(f"scenario {result.label!r} has no household panel")
    years = result.years
    file = pq.ParquetFile(result.panel)
    names = file.schema_arrow.names
    support = [n for n in names if n.startswith(PANEL_SUPPORT_PREFIX)]
    statuses = [f"status_{y}" for y in years]
    columns = [*PANEL_COLUMNS, *support, *statuses]
    switch = years.index(switch_year) if switch_year in years else None
    counters: dict[int, Counters] = {}
    for i in range(file.num_row_groups):
        table = file.read_row_group(i, columns=columns)
        arrays = {name: table.column(name).to_numpy(zero_copy_only=False) for name in columns}
        replicate = arrays["replicate"]
        for rep in np.unique(replicate):
            rows = replicate == rep
            part = {name: values[rows] for name, values in arrays.items()}
            counter = counters.setdefault(
                int(rep),
                Counters(
                    {v: np.zeros(len(years), np.int64) for v in VARIANTS},
                    {v: np.zeros(len(years), np.int64) for v in VARIANTS},
                ),
            )
            status = np.column_stack([part[s] for s in statuses])
            count_episodes(status, counter, switch)
            count_groups(part, support, counter)
            count_communes(part["commune"], status, measure, counter)
    label = result.label
    return (
        hazard_table(label, counters),
        who_table(label, counters),
        commune_table(label, counters, years),
    )


def count_episodes(status: np.ndarray, counter: Counters, switch: int | None) -> None:
    """Add the escape episodes of some households: at risk and relapses by years since escape.

    Args:
        status: households x reviews status codes.
        counter: the replicate's counts.
        switch: the column of the first review under a new standard, if any: the "same
            standard" variant censors an episode that began before it at that review.
    """
    review_count = status.shape[1]
    poor = status == POOR
    for e in range(1, review_count):
        alive = poor[:, e - 1] & ~poor[:, e]
        censor_at = switch if switch is not None and e < switch else review_count
        for k in range(1, review_count - e):
            if not alive.any():
                break
            relapsed = alive & poor[:, e + k]
            variants = VARIANTS if e + k < censor_at else VARIANTS[:1]
            for variant in variants:
                counter.at_risk[variant][k] += int(alive.sum())
                counter.relapses[variant][k] += int(relapsed.sum())
            alive &= ~relapsed


def count_groups(part: dict[str, np.ndarray], support: list[str], counter: Counters) -> None:
    """Add escaped and relapsed households by group."""
    escaped = part["escape_year"] >= 0
    relapsed = part["relapse_count"] > 0
    members: dict[tuple[str, str], np.ndarray] = {
        ("all", "all escaped households"): np.ones(len(escaped), bool)
    }
    any_shock = np.zeros(len(escaped), bool)
    for name, column in SHOCKS.items():
        hit = part[column] > 0
        any_shock |= hit
        members[("shock suffered", name)] = hit
    members[("shock suffered", "none of these")] = ~any_shock
    minority = part["ethnic_minority"].astype(bool)
    members[("ethnicity", "ethnic minority")] = minority
    members[("ethnicity", "Kinh")] = ~minority
    remote = part["remote"].astype(bool)
    members[("remoteness", "remote commune")] = remote
    members[("remoteness", "other communes")] = ~remote
    received_any = np.zeros(len(escaped), bool)
    for name, instruments in SUPPORT_GROUPS.items():
        present = [
            f"{PANEL_SUPPORT_PREFIX}{i}" for i in instruments if f"{PANEL_SUPPORT_PREFIX}{i}" in support
        ]
        if not present:
            continue
        received = np.zeros(len(escaped), bool)
        for column in present:
            received |= part[column] > 0
        received_any |= received
        members[("support received", name)] = received
    received_all = np.zeros(len(escaped), bool)
    for column in support:
        received_all |= part[column] > 0
    members[("support received", "no support")] = ~received_all
    for key, mask in members.items():
        counts = counter.groups[key]
        counts[0] += int((escaped & mask).sum())
        counts[1] += int((relapsed & escaped & mask).sum())


def count_communes(commune: np.ndarray, status: np.ndarray, measure: str, counter: Counters) -> None:
    """Add households and households in the targeted measure, by commune and review."""
    inside = status == POOR if measure == "poor" else status <= NEAR_POOR
    names, index = np.unique(commune.astype(str), return_inverse=True)
    for j, name in enumerate(names):
        rows = index == j
        counts = counter.communes.setdefault(name, np.zeros((2, status.shape[1]), np.int64))
        counts[0] += int(rows.sum())
        counts[1] += inside[rows].sum(axis=0)


def share_or_nan(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """The share `part / whole` per replicate; NaN where the whole is zero (nothing to share)."""
    return np.where(whole > 0, part / np.maximum(whole, 1), np.nan)


def hazard_table(label: str, counters: dict[int, Counters]) -> pd.DataFrame:
    """Hazard and cumulative relapse by years since escape, per variant, band over replicates."""
    replicates = sorted(counters)
    rows = []
    for variant in VARIANTS:
        hazards, cumulative = [], []
        for rep in replicates:
            at_risk, relapses = counters[rep].at_risk[variant], counters[rep].relapses[variant]
            h = share_or_nan(relapses, at_risk)
            hazards.append(h)
            cumulative.append(cumulative_relapse(h[1:], at_risk[1:]))
        for k in range(1, len(hazards[0]) if hazards else 0):
            at_risk = np.array([counters[r].at_risk[variant][k] for r in replicates], dtype=float)
            if not at_risk.any():
                continue
            relapses = np.array([counters[r].relapses[variant][k] for r in replicates], dtype=float)
            hazard = band(np.array([h[k] for h in hazards]))
            cum = band(np.array([c[k - 1] for c in cumulative]))
            row = {"scenario": label, "variant": variant, "years_since_escape": k}
            row["at_risk_mean"] = float(at_risk.mean())
            row["relapses_mean"] = float(relapses.mean())
            row.update({f"hazard_{key}": value for key, value in hazard.items()})
            row.update({f"cumulative_{key}": value for key, value in cum.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def cumulative_relapse(hazard: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """Kaplan-Meier cumulative relapse by years since escape, for one replicate.

    A year with nobody left at risk adds no relapse (the curve stays flat, as Kaplan-Meier
    does after the last follow-up), so every replicate's curve is non-decreasing and so is
    their mean; before anybody has been at risk the curve is undefined (NaN).
    """
    cumulative = 1.0 - np.cumprod(1.0 - np.nan_to_num(hazard, nan=0.0))
    return np.where(np.cumsum(at_risk) > 0, cumulative, np.nan)


def who_table(label: str, counters: dict[int, Counters]) -> pd.DataFrame:
    """Share of escaped households that relapsed, by group, band over replicates."""
    replicates = sorted(counters)
    keys = list(dict.fromkeys(k for r in replicates for k in counters[r].groups))
    keys.sort(key=lambda k: DIMENSIONS.index(k[0]))
    rows = []
    for dimension, group in keys:
        escaped = np.array([counters[r].groups[(dimension, group)][0] for r in replicates], dtype=float)
        relapsed = np.array([counters[r].groups[(dimension, group)][1] for r in replicates], dtype=float)
        share = share_or_nan(relapsed, escaped)
        rows.append(
            {
                "scenario": label,
                "dimension": dimension,
                "group": group,
                "escaped_mean": float(escaped.mean()),
                "relapsed_mean": float(relapsed.mean()),
                **{f"share_{key}": value for key, value in band(share).items()},
            }
        )
    return pd.DataFrame(rows)


def commune_table(label: str, counters: dict[int, Counters], years: list[int]) -> pd.DataFrame:
    """The targeted measure's rate by commune and review, band over replicates."""
    replicates = sorted(counters)
    communes = sorted({name for r in replicates for name in counters[r].communes})
    rows = []
    for name in communes:
        counts = [counters[r].communes.get(name, np.zeros((2, len(years)), np.int64)) for r in replicates]
        for j, year in enumerate(years):
            households = np.array([c[0, j] for c in counts], dtype=float)
            inside = np.array([c[1, j] for c in counts], dtype=float)
            rate = share_or_nan(inside, households)
            rows.append(
                {
                    "scenario": label,
                    "commune": name,
                    "year": year,
                    "households_mean": float(households.mean()),
                    **{f"rate_{key}": value for key, value in band(rate).items()},
                }
            )
    return pd.DataFrame(rows)
