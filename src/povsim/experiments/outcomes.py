"""Outcomes: what a sweep records from each run, named by a path into the run's results.

Two kinds of path:

- a dotted path into the run's `summary.json` (the same file `povsim run` writes, built by
  `povsim.results.build_summary` over this one run): `reviews.2030.poor_rate`,
  `reviews.2030.ethnic_minority.poor_or_near_poor_rate`, `ledger.preferential_loans.total.vnd`.
  A path that ends at a `{mean, p05, p95}` entry takes its mean (over one replicate, all three
  are the run's value); a `null` (a rate over an empty group) is recorded as missing.
- `review:YEAR:COLUMN` reads a column of the run's row of `reviews.parquet` for that review
  year (`review:2030:deprived_floor_area`); `review:2022-2030:relapsed` sums the column over
  those review years.

What is certain before any run (syntax, review years outside the calendar) is checked when
the experiment is loaded; whether a field exists is checked on the first run, because the
model decides which fields its summaries hold.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from povsim.results import build_summary
from povsim.scenario import InputError, Problem, Scenario

REVIEW_PREFIX = "review:"
INTERVAL_KEYS = ("mean", "p05", "p95")
YEARS = re.compile(r"^(\d{4})(?:-(\d{4}))?$")


class OutcomeMissing(LookupError):
    """An outcome path that a run's results do not hold (or hold as something other than a number)."""


@dataclass(frozen=True)
class Outcome:
    """One recorded outcome.

    Attributes:
        name: the column name (the key in the experiment's [outcomes] table).
        path: the path as written.
        kind: "summary" (a path into summary.json) or "review" (a reviews-table column).
        parts: summary: the dotted path's parts.
        years: the review years the path reads, first and last (None if it reads none).
        column: review: the column's name.
    """

    name: str
    path: str
    kind: str
    parts: tuple[str, ...] = ()
    years: tuple[int, int] | None = None
    column: str = ""

    @property
    def fast_column(self) -> str | None:
        """The reviews-table column equal to this summary path for one run, if there is one.

        `reviews.Y.F` (or `reviews.Y.F.mean` / `.p05` / `.p95`) summarises column F of year
        Y's row; over a single replicate the summary entry is that value. Reading the row
        directly skips building the summary; `RunRecord` checks the shortcut against the real
        summary once per batch.
        """
        p = self.parts
        if self.kind != "summary" or len(p) not in (3, 4) or p[0] != "reviews":
            return None
        if len(p) == 4 and p[3] not in INTERVAL_KEYS:
            return None
        return p[2]


def parse_outcome(name: str, path: str) -> Outcome:
    """Parse an outcome path; raise ValueError with a reason if its syntax is wrong."""
    text = path.strip()
    if text.startswith(REVIEW_PREFIX):
        pieces = text.split(":")
        if len(pieces) != 3 or not pieces[2]:
            raise ValueError(
                "expected review:YEAR:COLUMN or review:FIRST-LAST:COLUMN, e.g. review:2030:relapsed"
            )
        match = YEARS.match(pieces[1])
        if not match:
            raise ValueError(f"{pieces[1]!r} is not a review year or FIRST-LAST range of years")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise ValueError(f"the range of years {pieces[1]} runs backwards")
        return Outcome(name, path, "review", years=(first, last), column=pieces[2])
    parts = tuple(text.split("."))
    if not text or any(not part for part in parts):
        raise ValueError(
            "expected a dotted path into summary.json (e.g. reviews.2030.poor_rate) or review:YEAR:COLUMN"
        )
    years = None
    if parts[0] == "reviews":
        if len(parts) < 3:
            raise ValueError("expected reviews.YEAR.FIELD, e.g. reviews.2030.poor_rate")
        if not YEARS.match(parts[1]) or "-" in parts[1]:
            raise ValueError(f"{parts[1]!r} is not a review year (e.g. reviews.2030.poor_rate)")
        years = (int(parts[1]), int(parts[1]))
    return Outcome(name, path, "summary", parts=parts, years=years)


def check_outcomes(table: dict[str, str], first_year: int, last_year: int, file: str) -> tuple[Outcome, ...]:
    """Parse every outcome and check its review years lie in the simulated calendar.

    Args:
        table: the experiment's [outcomes] table.
        first_year: the first review year (the end-2021 review).
        last_year: the last review year of every design point.
        file: the experiment file, for messages.
    """
    outcomes, problems = [], []
    for name, path in table.items():
        key = f"outcomes.{name}"
        try:
            outcome = parse_outcome(name, path)
        except ValueError as reason:
            problems.append(Problem(file, key, str(reason), path, True))
            continue
        if outcome.years is not None:
            first, last = outcome.years
            if first < first_year or last > last_year:
                problems.append(
                    Problem(
                        file,
                        key,
                        f"asks for review years the runs do not have; expected years from {first_year} "
                        f"to {last_year} (the last December review on or before calendar.end_date)",
                        path,
                        True,
                    )
                )
                continue
        outcomes.append(outcome)
    if problems:
        raise InputError(problems)
    return tuple(outcomes)


# Top-level parts of summary.json that do not depend on the review rows.
ROW_FREE_SUMMARY_KEYS = frozenset({"scenario", "measure", "households", "observed_measure_rate", "ledger"})


def summary_years(outcomes: tuple[Outcome, ...]) -> set[int] | None:
    """Review years whose rows the summary needs for these outcomes; None when it needs all.

    A summary's entry for year Y depends only on year Y's review rows, and its spending
    ledger and scenario facts on none, so the summary is built from the rows of the years
    that `reviews.Y` paths name. Any other path gets every row.
    """
    needed: set[int] = set()
    for outcome in outcomes:
        if outcome.kind != "summary" or outcome.parts[0] in ROW_FREE_SUMMARY_KEYS:
            continue
        if outcome.years is None:
            return None
        needed.add(outcome.years[0])
    return needed


def resolve_summary(summary: dict[str, Any], outcome: Outcome) -> float | None:
    """The number at a summary path; raise OutcomeMissing saying where the path stops."""
    node: Any = summary
    for depth, part in enumerate(outcome.parts):
        if not isinstance(node, dict):
            where = ".".join(outcome.parts[:depth])
            raise OutcomeMissing(
                f"summary.json's {where} is a value ({node!r}), not a table; the path stops there"
            )
        if part not in node:
            where = ".".join(outcome.parts[:depth]) or "the top level"
            keys = ", ".join(map(str, node)) or "none"
            raise OutcomeMissing(f"summary.json has no key {part!r} under {where} (keys there: {keys})")
        node = node[part]
    if isinstance(node, dict) and "mean" in node:
        node = node["mean"]
    return as_number(node, outcome)


def resolve_review(rows: list[dict[str, Any]], outcome: Outcome) -> float | None:
    """A reviews-table column for one year, or its sum over a range of years."""
    assert outcome.years is not None
    first, last = outcome.years
    by_year = {int(row["year"]): row for row in rows}
    total = 0.0
    for year in range(first, last + 1):
        row = by_year.get(year)
        if row is None:
            raise OutcomeMissing(
                f"the run has no end-{year} review (reviews: {', '.join(map(str, sorted(by_year)))})"
            )
        if outcome.column not in row:
            raise OutcomeMissing(
                f"the reviews table has no column {outcome.column!r} (columns: {', '.join(row)})"
            )
        value = as_number(row[outcome.column], outcome)
        if value is None:
            return None
        total += value
    return total


def as_number(value: Any, outcome: Outcome) -> float | None:
    """A recorded value as a float; None for a missing value (None or NaN)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value)
        return None if math.isnan(number) else number
    if hasattr(value, "item"):  # a numpy scalar
        return as_number(value.item(), outcome)
    kind = "a table" if isinstance(value, dict) else f"{type(value).__name__} {value!r}"
    raise OutcomeMissing(f"{outcome.path} is {kind}, not a number")


class RunRecord:
    """One run's review rows and ledger, with its one-replicate summary built only when needed.

    Args:
        scenario: the run's scenario.
        replicate: the run's replicate index.
        reviews: the run's review rows (`RunResult.reviews`).
        ledger: the run's ledger rows (`RunResult.ledger`), or None where the model keeps none.
        years: review years the summary needs (None: all), from `summary_years`.
    """

    def __init__(
        self,
        scenario: Scenario,
        replicate: int,
        reviews: list[dict[str, Any]],
        ledger: list[dict[str, Any]] | None,
        years: set[int] | None,
    ) -> None:
        self.scenario = scenario
        self.replicate = replicate
        self.reviews = reviews
        self.ledger = ledger
        self.years = years
        self._summary: dict[str, Any] | None = None

    @property
    def summary(self) -> dict[str, Any]:
        """The run's summary.json content (its `reviews` part over the needed review years)."""
        if self._summary is None:
            rows = [
                {"replicate": self.replicate, **row}
                for row in self.reviews
                if self.years is None or int(row["year"]) in self.years
            ]
            if self.ledger is None:
                self._summary = build_summary(self.scenario, rows)
            else:
                spending = [{"replicate": self.replicate, **row} for row in self.ledger]
                self._summary = build_summary(self.scenario, rows, spending)
        return self._summary

    def value(self, outcome: Outcome, fast: bool) -> float | None:
        """The outcome's value in this run; `fast` reads summary paths off the review row."""
        if outcome.kind == "review":
            return resolve_review(self.reviews, outcome)
        column = outcome.fast_column if fast else None
        if column is not None:
            year = outcome.parts[1]
            row = next((r for r in self.reviews if str(r["year"]) == year), None)
            if row is not None and column in row:
                return as_number(row[column], outcome)
        return resolve_summary(self.summary, outcome)


def extract(
    record: RunRecord, outcomes: tuple[Outcome, ...], fast: bool
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Every outcome's value in one run, and a reason for each one the run does not hold."""
    values: dict[str, float | None] = {}
    missing: dict[str, str] = {}
    for outcome in outcomes:
        try:
            values[outcome.name] = record.value(outcome, fast)
        except OutcomeMissing as reason:
            values[outcome.name] = None
            missing[outcome.name] = str(reason)
    return values, missing


def fast_path_agrees(record: RunRecord, outcomes: tuple[Outcome, ...]) -> bool:
    """Whether reading summary paths off the review rows gives what the real summary gives."""
    for outcome in outcomes:
        if outcome.fast_column is None:
            continue
        try:
            slow = record.value(outcome, fast=False)
        except OutcomeMissing:
            return False
        try:
            quick = record.value(outcome, fast=True)
        except OutcomeMissing:
            return False
        if slow != quick:
            return False
    return True
