"""Running a sweep: every (design point, replicate) once, streamed to disk, resumable.

The sweep submits batches of runs to an executor (`executors.open_executor`), keeps a
bounded number in flight, and writes each finished batch as one Parquet file before
forgetting it, so memory stays flat however many runs there are. Batches are sized from
the measured run time so that each takes about `BATCH_TARGET_SECONDS`: small runs are
grouped to keep per-task overhead low, and a killed sweep loses at most the batches in
flight. On `--resume` the runs already in the folder are skipped.

Runs are submitted replicate by replicate (replicate 0 at every point, then replicate 1,
...), so a sweep stopped early has balanced replicates across the design.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import platform
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from povsim.experiments.analysis import Analysis, analyse
from povsim.experiments.executors import ExecutorHandle, open_executor
from povsim.experiments.spec import Experiment, jsonable
from povsim.experiments.store import FORMAT, KIND, SweepStore
from povsim.experiments.worker import BatchTask, RunFunction, failed_batch, run_batch
from povsim.model import replicate_seed
from povsim.runner import run_one
from povsim.scenario import InputError, Problem, scenario_hash

BATCH_TARGET_SECONDS = 1.0
MAX_BATCH_RUNS = 256
IN_FLIGHT_PER_SLOT = 2
PACKAGES = ("povsim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "SALib", "dask", "distributed")
SEED_SCHEME = "numpy SeedSequence(master_seed, spawn_key=(replicate,)), the same at every design point"


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory): the executor cannot go on."""


@dataclass
class SweepReport:
    """What a sweep session did.

    Attributes:
        out: the sweep folder.
        total: runs in the whole sweep.
        before: runs already recorded when this session started.
        executed: runs this session recorded.
        failed: runs in the folder that raised.
        seconds: wall time of this session's runs.
        executor: how the runs were executed.
        first_errors: a few failed runs' (point, replicate, error).
        warnings: outcome and analysis warnings.
        analysis: the analysis written at the end.
    """

    out: Path
    total: int
    before: int
    executed: int
    failed: int
    seconds: float
    executor: str
    first_errors: list[tuple[int, int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    analysis: Analysis | None = None


class BatchSizer:
    """Batch sizes that keep each batch near a target duration and every worker busy.

    Args:
        fixed: a fixed number of runs per batch, or None to size from measured run times.
        slots: batches the executor runs at once.
    """

    def __init__(self, fixed: int | None, slots: int) -> None:
        self.fixed = fixed
        self.slots = slots
        self.runs = 0
        self.seconds = 0.0

    def record(self, table: pa.Table) -> None:
        """Learn from a finished batch's run times."""
        self.runs += table.num_rows
        self.seconds += float(sum(s for s in table.column("seconds").to_pylist() if s))

    def next_size(self, remaining: int) -> int:
        """Runs for the next batch, given how many are still to submit."""
        if self.fixed is not None:
            return self.fixed
        if self.runs == 0 or self.seconds <= 0:
            return 1
        per_run = self.seconds / self.runs
        size = round(BATCH_TARGET_SECONDS / per_run)
        spread = math.ceil(remaining / (IN_FLIGHT_PER_SLOT * self.slots))
        return max(1, min(size, spread, MAX_BATCH_RUNS))


def run_sweep(
    experiment: Experiment,
    out: Path,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    batch_size: int | None = None,
    progress: bool = False,
    run_function: RunFunction = run_one,
    command: list[str] | None = None,
    notify: Callable[[str], None] | None = None,
    figures: bool = True,
) -> SweepReport:
    """Run the runs of an experiment not yet in `out`, then write the analysis.

    Args:
        experiment: a loaded experiment (`load_experiment`).
        out: the sweep folder; created if absent.
        workers: local processes (1: in this process), or LocalCluster workers.
        scheduler: None, "local", or a Dask scheduler address.
        resume: continue the sweep already in `out`.
        batch_size: runs per task; None sizes batches from measured run times.
        progress: show a progress bar with an ETA on stderr.
        run_function: what runs one replicate (tests substitute failing ones).
        command: the command line, for the manifest.
        notify: where warnings go as they arise (default: stderr).
        figures: draw the standard figures.

    Raises:
        InputError: `out` is not usable (another sweep, another experiment, not a sweep
            folder, locked), or the scheduler cannot be reached.
        WorkerLost: a worker process died; finished runs are kept.
    """
    say = notify or (lambda text: tqdm.write(text, file=sys.stderr))
    store = SweepStore(out)
    exists = check_target(experiment, out, resume)
    with contextlib.ExitStack() as stack:
        if exists:
            store.lock()
            stack.callback(store.unlock)
            store.remove_debris()
            done = store.done()
        else:
            done = set()
        todo = pending_runs(experiment, done)
        # Open the executor before creating a new folder: an unreachable scheduler leaves nothing.
        handle = stack.enter_context(open_executor(workers, scheduler)) if todo else None
        if not exists:
            store.create(
                new_manifest(experiment),
                {"experiment.toml": experiment.text.encode(), **design_files(experiment)},
            )
            store.lock()
            stack.callback(store.unlock)
        options = Options(batch_size, progress, run_function, command, say, figures)
        return _run(experiment, store, handle, todo, options)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class Options:
    """How a session runs, as given to `run_sweep`."""

    batch_size: int | None
    progress: bool
    run_function: RunFunction
    command: list[str] | None
    say: Callable[[str], None]
    figures: bool


def check_target(experiment: Experiment, out: Path, resume: bool) -> bool:
    """Check the sweep folder can take this experiment; return whether it already holds its sweep."""
    store = SweepStore(out)
    if out.exists() and not out.is_dir():
        raise InputError([Problem("--out", "", "exists and is not a folder", str(out), True)])
    if SweepStore.holds_sweep(out):
        manifest = store.manifest()
        if not resume:
            counts = manifest.get("counts", {})
            recorded, runs = counts.get("recorded", "?"), counts.get("runs", "?")
            raise InputError(
                [
                    Problem(
                        "--out",
                        "",
                        f"already holds a sweep ({recorded} of {runs} runs recorded); "
                        "pass --resume to continue it, or choose another folder",
                        str(out),
                        True,
                    )
                ]
            )
        check_same_sweep(manifest, experiment, out)
        return True
    if out.is_dir() and any(out.iterdir()):
        raise InputError(
            [
                Problem(
                    "--out",
                    "",
                    "is a non-empty folder that does not hold a povsim sweep; expected a new folder, "
                    "or a sweep's folder with --resume",
                    str(out),
                    True,
                )
            ]
        )
    return False


def check_same_sweep(manifest: dict[str, Any], experiment: Experiment, out: Path) -> None:
    """Refuse to resume a folder whose runs were computed for something else."""
    if manifest.get("identity_sha256") == experiment.identity():
        return
    stored = manifest.get("identity", {})
    mine = identity_parts(experiment)
    changed = [key.replace("_", " ") for key in mine if stored.get(key) != mine[key]] or ["the design"]
    raise InputError(
        [
            Problem(
                str(experiment.file),
                "",
                f"is not the experiment whose runs are in {out} ({', '.join(changed)} changed); "
                "outcomes and replicates may change on --resume, nothing else; expected the same "
                "base scenario, overrides, parameters, design and master_seed, or another --out",
            )
        ]
    )


def identity_parts(experiment: Experiment) -> dict[str, Any]:
    """The parts of the experiment's identity, recorded to explain a refused resume."""
    points = json.dumps([jsonable(p) for p in experiment.design.points], sort_keys=True)
    return {
        "base_scenario_sha256": experiment.base_hash(),
        "parameters": {n: experiment.spec.parameters[n].path for n in experiment.design.names},
        "design_points_sha256": hashlib.sha256(points.encode()).hexdigest(),
        "master_seed": experiment.spec.master_seed,
    }


def new_manifest(experiment: Experiment) -> dict[str, Any]:
    """The manifest of a new sweep folder."""
    manifest: dict[str, Any] = {
        "kind": KIND,
        "format": FORMAT,
        "created_utc": _now(),
        "identity_sha256": experiment.identity(),
        "identity": identity_parts(experiment),
        "base_scenario": {
            "file": str(experiment.base_file),
            "sha256": scenario_hash(experiment.base),
            "resolved": experiment.base.model_dump(mode="json"),
        },
        "sessions": [],
        "status": "created",
    }
    describe_experiment(manifest, experiment)
    return manifest


def describe_experiment(manifest: dict[str, Any], experiment: Experiment) -> None:
    """Record the parts of the experiment that may change on resume: outcomes, replicates, seeds."""
    design = experiment.design
    spec = experiment.spec
    manifest["experiment"] = {
        "name": spec.name,
        "description": spec.description.strip(),
        "file": str(experiment.file),
        "sha256": hashlib.sha256(experiment.text.encode()).hexdigest(),
        "spec": spec.model_dump(mode="json"),
    }
    manifest["design"] = {
        "method": design.method,
        "parameters": {
            n: spec.parameters[n].model_dump(mode="json", exclude_none=True) for n in design.names
        },
        "points": len(design.points),
        "seed": design.seed,
        "seed_scheme": "numpy SeedSequence(seed, spawn_key=(2**32,))" if design.seed is not None else None,
        "second_order": design.second_order if design.method == "sobol" else None,
        "grid_levels": design.grid_levels if design.method == "morris" else None,
        "table": "design.csv",
        "values": [jsonable(p) for p in design.points],
    }
    manifest["replicates"] = experiment.replicates
    manifest["runs"] = experiment.run_count
    manifest["outcomes"] = {o.name: o.path for o in experiment.outcomes}
    manifest["seeds"] = {
        "master_seed": spec.master_seed,
        "scheme": SEED_SCHEME,
        "replicates": [
            {"replicate": r, "entropy": str(s.entropy), "spawn_key": list(s.spawn_key)}
            for r in range(experiment.replicates)
            for s in (replicate_seed(spec.master_seed, r),)
        ],
    }


def design_files(experiment: Experiment) -> dict[str, bytes]:
    """design.csv: one row per design point, with the unit-cube sample behind it if any."""
    import csv
    import io

    design = experiment.design
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    unit_names = [f"unit_{n}" for n in design.names] if design.unit is not None else []
    writer.writerow(["point", *design.names, *unit_names])
    for i, values in enumerate(design.points):
        unit = [repr(float(u)) for u in design.unit[i]] if design.unit is not None else []
        writer.writerow([i, *(jsonable(values[n]) for n in design.names), *unit])
    return {"design.csv": text.getvalue().encode()}


def pending_runs(experiment: Experiment, done: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs not yet recorded, replicate by replicate."""
    points = len(experiment.design.points)
    return [(p, r) for r in range(experiment.replicates) for p in range(points) if (p, r) not in done]


def _run(
    experiment: Experiment,
    store: SweepStore,
    handle: ExecutorHandle | None,
    todo: list[tuple[int, int]],
    options: Options,
) -> SweepReport:
    total = experiment.run_count
    before = total - len(todo)
    manifest = store.manifest()
    describe_experiment(manifest, experiment)
    session = store.next_session()
    entry: dict[str, Any] = {
        "session": session,
        "started_utc": _now(),
        "command": options.command,
        "status": "running",
        "runs_pending_at_start": len(todo),
        "software": software(),
        "git_revision": _git_revision(),
    }
    for earlier in manifest["sessions"]:
        if earlier.get("status") == "running":  # we hold the lock: that session was killed
            earlier["status"] = "did not finish"
    manifest["sessions"].append(entry)
    manifest["status"] = "running"
    store.write_manifest(manifest)

    report = SweepReport(store.root, total, before, 0, 0, 0.0, "nothing to run")
    started = time.perf_counter()
    status = "interrupted"
    try:
        if handle is not None:
            report.executor = handle.label
            entry["executor"] = handle.label
            entry["slots"] = handle.slots
            bar = tqdm(
                total=total,
                initial=before,
                desc=experiment.name,
                unit="run",
                disable=not options.progress,
                file=sys.stderr,
                smoothing=0.3,
            )
            with bar:
                batches = _stream(experiment, handle, todo, options, report)
                for index, table in enumerate(batches):
                    store.write_batch(session, index, table)
                    entry["batches"] = index + 1
                    failures = table.filter(pc.equal(table.column("status"), "error"))
                    report.executed += table.num_rows
                    report.failed += failures.num_rows
                    for row in failures.select(["point", "replicate", "error"]).to_pylist():
                        if len(report.first_errors) < 3:
                            report.first_errors.append((row["point"], row["replicate"], row["error"]))
                    bar.update(table.num_rows)
                    if report.failed:
                        bar.set_postfix(failed=report.failed, refresh=False)
        status = "complete"
    except BrokenProcessPool as error:
        status = "worker lost"
        raise WorkerLost(
            f"a worker process died ({error}); the {report.executed} runs finished in this session are kept: "
            "run the same command with --resume to go on"
        ) from None
    finally:
        report.seconds = time.perf_counter() - started
        entry.update(
            status=status,
            finished_utc=_now(),
            wall_seconds=round(report.seconds, 3),
            runs_executed=report.executed,
            runs_failed=report.failed,
        )
        _finish_manifest(store, manifest, experiment)
    analysis = analyse(store, experiment, figures=options.figures)
    report.analysis = analysis
    report.failed = int((analysis.runs["status"] == "error").sum())
    manifest["analysis"] = {
        "files": analysis.files,
        "outcome_problems": analysis.outcome_problems,
        "notes": analysis.notes,
    }
    report.warnings += analysis.notes
    store.write_manifest(manifest)
    return report


def _stream(
    experiment: Experiment,
    handle: ExecutorHandle,
    todo: list[tuple[int, int]],
    options: Options,
    report: SweepReport,
) -> Iterator[pa.Table]:
    """Submit batches, keeping a bounded number in flight; yield each finished batch's table."""
    sizer = BatchSizer(options.batch_size, handle.slots)
    window = IN_FLIGHT_PER_SLOT * handle.slots
    next_run = 0
    in_flight: dict[Future, BatchTask] = {}
    checked = False
    try:
        while next_run < len(todo) or in_flight:
            while next_run < len(todo) and len(in_flight) < window:
                size = sizer.next_size(len(todo) - next_run)
                runs = tuple(todo[next_run : next_run + size])
                next_run += len(runs)
                task = BatchTask(
                    base=experiment.base,
                    runs=runs,
                    overrides={p: experiment.point_overrides(p) for p in {p for p, _ in runs}},
                    outcomes=experiment.outcomes,
                    run_function=options.run_function,
                )
                in_flight[handle.executor.submit(run_batch, task)] = task
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in finished:
                task = in_flight.pop(future)
                try:
                    table = future.result()
                except (BrokenProcessPool, CancelledError, KeyboardInterrupt):
                    raise
                except Exception as error:  # the task failed as a whole (e.g. a Dask worker died)
                    table = failed_batch(task, error)
                sizer.record(table)
                if not checked:
                    checked = _check_first_outcomes(table, experiment, options.say, report)
                yield table
    finally:
        for future in in_flight:
            future.cancel()


def _check_first_outcomes(
    table: pa.Table, experiment: Experiment, say: Callable[[str], None], report: SweepReport
) -> bool:
    """After the first successful run: warn about outcomes it does not hold. Returns True once checked."""
    rows = table.filter(pc.equal(table.column("status"), "ok")).select(["outcome_errors"]).to_pylist()
    if not rows:
        return False
    errors = json.loads(rows[0]["outcome_errors"] or "{}")
    for outcome in experiment.outcomes:
        if outcome.name in errors:
            message = (
                f"{experiment.file}: outcomes.{outcome.name} = {outcome.path!r}: not found in the first run: "
                f"{errors[outcome.name]}. The sweep goes on and records it as missing; if the path is wrong, "
                "fix it and run again with --resume (outcomes are extracted again from the stored runs, "
                "nothing is rerun)"
            )
            report.warnings.append(message)
            say(f"povsim: warning: {message}")
    return True


def _finish_manifest(store: SweepStore, manifest: dict[str, Any], experiment: Experiment) -> None:
    pairs = store.done()
    wanted = {(p, r) for r in range(experiment.replicates) for p in range(len(experiment.design.points))}
    recorded = len(pairs & wanted)
    failed = 0
    run_seconds = 0.0
    for table in store.iter_batches(["point", "replicate", "status", "seconds"]):
        columns = (table.column(c).to_pylist() for c in ("point", "replicate", "status", "seconds"))
        for p, r, s, seconds in zip(*columns, strict=True):
            if (p, r) in wanted:
                failed += s == "error"
                run_seconds += seconds or 0.0
    manifest["counts"] = {
        "runs": experiment.run_count,
        "recorded": recorded,
        "ok": recorded - failed,
        "error": failed,
        "pending": experiment.run_count - recorded,
    }
    manifest["status"] = "complete" if recorded == experiment.run_count else "incomplete"
    manifest["timings_seconds"] = {
        "sessions_wall": round(sum(s.get("wall_seconds", 0.0) for s in manifest["sessions"]), 3),
        "runs_total": round(run_seconds, 3),
        "run_mean": round(run_seconds / recorded, 4) if recorded else None,
    }
    store.write_manifest(manifest)


def software() -> dict[str, str | None]:
    """Python, platform and package versions."""
    versions: dict[str, str | None] = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git_revision() -> str | None:
    from povsim.results import git_revision

    return git_revision()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
