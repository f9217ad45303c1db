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

from povsim.scenario import InputError, Scenario, load_scenario
from povsim.scenario.errors import problem

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
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary lines")

    validate = commands.add_parser("validate", help="check a scenario file; exit 0 or 2")
    validate.add_argument("file", type=Path, help="scenario TOML file")
    validate.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value by dotted path before checking",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `povsim` console command."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command == "run":
            return command_run(args)
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
        f"replicates, to {scenario.calendar.end_date})"
    )
    return EXIT_OK


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
    results = run_replicates(scenario, workers=args.workers, progress=not args.quiet)
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


def print_headline(scenario: Scenario, summary: dict, out: Path, seconds: float) -> None:
    """A few lines a user reads first: the targeted rate at key reviews, and where outputs are."""
    measure = summary["measure"].replace("_", " ")
    print(
        f"scenario {scenario.name!r}: {summary['replicates']} replicates of "
        f"{summary['households']:,} households in {seconds:.1f} s"
    )
    for year, entry in summary["reviews"].items():
        rate = entry["measure_rate"]
        observed = summary["observed_measure_rate"].get(year)
        seen = f"   observed {100 * observed:.2f} %" if observed is not None else ""
        print(
            f"  end-{year} review, {measure}: {100 * rate['mean']:5.2f} % "
            f"(90 % band {100 * rate['p05']:.2f}-{100 * rate['p95']:.2f}){seen}"
        )
    print(
        f"outputs: {out}{os.sep} (summary.json, reviews.parquet, monthly.parquet, "
        "manifest.json, figures/poverty_path.png)"
    )


if __name__ == "__main__":
    sys.exit(main())
