"""The comparison's tables, computed from stored results only (no model code).

Every figure and every number of the report is drawn from these tables, which
`povsim compare` writes to `tables/` before drawing anything. Replicate-level values are
summarised as mean, standard deviation and the 5th and 95th percentiles over replicates
(the 90 % band). Differences from the baseline are taken replicate by replicate: replicate r
of every scenario run with the same master seed draws the same random streams (common
random numbers), so the paired difference removes the noise the scenarios share; the
unpaired interval over the same replicates is given beside it to show what pairing saves.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from povsim.comparison.loading import ScenarioResult

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20211231
FIRST_PROGRAM_YEAR = 2022
RATES = ("poor_rate", "near_poor_rate", "poor_or_near_poor_rate")
COUNTS = ("escaped", "relapsed", "newly_poor")
MEASURE_RATES = {"poor": "poor_rate", "poor_or_near_poor": "poor_or_near_poor_rate"}
YARDSTICKS = ("decree_07", "decree_351_lines", "decree_351")
DIFFERENCE_OUTCOMES = (
    "poor_rate",
    "near_poor_rate",
    "poor_or_near_poor_rate",
    "ethnic_minority_poor_or_near_poor_rate",
    "kinh_poor_or_near_poor_rate",
    "relapses_per_1000_escaped",
    "relapsed",
    "escaped",
    "newly_poor",
    "escaped_stock",
)
ALL_INSTRUMENTS = "all instruments"
SUMMARY_COLUMNS = ["scenario", "year", "outcome", "standard", "replicates", "mean", "sd", "p05", "p95"]


def replicate_outcomes(result: ScenarioResult) -> pd.DataFrame:
    """One row per replicate and review: the stored rates and counts and what follows from them.

    Derived columns: the rates of households that are not ethnic minorities (`kinh_*`,
    from the overall and ethnic-minority rates and counts); the ethnic gap in the combined
    rate; the stock of escaped households (poor at some review, not poor at this one: every
    escape adds one, every relapse removes one, so it is the running sum of escapes minus
    relapses); and relapses per 1,000 households in that stock at the previous review.
    """
    frame = result.reviews.sort_values(["replicate", "year"], kind="stable").reset_index(drop=True)
    out = pd.DataFrame({"replicate": frame["replicate"].astype(int), "year": frame["year"].astype(int)})
    for rate in (*RATES, "average_rate"):
        if rate in frame:
            out[rate] = frame[rate].astype(float)
    if "ethnic_minority_household_count" in frame:
        total = frame["household_count"].astype(float)
        minority = frame["ethnic_minority_household_count"].astype(float)
        others = (total - minority).where(total > minority)
        for rate in RATES:
            out[f"ethnic_minority_{rate}"] = frame[f"ethnic_minority_{rate}"].astype(float)
            out[f"kinh_{rate}"] = (frame[rate] * total - frame[f"ethnic_minority_{rate}"] * minority) / others
        out["ethnic_gap_poor_or_near_poor_rate"] = (
            out["ethnic_minority_poor_or_near_poor_rate"] - out["kinh_poor_or_near_poor_rate"]
        )
    for count in COUNTS:
        out[count] = frame[count].astype(float)
    stock = (out["escaped"] - out["relapsed"]).groupby(out["replicate"]).cumsum()
    previous = stock.groupby(out["replicate"]).shift(1)
    out["escaped_stock"] = stock
    out["relapses_per_1000_escaped"] = (1000.0 * out["relapsed"] / previous).where(previous > 0)
    for column in frame.columns:
        if "_under_" in column or column.startswith("deprived_"):
            out[column] = frame[column].astype(float)
    return out


def long_outcomes(wide: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every replicate's every outcome, one row each: scenario, replicate, year, outcome, value."""
    frames = []
    for label, frame in wide.items():
        long = frame.melt(id_vars=["replicate", "year"], var_name="outcome", value_name="value")
        long.insert(0, "scenario", label)
        frames.append(long)
    return pd.concat(frames, ignore_index=True)


def band(values: np.ndarray) -> dict[str, float]:
    """Mean, sd and the 5th and 95th percentiles of the values that are defined."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return {"replicates": 0, "mean": math.nan, "sd": math.nan, "p05": math.nan, "p95": math.nan}
    return {
        "replicates": len(values),
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
        "p05": float(np.percentile(values, 5)),
        "p95": float(np.percentile(values, 95)),
    }


def summarise(long: pd.DataFrame, standards: dict[tuple[str, int], str]) -> pd.DataFrame:
    """Per scenario, year and outcome: replicates, mean, sd, p05, p95 (in replicate order)."""
    rows = []
    for (label, year, outcome), group in long.groupby(["scenario", "year", "outcome"], sort=False):
        ordered = group.sort_values("replicate", kind="stable")["value"].to_numpy(dtype=float)
        rows.append(
            {
                "scenario": label,
                "year": int(year),
                "outcome": outcome,
                "standard": standards.get((label, int(year)), ""),
                **band(ordered),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def standards_by_year(result: ScenarioResult) -> dict[int, str]:
    """The standard each review year was classified under (from the lowest replicate)."""
    first = result.reviews[result.reviews["replicate"] == result.reviews["replicate"].min()]
    return {int(y): str(s) for y, s in zip(first["year"], first["standard"], strict=True)}


def paired_difference(scenario: pd.Series, baseline: pd.Series) -> dict[str, float]:
    """Paired and unpaired differences of two replicate series indexed by replicate.

    Returns the pairs used, the mean difference, its paired standard error and t interval,
    and the unpaired (Welch) standard error and interval over the same replicates.
    """
    joined = pd.concat([scenario.rename("s"), baseline.rename("b")], axis=1, join="inner").dropna()
    n = len(joined)
    s, b = joined["s"].to_numpy(dtype=float), joined["b"].to_numpy(dtype=float)
    row: dict[str, float] = {
        "pairs": n,
        "scenario_mean": float(s.mean()) if n else math.nan,
        "baseline_mean": float(b.mean()) if n else math.nan,
        "mean": float((s - b).mean()) if n else math.nan,
    }
    nan_keys = ("se_paired", "ci_low", "ci_high", "se_unpaired", "ci_low_unpaired", "ci_high_unpaired")
    row.update(dict.fromkeys(nan_keys, math.nan))
    row["width_ratio"] = math.nan
    if n < 2:
        return row
    q = 0.5 + CONFIDENCE / 2
    d = s - b
    se = float(d.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(q, n - 1)) * se
    vs, vb = float(s.var(ddof=1)) / n, float(b.var(ddof=1)) / n
    se_u = math.sqrt(vs + vb)
    df = (vs + vb) ** 2 / (vs**2 / (n - 1) + vb**2 / (n - 1)) if vs + vb > 0 else n - 1
    half_u = float(stats.t.ppf(q, df)) * se_u
    row.update(
        se_paired=se,
        ci_low=row["mean"] - half,
        ci_high=row["mean"] + half,
        se_unpaired=se_u,
        ci_low_unpaired=row["mean"] - half_u,
        ci_high_unpaired=row["mean"] + half_u,
        width_ratio=se_u / se if se > 0 else math.nan,
    )
    return row


def differences(wide: dict[str, pd.DataFrame], baseline: str, years: list[int]) -> pd.DataFrame:
    """Each scenario's paired difference from the baseline, per common review year and outcome."""
    base = wide[baseline].set_index(["year", "replicate"])
    rows = []
    for label, frame in wide.items():
        if label == baseline:
            continue
        indexed = frame.set_index(["year", "replicate"])
        for outcome in DIFFERENCE_OUTCOMES:
            if outcome not in indexed or outcome not in base:
                continue
            for year in years:
                row = paired_difference(indexed.loc[year, outcome], base.loc[year, outcome])
                rows.append(
                    {"scenario": label, "baseline": baseline, "year": year, "outcome": outcome, **row}
                )
    columns = [
        "scenario",
        "baseline",
        "year",
        "outcome",
        "pairs",
        "scenario_mean",
        "baseline_mean",
        "mean",
        "se_paired",
        "ci_low",
        "ci_high",
        "se_unpaired",
        "ci_low_unpaired",
        "ci_high_unpaired",
        "width_ratio",
    ]
    return pd.DataFrame(rows, columns=columns)


def spending(results: list[ScenarioResult], last_year: int) -> pd.DataFrame:
    """Per scenario and instrument: VND paid from 2022 to `last_year`, mean and band over replicates."""
    rows = []
    for result in results:
        ledger = _ledger_totals(result, last_year)
        if ledger is None:
            continue
        for instrument in [ALL_INSTRUMENTS, *sorted(c for c in ledger.columns if c != ALL_INSTRUMENTS)]:
            rows.append(
                {
                    "scenario": result.label,
                    "instrument": instrument,
                    "first_year": FIRST_PROGRAM_YEAR,
                    "last_year": last_year,
                    **{f"vnd_{k}": v for k, v in band(ledger[instrument].to_numpy()).items()},
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["scenario", "instrument", "first_year", "last_year", "vnd_mean"])
    return frame.rename(columns={"vnd_replicates": "replicates"})


def _ledger_totals(result: ScenarioResult, last_year: int) -> pd.DataFrame | None:
    """VND paid per replicate (rows) and instrument (columns) from 2022 to `last_year`, with their sum."""
    if result.ledger is None or result.ledger.empty:
        return None
    ledger = result.ledger
    ledger = ledger[(ledger["year"] >= FIRST_PROGRAM_YEAR) & (ledger["year"] <= last_year)]
    totals = ledger.pivot_table(
        index="replicate", columns="instrument", values="vnd", aggfunc="sum", fill_value=0.0
    ).sort_index()
    totals = totals.reindex(result.replicates, fill_value=0.0)
    totals[ALL_INSTRUMENTS] = totals.sum(axis=1)
    return totals


def costs(
    results: list[ScenarioResult], wide: dict[str, pd.DataFrame], baseline: str, last_year: int
) -> pd.DataFrame:
    """Extra spending per household kept out of poverty at the last review, against the baseline.

    For each scenario, measure and instrument (and all instruments together), replicate by
    replicate: extra VND paid 2022 to `last_year` (scenario minus baseline) and households
    kept out of poverty at the `last_year` review ((baseline rate - scenario rate) x
    households), also summed over the reviews 2022 to `last_year` (household-years). The
    ratio is of the means; its interval (all instruments only) is a paired bootstrap over
    replicates, left empty when the households kept out are not clearly different from zero.
    Each instrument's row splits the same ratio by where the extra VND went, so the
    instruments' ratios add up to the total.
    """
    by_label = {r.label: r for r in results}
    base_result = by_label[baseline]
    base_totals = _ledger_totals(base_result, last_year)
    rows = []
    for result in results:
        if result.label == baseline:
            continue
        totals = _ledger_totals(result, last_year)
        if totals is None or base_totals is None:
            continue
        replicates = sorted(set(totals.index) & set(base_totals.index))
        instruments = sorted(set(totals.columns) | set(base_totals.columns))
        extra = totals.reindex(index=replicates, columns=instruments, fill_value=0.0) - base_totals.reindex(
            index=replicates, columns=instruments, fill_value=0.0
        )
        for measure, rate in MEASURE_RATES.items():
            kept = _kept_out(wide[result.label], wide[baseline], rate, last_year, result.household_count)
            kept = kept.reindex(replicates)
            years = _kept_out_years(
                wide[result.label], wide[baseline], rate, last_year, result.household_count
            )
            years = years.reindex(replicates)
            rows.extend(_cost_rows(result.label, baseline, measure, last_year, extra, kept, years))
    columns = [
        "scenario",
        "baseline",
        "measure",
        "first_year",
        "year",
        "instrument",
        "pairs",
        "extra_vnd_mean",
        "extra_vnd_ci_low",
        "extra_vnd_ci_high",
        "kept_out_mean",
        "kept_out_ci_low",
        "kept_out_ci_high",
        "household_years_kept_out_mean",
        "vnd_per_household_kept_out",
        "vnd_per_household_kept_out_ci_low",
        "vnd_per_household_kept_out_ci_high",
        "vnd_per_household_year_kept_out",
        "reading",
    ]
    return pd.DataFrame(rows, columns=columns)


def _kept_out(scenario: pd.DataFrame, base: pd.DataFrame, rate: str, year: int, households: int) -> pd.Series:
    s = scenario[scenario["year"] == year].set_index("replicate")[rate]
    b = base[base["year"] == year].set_index("replicate")[rate]
    return (b - s) * households


def _kept_out_years(
    scenario: pd.DataFrame, base: pd.DataFrame, rate: str, last_year: int, households: int
) -> pd.Series:
    def within(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["year"] >= FIRST_PROGRAM_YEAR) & (frame["year"] <= last_year)]

    s = within(scenario).groupby("replicate")[rate].sum()
    b = within(base).groupby("replicate")[rate].sum()
    return (b - s) * households


def _cost_rows(
    label: str,
    baseline: str,
    measure: str,
    year: int,
    extra: pd.DataFrame,
    kept: pd.Series,
    household_years: pd.Series,
) -> list[dict[str, Any]]:
    kept_values = kept.to_numpy(dtype=float)
    kept_test = paired_difference(pd.Series(kept_values), pd.Series(np.zeros(len(kept_values))))
    kept_mean = kept_test["mean"]
    clear = (
        not math.isnan(kept_test["ci_low"])
        and (kept_test["ci_low"] > 0 or kept_test["ci_high"] < 0)
        and kept_mean != 0
    )
    rows = []
    for instrument in [ALL_INSTRUMENTS, *(c for c in extra.columns if c != ALL_INSTRUMENTS)]:
        values = extra[instrument].to_numpy(dtype=float)
        extra_test = paired_difference(pd.Series(values), pd.Series(np.zeros(len(values))))
        ratio = extra_test["mean"] / kept_mean if kept_mean else math.nan
        low = high = math.nan
        if instrument == ALL_INSTRUMENTS and clear:
            low, high = _bootstrap_ratio(values, kept_values)
        rows.append(
            {
                "scenario": label,
                "baseline": baseline,
                "measure": measure,
                "first_year": FIRST_PROGRAM_YEAR,
                "year": year,
                "instrument": instrument,
                "pairs": len(values),
                "extra_vnd_mean": extra_test["mean"],
                "extra_vnd_ci_low": extra_test["ci_low"],
                "extra_vnd_ci_high": extra_test["ci_high"],
                "kept_out_mean": kept_mean,
                "kept_out_ci_low": kept_test["ci_low"],
                "kept_out_ci_high": kept_test["ci_high"],
                "household_years_kept_out_mean": float(household_years.mean()),
                "vnd_per_household_kept_out": ratio,
                "vnd_per_household_kept_out_ci_low": low,
                "vnd_per_household_kept_out_ci_high": high,
                "vnd_per_household_year_kept_out": extra_test["mean"] / float(household_years.mean())
                if household_years.mean()
                else math.nan,
                "reading": cost_reading(extra_test["mean"], kept_mean)
                if instrument == ALL_INSTRUMENTS
                else "",
            }
        )
    return rows


def cost_reading(extra_vnd: float, kept_out: float) -> str:
    """How to read a cost ratio, by the signs of extra spending and households kept out."""
    if not kept_out or math.isnan(kept_out):
        return "no households kept out or lost"
    if kept_out > 0:
        return "costs more, keeps households out" if extra_vnd > 0 else "costs less, keeps households out"
    return "costs less, more households poor" if extra_vnd < 0 else "costs more, more households poor"


def _bootstrap_ratio(extra: np.ndarray, kept: np.ndarray) -> tuple[float, float]:
    """Percentile interval of mean(extra) / mean(kept) over replicates resampled in pairs."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    index = rng.integers(0, len(kept), size=(BOOTSTRAP_RESAMPLES, len(kept)))
    denominators = kept[index].mean(axis=1)
    ratios = extra[index].mean(axis=1) / np.where(denominators == 0, np.nan, denominators)
    ratios = ratios[~np.isnan(ratios)]
    if not len(ratios):
        return math.nan, math.nan
    tail = 100 * (1 - CONFIDENCE) / 2
    return float(np.percentile(ratios, tail)), float(np.percentile(ratios, 100 - tail))


def switch_year(result: ScenarioResult) -> int | None:
    """The first review classified under a standard other than the first review's, if any."""
    by_year = standards_by_year(result)
    years = sorted(by_year)
    return next((y for y in years if by_year[y] != by_year[years[0]]), None)


def standard_change(results: list[ScenarioResult], wide: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """How much of the jump at the change of standard is the yardstick and how much real change.

    At the first review under the new standard, the same households (same measured incomes,
    same scored indicators) are classified under Decree 07, under Decree 351's lines with
    Decree 07's indicators, and under Decree 351. Per replicate:

    - real change = rate under Decree 07 at the switch review - rate at the review before;
    - new lines = rate under Decree 351 lines - rate under Decree 07, same review;
    - new indicators = rate under Decree 351 - rate under Decree 351 lines, same review;
    - total jump = rate at the switch review - rate at the review before = the sum of the three.
    """
    rows = []
    for result in results:
        frame = wide[result.label]
        year = switch_year(result)
        needed = [f"{rate}_under_{y}" for rate in RATES for y in YARDSTICKS]
        if year is None or any(c not in frame for c in needed) or year - 1 not in set(frame["year"]):
            continue
        at = frame[frame["year"] == year].set_index("replicate")
        before = frame[frame["year"] == year - 1].set_index("replicate")
        for rate in RATES:
            parts = {
                "before": before[rate],
                "under_decree_07": at[f"{rate}_under_decree_07"],
                "under_decree_351_lines": at[f"{rate}_under_decree_351_lines"],
                "after": at[rate],
            }
            parts["real_change"] = parts["under_decree_07"] - parts["before"]
            parts["new_lines"] = parts["under_decree_351_lines"] - parts["under_decree_07"]
            parts["new_indicators"] = parts["after"] - parts["under_decree_351_lines"]
            parts["total_jump"] = parts["after"] - parts["before"]
            for component, values in parts.items():
                rows.append(
                    {
                        "scenario": result.label,
                        "switch_year": year,
                        "rate": rate,
                        "component": component,
                        **band(values.sort_index().to_numpy()),
                    }
                )
    columns = ["scenario", "switch_year", "rate", "component", "replicates", "mean", "sd", "p05", "p95"]
    return pd.DataFrame(rows, columns=columns)


def observed(results: list[ScenarioResult]) -> pd.DataFrame:
    """The observed rates each scenario states (its `targets`): review year, measure, rate."""
    rows = []
    for result in results:
        targets = result.scenario.get("targets", {})
        for year, key in ((2021, "initial_rate_share"), (2024, "observed_2024_rate_share")):
            if key in targets:
                rows.append(
                    {
                        "scenario": result.label,
                        "year": year,
                        "measure": result.measure,
                        "rate": float(targets[key]),
                        "source": f"seed interview, Tuyen Quang newspaper 2025 (scenario targets.{key})",
                    }
                )
    return pd.DataFrame(rows, columns=["scenario", "year", "measure", "rate", "source"])


def scenario_changes(results: list[ScenarioResult], baseline: str) -> pd.DataFrame:
    """Every scenario value that differs from the baseline's, as JSON text."""
    base = dict(_flatten(next(r for r in results if r.label == baseline).scenario))
    rows = []
    for result in results:
        values = dict(_flatten(result.scenario))
        for key in sorted(set(values) | set(base)):
            if key in ("name", "description") or values.get(key) == base.get(key):
                continue
            rows.append(
                {
                    "scenario": result.label,
                    "key": key,
                    "baseline_value": json.dumps(base.get(key)),
                    "value": json.dumps(values.get(key)),
                }
            )
    return pd.DataFrame(rows, columns=["scenario", "key", "baseline_value", "value"])


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        items = []
        for key, value in data.items():
            items.extend(_flatten(value, f"{prefix}{key}."))
        return items
    return [(prefix.rstrip("."), data)]
