"""Summaries over replicates: means and 90 % intervals of the review figures."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

import numpy as np

RATE_FIELDS = ("poor_rate", "near_poor_rate", "poor_or_near_poor_rate", "average_rate")
COUNT_FIELDS = ("escaped", "relapsed", "newly_poor")
GROUP_PREFIXES = {"ethnic_minority": "ethnic_minority_"}


def interval(values: np.ndarray) -> dict[str, float | None]:
    """Mean and the 5th and 95th percentiles of a replicate sample.

    A figure undefined in some replicate (a rate over an empty group) is reported as None.
    """
    values = np.asarray(values, dtype=float)
    if np.isnan(values).any():
        return {"mean": None, "p05": None, "p95": None}
    return {
        "mean": float(values.mean()),
        "p05": float(np.percentile(values, 5)),
        "p95": float(np.percentile(values, 95)),
    }


def summarize_reviews(rows: list[dict[str, Any]], measure: str) -> dict[str, dict[str, Any]]:
    """Per review year: each rate and transition count as mean, p05 and p95 over replicates.

    Args:
        rows: one dict per replicate and review (the `reviews` table's rows).
        measure: the targeted measure; its rate is repeated as `measure_rate`.
    """
    by_year: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_year.setdefault(int(row["year"]), []).append(row)
    summary: dict[str, dict[str, Any]] = {}
    for year in sorted(by_year):
        year_rows = by_year[year]
        column = lambda name, rows=year_rows: np.array([r[name] for r in rows], dtype=float)  # noqa: E731
        entry: dict[str, Any] = {"standard": year_rows[0]["standard"]}
        for name in (*RATE_FIELDS, *COUNT_FIELDS):
            entry[name] = interval(column(name))
        entry["measure_rate"] = entry[f"{measure}_rate"]
        for group, prefix in GROUP_PREFIXES.items():
            entry[group] = {name: interval(column(prefix + name)) for name in RATE_FIELDS}
        summary[str(year)] = entry
    return summary


def summarize_ledger(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per instrument and year: units and VND, means over replicates, plus a `total` per instrument.

    Args:
        rows: one dict per replicate, instrument and year (the `ledger` table's rows).
    """
    replicates = max(len({r["replicate"] for r in rows}), 1)
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = out.setdefault(row["instrument"], {"unit": row["unit"]})
        year = entry.setdefault(str(row["year"]), {"units": 0.0, "vnd": 0.0})
        year["units"] += row["units"] / replicates
        year["vnd"] += row["vnd"] / replicates
    for entry in out.values():
        years = [v for k, v in entry.items() if k.isdigit()]
        entry["total"] = {
            "units": sum(v["units"] for v in years),
            "vnd": sum(v["vnd"] for v in years),
        }
    return out


def seed_volumes() -> list[dict[str, Any]]:
    """The program volumes the seed reports, with how each is read (data/seed_volumes.csv)."""
    text = resources.files("povsim.data").joinpath("seed_volumes.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def compare_to_seed(
    ledger_summary: dict[str, dict[str, Any]], district_scale: float = 1.0
) -> list[dict[str, Any]]:
    """Simulated program volumes over each seed figure's years, beside the seed's figure.

    Args:
        ledger_summary: the `ledger` part of summary.json (means over replicates).
        district_scale: simulated households per district household; simulated volumes are
            divided by it so that a smaller simulation is compared at district scale.
    """
    rows = []
    for seed in seed_volumes():
        entry = ledger_summary.get(seed["instrument"], {})
        years = [str(y) for y in range(int(seed["first_year"]), int(seed["last_year"]) + 1)]
        units = sum(entry.get(y, {}).get("units", 0.0) for y in years) / district_scale
        vnd = sum(entry.get(y, {}).get("vnd", 0.0) for y in years) / district_scale
        seed_units = float(seed["seed_units"])
        seed_vnd = float(seed["seed_vnd"]) if seed["seed_vnd"] else None
        rows.append(
            {
                "instrument": seed["instrument"],
                "years": f"{years[0]}-{years[-1]}",
                "unit": seed["unit"],
                "seed_units": seed_units,
                "simulated_units": units,
                "units_gap_share": units / seed_units - 1.0,
                "seed_vnd": seed_vnd,
                "simulated_vnd": vnd,
                "vnd_gap_share": vnd / seed_vnd - 1.0 if seed_vnd else None,
                "reading": seed["reading"],
            }
        )
    return rows
