"""What a worker does with a batch of runs: run each, extract its outcomes, return one table.

This module is what executors ship to worker processes (local or Dask), so it imports only
what a run needs. Each run is `run_one(point scenario, replicate)`: replicate r draws
`SeedSequence(master_seed, spawn_key=(r,))` at every design point (common random numbers).
A run that raises becomes a row with its error; the rest of the batch goes on.
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from povsim.experiments.outcomes import Outcome, RunRecord, extract, fast_path_agrees, summary_years
from povsim.model import replicate_seed
from povsim.runner import RunResult, run_one
from povsim.scenario import Scenario
from povsim.scenario.loading import with_overrides

OUTCOME_PREFIX = "outcome."
OUTCOME_PATHS_KEY = b"povsim.outcome_paths"
TRACEBACK_LIMIT = 4000
RunFunction = Callable[[Scenario, int], RunResult]


@dataclass(frozen=True)
class BatchTask:
    """A batch of runs for one worker.

    Attributes:
        base: the experiment's base scenario (master seed and fixed overrides applied).
        runs: (point, replicate) pairs.
        overrides: each point's scenario overrides, for the points in `runs`.
        outcomes: the outcomes to extract.
        run_function: what runs one replicate (`povsim.runner.run_one`; tests pass others).
    """

    base: Scenario
    runs: tuple[tuple[int, int], ...]
    overrides: dict[int, dict[str, Any]]
    outcomes: tuple[Outcome, ...]
    run_function: RunFunction = field(default=run_one)


def run_schema(outcomes: tuple[Outcome, ...]) -> pa.Schema:
    """The columns of a batch table: one row per run."""
    return pa.schema(
        [
            ("point", pa.int64()),
            ("replicate", pa.int64()),
            ("status", pa.string()),
            ("error", pa.string()),
            ("traceback", pa.string()),
            ("seed_entropy", pa.string()),
            ("spawn_key", pa.list_(pa.int64())),
            ("seconds", pa.float64()),
            ("worker", pa.string()),
            *[(OUTCOME_PREFIX + o.name, pa.float64()) for o in outcomes],
            ("outcome_errors", pa.string()),
            ("reviews_json", pa.string()),
            ("ledger_json", pa.string()),
        ],
        metadata={OUTCOME_PATHS_KEY: json.dumps({o.name: o.path for o in outcomes}).encode()},
    )


def stored_outcome_paths(schema: pa.Schema) -> dict[str, str]:
    """The outcome paths a batch file's outcome columns were extracted with, by name."""
    raw = (schema.metadata or {}).get(OUTCOME_PATHS_KEY)
    return json.loads(raw) if raw else {}


def run_batch(task: BatchTask) -> pa.Table:
    """Run every (point, replicate) of a batch and return one row per run."""
    years = summary_years(task.outcomes)
    rows: list[dict[str, Any]] = []
    worker = f"{socket.gethostname()}:{os.getpid()}"
    fast: bool | None = None
    scenarios: dict[int, Scenario] = {}
    for point, replicate in task.runs:
        started = time.perf_counter()
        seed = replicate_seed(task.base.run.master_seed, replicate)
        row: dict[str, Any] = {
            "point": point,
            "replicate": replicate,
            "seed_entropy": str(seed.entropy),
            "spawn_key": list(seed.spawn_key),
            "worker": worker,
        }
        try:
            if point not in scenarios:
                scenarios[point] = with_overrides(task.base, task.overrides[point])
            result = task.run_function(scenarios[point], replicate)
            ledger = getattr(result, "ledger", None)
            record = RunRecord(scenarios[point], replicate, result.reviews, ledger, years)
            if fast is None:
                # Check the shortcut once per batch against the summary build_summary makes.
                fast = fast_path_agrees(record, task.outcomes)
            values, missing = extract(record, task.outcomes, fast)
            row.update(
                status="ok",
                seed_entropy=str(result.seed_entropy),
                spawn_key=list(result.spawn_key),
                outcome_errors=json.dumps(missing) if missing else None,
                reviews_json=json.dumps(result.reviews),
                ledger_json=json.dumps(ledger) if ledger is not None else None,
                **{OUTCOME_PREFIX + name: value for name, value in values.items()},
            )
        except Exception as error:  # a failing run is recorded, not fatal
            row.update(
                status="error",
                error=f"{type(error).__name__}: {error}",
                traceback=traceback.format_exc()[-TRACEBACK_LIMIT:],
            )
        row["seconds"] = time.perf_counter() - started
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=run_schema(task.outcomes))


def failed_batch(task: BatchTask, error: BaseException) -> pa.Table:
    """Rows for a batch whose task failed as a whole (it could not be sent or its result not returned)."""
    message = f"{type(error).__name__}: {error}"
    rows = []
    for point, replicate in task.runs:
        seed = replicate_seed(task.base.run.master_seed, replicate)
        rows.append(
            {
                "point": point,
                "replicate": replicate,
                "status": "error",
                "error": f"the batch failed before its runs were recorded: {message}",
                "seed_entropy": str(seed.entropy),
                "spawn_key": list(seed.spawn_key),
                "seconds": 0.0,
            }
        )
    return pa.Table.from_pylist(rows, schema=run_schema(task.outcomes))
