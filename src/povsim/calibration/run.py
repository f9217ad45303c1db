"""`povsim calibrate`: screen, fit, write the posterior, then the fit report, resumably.

Layout of a calibration folder:

```
manifest.json        the calibration, its fingerprint, sessions, generations, timings
calibration.toml     the calibration file as it was run
screen/              the Morris screen, a `povsim sweep` folder (its experiment.toml inside)
abc/                 every simulated block and every finished generation (Parquet)
posterior.parquet    the last generation: parameter values by scenario path, with weights
report/              report.html, figures/*.png, tables/*.csv
```
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from povsim.calibration.abc import Population
from povsim.calibration.fit import population_table, run_abc
from povsim.calibration.spec import Calibration
from povsim.experiments import load_experiment, run_sweep
from povsim.experiments.executors import open_executor
from povsim.experiments.spec import flatten
from povsim.experiments.store import SweepStore, write_atomic, write_json_atomic, write_parquet_atomic
from povsim.experiments.sweep import software
from povsim.runner import run_one
from povsim.scenario import InputError, Problem

KIND = "povsim-calibration"
MANIFEST = "manifest.json"
POSTERIOR = "posterior.parquet"
Notify = Callable[[str], None]


@dataclass
class CalibrationReport:
    """What a `calibrate` call did."""

    out: Path
    populations: list[Population] = field(default_factory=list)
    stop_reason: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    report_files: list[str] = field(default_factory=list)


def calibrate(
    calibration: Calibration,
    out: Path,
    workers: int,
    resume: bool = False,
    say: Notify = print,
    report: bool = True,
    command: list[str] | None = None,
) -> CalibrationReport:
    """Run (or resume) a calibration into `out`.

    Raises:
        InputError: `out` holds something else, another calibration, or is in use.
    """
    exists = _check_target(calibration, out, resume)
    if not exists:
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "calibration.toml", calibration.text.encode())
        write_json_atomic(out / MANIFEST, _new_manifest(calibration))
    lock = SweepStore(out)
    lock.lock()
    try:
        return _calibrate(calibration, out, workers, say, report, command)
    finally:
        lock.unlock()


def _calibrate(
    calibration: Calibration, out: Path, workers: int, say: Notify, report: bool, command: list[str] | None
) -> CalibrationReport:
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    session = {"started_utc": _now(), "command": command, "workers": workers, "software": software()}
    for earlier in manifest["sessions"]:
        if earlier.get("status") == "running":  # we hold the lock: that session was killed
            earlier["status"] = "did not finish"
    manifest["sessions"].append({**session, "status": "running"})
    session = manifest["sessions"][-1]
    write_json_atomic(out / MANIFEST, manifest)
    result = CalibrationReport(out)

    started = time.perf_counter()
    screen_folder = out / "screen"
    experiment_file = out / "screen.toml"
    if not experiment_file.is_file():
        write_atomic(experiment_file, screen_experiment(calibration).encode())
    experiment = load_experiment(experiment_file)
    say(f"screen: Morris, {experiment.run_count:,} runs")
    screen = run_sweep(
        experiment,
        screen_folder,
        workers=workers,
        resume=screen_folder.exists(),
        notify=say,
        command=command,
    )
    result.seconds["screen"] = time.perf_counter() - started
    problems = screen.analysis.outcome_problems if screen.analysis else {}
    missing = [m for m in calibration.targets if m.name in problems]
    if missing:
        raise InputError(
            [
                Problem(
                    str(calibration.file),
                    f"moments.{m.name}.path",
                    f"names nothing the runs hold: {problems[m.name]}; expected a path into summary.json "
                    "such as reviews.2024.measure_rate, or review:YEAR:COLUMN",
                    m.outcome.path,
                    True,
                )
                for m in missing
            ]
        )

    started = time.perf_counter()
    with open_executor(workers) as handle:
        say(f"fit: ABC-SMC on {handle.label}")
        populations, reason = run_abc(calibration, out, handle, say, run_one)
    result.seconds["fit"] = time.perf_counter() - started
    result.populations, result.stop_reason = populations, reason
    say(f"fit stopped: {reason}")
    write_posterior(calibration, populations[-1], out / POSTERIOR, reason)

    if report:
        from povsim.calibration.report import write_report

        started = time.perf_counter()
        result.report_files = write_report(calibration, out, populations, reason, workers, say)
        result.seconds["report"] = time.perf_counter() - started

    session.update(
        status="complete", finished_utc=_now(), seconds={k: round(v, 1) for k, v in result.seconds.items()}
    )
    manifest.update(
        status="complete",
        stop_reason=reason,
        generations=[_generation_entry(p) for p in populations],
        simulations=sum(p.proposed for p in populations),
    )
    write_json_atomic(out / MANIFEST, manifest)
    return result


def screen_experiment(calibration: Calibration) -> str:
    """The Morris screen as an experiment file: the priors' supports, every moment as an outcome."""
    spec = calibration.spec
    lines = [
        f"# The Morris screen of calibration {spec.name!r}, written by povsim calibrate.",
        f"name = {json.dumps(spec.name + '-screen')}",
        f"description = {json.dumps('Morris screen of the calibration moments over the priors')}",
        f"scenario = {json.dumps(str(calibration.base_file.resolve()))}",
        f"master_seed = {spec.master_seed}",
        f"replicates = {spec.screen.replicates}",
        "",
        "[overrides]",
        *(f"{key} = {_toml_value(value)}" for key, value in flatten(spec.overrides).items()),
        "",
        "[design]",
        'method = "morris"',
        f"points = {spec.screen.trajectories}",
        f"grid_levels = {spec.screen.grid_levels}",
    ]
    for prior in calibration.priors:
        distribution = "loguniform" if prior.kind == "loguniform" else "uniform"
        lines += [
            "",
            f"[parameters.{prior.name}]",
            f"path = {json.dumps(prior.path)}",
            f"low = {prior.low!r}",
            f"high = {prior.high!r}",
            f"distribution = {json.dumps(distribution)}",
        ]
    lines += ["", "[outcomes]", *(f"{m.name} = {json.dumps(m.outcome.path)}" for m in calibration.moments)]
    return "\n".join(lines) + "\n"


def write_posterior(calibration: Calibration, population: Population, path: Path, reason: str) -> None:
    """The posterior sample: parameter values by scenario path, weights, distances and moments."""
    table = population_table(calibration, population)
    keep = [c for c in table.column_names if not c.startswith("unit.")]
    metadata = {
        "povsim.kind": "posterior",
        "povsim.calibration": calibration.name,
        "povsim.calibration_sha256": calibration.identity(),
        "povsim.generation": str(population.generation),
        "povsim.epsilon": repr(population.epsilon),
        "povsim.stop_reason": reason,
        "povsim.moments": json.dumps(
            {
                m.name: {"path": m.outcome.path, "observed": m.observed, "role": m.role}
                for m in calibration.moments
            }
        ),
        "povsim.calibration_household_count": str(calibration.base.run.household_count),
    }
    write_parquet_atomic(path, table.select(keep).replace_schema_metadata(metadata))


def _check_target(calibration: Calibration, out: Path, resume: bool) -> bool:
    manifest_path = out / MANIFEST
    if out.exists() and not out.is_dir():
        raise InputError([Problem("--out", "", "is a file; expected a folder", str(out), True)])
    if not manifest_path.is_file():
        if out.is_dir() and any(out.iterdir()):
            raise InputError(
                [
                    Problem(
                        "--out",
                        "",
                        "is a folder with other files; expected a new or empty folder",
                        str(out),
                        True,
                    )
                ]
            )
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError:
        manifest = {}
    if manifest.get("kind") != KIND:
        raise InputError(
            [
                Problem(
                    "--out",
                    "",
                    "holds something other than a calibration; expected a new folder",
                    str(out),
                    True,
                )
            ]
        )
    if not resume:
        raise InputError(
            [
                Problem(
                    "--out",
                    "",
                    "already holds a calibration; expected --resume to continue it, or a new folder",
                    str(out),
                    True,
                )
            ]
        )
    if manifest.get("identity_sha256") != calibration.identity():
        raise InputError(
            [
                Problem(
                    "--out",
                    "",
                    f"holds calibration {manifest.get('name')!r} with other settings, priors, moments or "
                    "base scenario; expected the same calibration file to resume it, or a new folder",
                    str(out),
                    True,
                )
            ]
        )
    return True


def _new_manifest(calibration: Calibration) -> dict[str, Any]:
    return {
        "kind": KIND,
        "name": calibration.name,
        "identity_sha256": calibration.identity(),
        "created_utc": _now(),
        "calibration_file": str(calibration.file),
        "base_scenario_file": str(calibration.base_file),
        "household_count": calibration.base.run.household_count,
        "status": "running",
        "sessions": [],
    }


def _generation_entry(population: Population) -> dict[str, Any]:
    return {
        "generation": population.generation,
        "epsilon": population.epsilon,
        "particles": len(population.weights),
        "simulations": population.proposed,
        "failed": population.failed,
        "acceptance_rate": round(population.acceptance_rate, 5),
        "effective_sample_size": round(population.effective_sample_size(), 1),
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
