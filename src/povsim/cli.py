"""The `povsim` command: parse arguments, call the library, report.

Exit codes: 0 done; 2 bad input (named file, key path, value and expectation, no
traceback); 1 an internal or environment error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from povsim.scenario import InputError, Scenario, load_scenario
from povsim.scenario.errors import problem

if TYPE_CHECKING:
    from povsim.experiments import Experiment, SweepReport

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="povsim",
        description="Poverty dynamics and relapse risk in Son Duong district (agent-based, Mesa).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario's replicates and write its outputs")
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument("--out", type=Path, help="output folder (default results/<scenario name>)")
    run.add_argument("--seed", type=int, help="master seed (overrides run.master_seed)")
    run.add_argument("--replicates", type=int, help="replicates (overrides run.replicate_count)")
    run.add_argument("--households", type=int, help="households (overrides run.household_count)")
    run.add_argument("--workers", type=int, default=1, help="processes for replicates (default 1)")
    run.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value by dotted path, e.g. economy.nominal_income_growth_per_year=0.08",
    )
    run.add_argument(
        "--household-panel",
        action="store_true",
        help="also write households.parquet: every household's statuses, shocks and support (large)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary lines")

    validate = commands.add_parser(
        "validate", help="check a scenario, experiment or calibration file; exit 0 or 2"
    )
    validate.add_argument("file", type=Path, help="scenario, experiment or calibration TOML file")
    validate.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value by dotted path before checking",
    )
    add_sweep_parser(commands)
    add_calibrate_parser(commands)
    add_dashboard_parser(commands)
    add_compare_parser(commands)
    return parser


def add_sweep_parser(commands: argparse._SubParsersAction) -> None:
    """The `povsim sweep` subcommand."""
    sweep = commands.add_parser(
        "sweep", help="run an experiment's design points and replicates, resumably, and analyse them"
    )
    sweep.add_argument("experiment", type=Path, help="experiment TOML file (see experiments/)")
    sweep.add_argument("--out", type=Path, help="sweep folder (default results/<experiment name>)")
    sweep.add_argument(
        "--workers",
        type=int,
        help="processes (default: one per core; 1 runs in this process); Dask workers with --scheduler local",
    )
    sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on Dask: a scheduler address such as tcp://host:8786, or 'local' for a LocalCluster",
    )
    sweep.add_argument(
        "--resume", action="store_true", help="continue the sweep in --out; recorded runs are not rerun"
    )
    sweep.add_argument(
        "--batch-size", type=int, metavar="N", help="runs per task (default: sized to about a second of work)"
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar or summary lines")


def add_calibrate_parser(commands: argparse._SubParsersAction) -> None:
    """The `povsim calibrate` subcommand."""
    calibrate = commands.add_parser(
        "calibrate", help="fit the uncertain parameters to the observed decline: screen, ABC-SMC, fit report"
    )
    calibrate.add_argument(
        "calibration", type=Path, help="calibration TOML file (see experiments/calibration.toml)"
    )
    calibrate.add_argument("--out", type=Path, help="calibration folder (default results/<calibration name>)")
    calibrate.add_argument(
        "--workers", type=int, help="processes (default: one per core; 1 runs in this process)"
    )
    calibrate.add_argument(
        "--resume",
        action="store_true",
        help="continue the calibration in --out; simulated blocks are not rerun",
    )
    calibrate.add_argument("--quiet", action="store_true", help="no progress lines")


def add_compare_parser(commands: argparse._SubParsersAction) -> None:
    """The `povsim compare` subcommand."""
    compare = commands.add_parser(
        "compare", help="compare runs and sweeps: figures, tables and one HTML report of the policy mixes"
    )
    compare.add_argument(
        "folders", type=Path, nargs="+", metavar="DIR", help="run folders (povsim run) or sweep folders"
    )
    compare.add_argument(
        "--baseline",
        metavar="NAME",
        help="scenario to take differences from (default: the one named 'baseline', else the first)",
    )
    compare.add_argument("--out", type=Path, help="comparison folder (default results/comparison)")
    compare.add_argument("--quiet", action="store_true", help="no headline lines")


def add_dashboard_parser(commands: argparse._SubParsersAction) -> None:
    """The `povsim dashboard` subcommand."""
    dashboard = commands.add_parser(
        "dashboard", help="serve the interactive dashboard (Mesa SolaraViz; needs the 'dashboard' extra)"
    )
    dashboard.add_argument(
        "--scenario", type=Path, metavar="FILE", help="scenario to start from (default: built-in baseline)"
    )
    dashboard.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    dashboard.add_argument("--port", type=int, help="port to listen on (default: a free port, printed)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `povsim` console command."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command == "run":
            return command_run(args)
        if args.command == "sweep":
            return command_sweep(args)
        if args.command == "calibrate":
            return command_calibrate(args)
        if args.command == "compare":
            return command_compare(args)
        if args.command == "dashboard":
            return command_dashboard(args)
        if is_calibration_file(args.file):
            return command_validate_calibration(args)
        if is_experiment_file(args.file):
            return command_validate_experiment(args)
        return command_validate(args)
    except InputError as error:
        for problem in error.problems:
            print(f"povsim: error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("povsim: interrupted; no output was written", file=sys.stderr)
        return 130
    except OSError as error:
        target = f" ({error.filename})" if error.filename else ""
        print(
            f"povsim: error: cannot write results{target}: {error.strerror or error}",
            file=sys.stderr,
        )
        return EXIT_ERROR


def command_validate(args: argparse.Namespace) -> int:
    """`povsim validate FILE`: load and check a scenario, print what it sets up."""
    scenario = load_scenario(args.file, args.assignments)
    print(
        f"{args.file}: valid scenario {scenario.name!r} "
        f"({scenario.run.household_count:,} households, {scenario.run.replicate_count} "
        f"replicates, to {scenario.calendar.end_date}){posterior_note(scenario)}"
    )
    return EXIT_OK


def posterior_note(scenario: Scenario) -> str:
    """'; parameters drawn from ...' for a scenario with a posterior, else nothing."""
    if not scenario.posterior.file:
        return ""
    from povsim.posterior import load_posterior

    sample = load_posterior(scenario.posterior.file)
    return (
        f"; each replicate draws {len(sample.paths)} parameters from the posterior {scenario.posterior.file} "
        f"({len(sample.weights)} particles)"
    )


def command_run(args: argparse.Namespace) -> int:
    """`povsim run SCENARIO`: run the replicates and write the outputs."""
    from povsim.results import check_destination, write_run_outputs
    from povsim.runner import run_replicates

    assignments = list(args.assignments)
    for flag, key in (
        ("seed", "run.master_seed"),
        ("replicates", "run.replicate_count"),
        ("households", "run.household_count"),
    ):
        value = getattr(args, flag)
        if value is not None:
            assignments.append(f"{key}={value}")
    if args.workers < 1:
        raise problem("--workers", "", "expected a positive number of processes", args.workers)
    scenario = load_scenario(args.scenario, assignments)
    out = args.out or Path("results") / scenario.name
    check_destination(out)

    started = time.perf_counter()
    results = run_replicates(
        scenario, workers=args.workers, progress=not args.quiet, household_panel=args.household_panel
    )
    run_info = {
        "command": ["povsim", *args.argv],
        "scenario_file": str(args.scenario),
        "overrides": assignments,
        "workers": args.workers,
        "wall_seconds": round(time.perf_counter() - started, 4),
    }
    summary = write_run_outputs(out, scenario, results, run_info)
    if not args.quiet:
        print_headline(scenario, summary, out, time.perf_counter() - started)
    return EXIT_OK


def command_calibrate(args: argparse.Namespace) -> int:
    """`povsim calibrate CALIBRATION`: screen, fit and report, resumably."""
    from concurrent.futures.process import BrokenProcessPool

    from povsim.calibration import calibrate, load_calibration
    from povsim.calibration.abc import CalibrationFailed
    from povsim.experiments import WorkerLost
    from povsim.experiments.executors import default_workers

    if args.workers is not None and args.workers < 1:
        raise problem("--workers", "", "expected a positive number of processes", args.workers)
    calibration = load_calibration(args.calibration)
    out = args.out or Path("results") / calibration.name
    say = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    started = time.perf_counter()
    try:
        done = calibrate(
            calibration,
            out,
            workers=args.workers or default_workers(),
            resume=args.resume,
            say=say,
            command=["povsim", *args.argv],
        )
    except KeyboardInterrupt:
        return interrupted(out, "simulations")
    except (BrokenProcessPool, WorkerLost) as error:
        print(
            f"povsim: error: a worker process died ({error}); the simulations finished so far are kept "
            f"in {out}{os.sep}: run the same command with --resume to go on",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except CalibrationFailed as error:
        print(f"povsim: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    if not args.quiet:
        last = done.populations[-1]
        print(
            f"calibration {calibration.name!r}: {len(done.populations)} generations, "
            f"{sum(p.proposed for p in done.populations):,} simulations "
            f"({time.perf_counter() - started:.0f} s in this session); "
            f"final tolerance {last.epsilon:.3g} ({done.stop_reason})"
        )
        print(f"outputs: {out}{os.sep} (posterior.parquet, report/report.html, screen/, abc/, manifest.json)")
    return EXIT_OK


def command_compare(args: argparse.Namespace) -> int:
    """`povsim compare DIR [DIR ...]`: tables, figures and report.html of the scenarios in the folders."""
    from povsim.comparison import compare

    out = args.out or Path("results") / "comparison"
    started = time.perf_counter()
    done = compare(args.folders, out, baseline=args.baseline, command=["povsim", *args.argv])
    if not args.quiet:
        print(
            f"compared {len(done.labels)} scenarios against {done.baseline!r} "
            f"in {time.perf_counter() - started:.1f} s"
        )
        for line in done.table:
            print(f"  {line}")
        for note in done.notes[1:]:
            print(f"  note: {note}")
        print(f"outputs: {out}{os.sep} (report.html with the headlines in words; tables/, figures/)")
    return EXIT_OK


def command_dashboard(args: argparse.Namespace) -> int:
    """`povsim dashboard`: check the scenario and the address, then serve the dashboard until stopped."""
    from povsim.dashboard.server import serve

    try:
        serve(args.scenario, host=args.host, port=args.port)
    except ImportError as error:
        print(f"povsim: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("povsim: dashboard stopped", file=sys.stderr)
    return EXIT_OK


def is_experiment_file(path: Path) -> bool:
    """Whether a TOML file is an experiment (design, parameters or outcomes) rather than a scenario."""
    from povsim.experiments.loading import looks_like_experiment

    return looks_like_experiment(path)


def is_calibration_file(path: Path) -> bool:
    """Whether a TOML file is a calibration (it has priors or moments)."""
    from povsim.calibration.loading import looks_like_calibration

    return looks_like_calibration(path)


def command_validate_calibration(args: argparse.Namespace) -> int:
    """`povsim validate CALIBRATION`: load and check a calibration, print what it would fit."""
    from povsim.calibration import load_calibration

    if args.assignments:
        raise problem("--set", "", "applies to scenario files, not calibrations", args.assignments[0])
    calibration = load_calibration(args.file)
    targets = ", ".join(m.name for m in calibration.targets)
    held_out = ", ".join(m.name for m in calibration.moments if m.role == "validation") or "none"
    print(
        f"{args.file}: valid calibration {calibration.name!r}: {len(calibration.priors)} parameters "
        f"({', '.join(p.name for p in calibration.priors)}); targets: {targets}; held out: {held_out}; "
        f"{calibration.spec.abc.particles} particles, {calibration.base.run.household_count:,} households "
        f"to {calibration.base.calendar.end_date}"
    )
    return EXIT_OK


def command_validate_experiment(args: argparse.Namespace) -> int:
    """`povsim validate EXPERIMENT`: load and check an experiment, print what it would run."""
    from povsim.experiments import load_experiment

    if args.assignments:
        raise problem("--set", "", "applies to scenario files, not experiments", args.assignments[0])
    experiment = load_experiment(args.file)
    design = experiment.design
    print(
        f"{args.file}: valid experiment {experiment.name!r}: {design.method} design, "
        f"{len(design.points):,} points x {experiment.replicates} replicates = {experiment.run_count:,} runs "
        f"of scenario {experiment.base.name!r} ({experiment.base.run.household_count:,} households, "
        f"to {experiment.base.calendar.end_date}); outcomes: {', '.join(o.name for o in experiment.outcomes)}"
    )
    return EXIT_OK


def command_sweep(args: argparse.Namespace) -> int:
    """`povsim sweep EXPERIMENT`: run what is not yet recorded, then write tables and figures."""
    from povsim.experiments import WorkerLost, load_experiment, run_sweep
    from povsim.experiments.executors import default_workers

    if args.workers is not None and args.workers < 1:
        raise problem("--workers", "", "expected a positive number of processes", args.workers)
    if args.batch_size is not None and args.batch_size < 1:
        raise problem("--batch-size", "", "expected a positive number of runs per task", args.batch_size)
    experiment = load_experiment(args.experiment)
    out = args.out or Path("results") / experiment.name
    workers = args.workers or default_workers()
    try:
        report = run_sweep(
            experiment,
            out,
            workers=workers,
            scheduler=args.scheduler,
            resume=args.resume,
            batch_size=args.batch_size,
            progress=not args.quiet,
            command=["povsim", *args.argv],
        )
    except KeyboardInterrupt:
        return interrupted(out, "runs")
    except WorkerLost as error:
        print(f"povsim: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    if not args.quiet:
        print_sweep_headline(experiment, report)
    print_sweep_failures(report)
    analysis = report.analysis
    problems = analysis.outcome_problems if analysis else {}
    for name, reason in problems.items():
        path = next(o.path for o in experiment.outcomes if o.name == name)
        print(
            f"povsim: error: {experiment.file}: outcomes.{name} = {path!r}: no run holds it: {reason}; "
            "fix the path and run again with --resume (nothing is rerun)",
            file=sys.stderr,
        )
    if problems:
        return EXIT_BAD_INPUT
    if analysis is not None and len(analysis.runs) and not (analysis.runs["status"] == "ok").any():
        print("povsim: error: every run failed; see the errors above", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def interrupted(out: Path, what: str) -> int:
    """Say that a resumable command was interrupted and how to go on; return the exit code."""
    print(
        f"povsim: interrupted; the {what} finished so far are kept in {out}{os.sep}: "
        "run the same command with --resume to go on",
        file=sys.stderr,
    )
    return 130


def print_sweep_headline(experiment: Experiment, report: SweepReport) -> None:
    """What a sweep did, each outcome's range over the design, failures, and where outputs are."""
    points = len(experiment.design.points)
    if report.executed:
        done = f"{report.executed:,} done now in {report.seconds:.1f} s on {report.executor}"
        done += f", {report.before:,} already recorded" if report.before else ""
    else:
        done = "all already recorded; tables and figures rewritten"
    print(
        f"sweep {experiment.name!r}: {report.total:,} runs ({points:,} points x {experiment.replicates} "
        f"replicates); {done}"
    )
    analysis = report.analysis
    if analysis is not None and not analysis.points.empty:
        for outcome in experiment.outcomes:
            means = analysis.points.loc[analysis.points["outcome"] == outcome.name, "mean"]
            if len(means):
                low, high = means.min(), means.max()
                print(f"  {outcome.name} ({outcome.path}): point means from {low:.4g} to {high:.4g}")
    print(
        f"outputs: {report.out}{os.sep} (manifest.json, design.csv, runs/, tables/outcomes.csv, "
        "tables/points.csv, figures/)"
    )


def print_sweep_failures(report: SweepReport) -> None:
    """Runs that raised: how many, and the first few errors (printed even with --quiet)."""
    if not report.failed:
        return
    print(
        f"povsim: {report.failed:,} of {report.total:,} runs failed and were recorded with their errors "
        f"(status 'error' in {report.out / 'tables' / 'runs.csv'}); the others are complete",
        file=sys.stderr,
    )
    for point, replicate, error in report.first_errors:
        print(f"  point {point}, replicate {replicate}: {error}", file=sys.stderr)


def print_headline(scenario: Scenario, summary: dict, out: Path, seconds: float) -> None:
    """A few lines a user reads first: the targeted rate at key reviews, and where outputs are."""
    measure = summary["measure"].replace("_", " ")
    print(
        f"scenario {scenario.name!r}: {summary['replicates']} replicates of "
        f"{summary['households']:,} households in {seconds:.1f} s{posterior_note(scenario)}"
    )
    for year, entry in summary["reviews"].items():
        rate = entry["measure_rate"]
        observed = summary["observed_measure_rate"].get(year)
        seen = f"   observed {100 * observed:.2f} %" if observed is not None else ""
        print(
            f"  end-{year} review, {measure}: {100 * rate['mean']:5.2f} % "
            f"(90 % band {100 * rate['p05']:.2f}-{100 * rate['p95']:.2f}){seen}"
        )
    written = sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir())
    print(f"outputs: {out}{os.sep} ({', '.join(written)})")


if __name__ == "__main__":
    sys.exit(main())
