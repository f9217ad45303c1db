"""`povsim sweep`: every run once, seeds, executors agree, failures recorded, kill and resume."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SCENARIOS, grid_experiment_head, write
from povsim.cli import main
from povsim.experiments import load_experiment, run_sweep
from povsim.experiments.store import SweepStore
from povsim.experiments.sweep import BatchSizer
from povsim.model import replicate_seed
from povsim.runner import RunResult, run_one
from povsim.scenario import InputError

BASELINE = (SCENARIOS / "baseline.toml").as_posix()

TINY = (
    grid_experiment_head(20211231)
    + """
[parameters.illness]
path = "shocks.illness_prob_per_month"
levels = [0.004, 0.02]

[outcomes]
poor = "reviews.2023.poor_or_near_poor_rate"
measure = "reviews.2023.measure_rate"
minority_poor = "reviews.2023.ethnic_minority.poor_rate"
relapsed = "review:2022-2023:relapsed"
"""
)
TINY_RUNS = {(p, r) for p in range(4) for r in range(2)}


def tiny(tmp_path, text=TINY, name="tiny.toml"):
    return load_experiment(write(tmp_path / name, text))


def tidy(out):
    """The tidy outcome table, the part that must not depend on how the runs were executed."""
    table = pd.read_parquet(out / "tables" / "outcomes.parquet")
    return table.sort_values(["point", "replicate", "outcome"]).reset_index(drop=True)


def recorded_pairs(out):
    pairs = []
    for path in SweepStore(out).batch_files():
        table = pq.read_table(path, columns=["point", "replicate"])
        pairs += zip(table.column("point").to_pylist(), table.column("replicate").to_pylist(), strict=True)
    return pairs


@pytest.fixture(scope="module")
def inline(tmp_path_factory):
    """The tiny experiment swept in this process: the reference for the other executors."""
    folder = tmp_path_factory.mktemp("inline")
    experiment = tiny(folder)
    report = run_sweep(experiment, folder / "out", workers=1)
    return experiment, report, folder / "out"


def test_every_run_recorded_once_with_its_seed(inline):
    _, report, out = inline
    assert report.total == report.executed == 8
    assert report.failed == 0
    pairs = recorded_pairs(out)
    assert sorted(pairs) == sorted(TINY_RUNS)
    runs = pd.read_parquet(out / "tables" / "runs.parquet")
    assert len(runs) == 8
    for row in runs.itertuples():
        seed = replicate_seed(20211231, row.replicate)
        assert row.seed_entropy == str(seed.entropy)
        assert row.spawn_key == " ".join(map(str, seed.spawn_key))
        assert row.status == "ok"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"] == {"runs": 8, "recorded": 8, "ok": 8, "error": 0, "pending": 0}
    assert manifest["seeds"]["replicates"] == [
        {"replicate": 0, "entropy": "20211231", "spawn_key": [0]},
        {"replicate": 1, "entropy": "20211231", "spawn_key": [1]},
    ]
    assert len(manifest["design"]["values"]) == 4
    session = manifest["sessions"][0]
    assert session["status"] == "complete"
    assert session["software"]["numpy"]


def test_tables_and_figures(inline):
    experiment, _, out = inline
    table = tidy(out)
    assert len(table) == 8 * 4
    assert set(table["outcome"]) == {"poor", "measure", "minority_poor", "relapsed"}
    assert table["value"].notna().all()
    points = pd.read_csv(out / "tables" / "points.csv")
    assert len(points) == 4 * 4
    assert (points["runs"] == 2).all()
    for name in ("poor", "measure", "minority_poor", "relapsed"):
        png = out / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "design.csv").read_text().splitlines()[0] == "point,growth,illness"
    assert (out / "experiment.toml").read_text() == experiment.text
    assert not list(out.rglob(".tmp-*"))


def test_run_is_povsim_run_replicate_with_the_master_seed(inline):
    """Run (point p, replicate r) is `run_one(point scenario, r)`: replicate r's stream at every point."""
    experiment, _, out = inline
    table = tidy(out)
    for point, replicate in ((0, 1), (3, 0)):
        result = run_one(experiment.point_scenario(point), replicate)
        row = next(r for r in result.reviews if r["year"] == 2023)
        mine = table[(table["point"] == point) & (table["replicate"] == replicate)].set_index("outcome")[
            "value"
        ]
        assert mine["poor"] == row["poor_or_near_poor_rate"]
        assert mine["measure"] == row["poor_or_near_poor_rate"]  # the baseline's measure
        assert mine["minority_poor"] == row["ethnic_minority_poor_rate"]
        relapsed = sum(r["relapsed"] for r in result.reviews if r["year"] in (2022, 2023))
        assert mine["relapsed"] == relapsed


def test_common_random_numbers_pair_the_points(inline):
    """The same replicate draws the same stream at every point: its population is the same at 2021."""
    experiment, _, _ = inline
    start = [run_one(experiment.point_scenario(p), 1).reviews[0] for p in (0, 3)]
    assert start[0] == start[1]
    other = run_one(experiment.point_scenario(0), 0).reviews[0]
    assert other != start[0]


def test_executors_give_identical_numbers(inline, tmp_path):
    experiment, _, out = inline
    reference = tidy(out)
    run_sweep(experiment, tmp_path / "pool", workers=2, batch_size=3)
    pd.testing.assert_frame_equal(tidy(tmp_path / "pool"), reference)

    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        report = run_sweep(experiment, tmp_path / "dask", scheduler=address, batch_size=1)
    assert report.executor.startswith(f"dask scheduler {address}")
    pd.testing.assert_frame_equal(tidy(tmp_path / "dask"), reference)


def flaky_run(scenario, replicate):
    """run_one, except that one corner of the design raises."""
    if scenario.economy.nominal_income_growth_per_year > 0.1 and replicate == 1:
        raise ValueError("boom: a model error")
    return run_one(scenario, replicate)


@pytest.mark.parametrize("workers", [1, 2])
def test_failing_run_is_recorded_and_the_sweep_goes_on(inline, tmp_path, workers):
    experiment, _, out = inline
    report = run_sweep(experiment, tmp_path / "flaky", workers=workers, run_function=flaky_run)
    assert report.executed == 8
    assert report.failed == 2
    runs = pd.read_parquet(tmp_path / "flaky" / "tables" / "runs.parquet")
    failed = runs[runs["status"] == "error"]
    assert sorted(zip(failed["point"], failed["replicate"], strict=True)) == [(2, 1), (3, 1)]
    assert failed["error"].str.contains("ValueError: boom").all()
    assert failed["traceback"].str.contains("in flaky_run").all()
    mine = tidy(tmp_path / "flaky")
    ok = mine["status"] == "ok"
    assert mine.loc[~ok, "value"].isna().all()
    pd.testing.assert_series_equal(mine.loc[ok, "value"], tidy(out).loc[ok, "value"])
    manifest = json.loads((tmp_path / "flaky" / "manifest.json").read_text())
    assert manifest["counts"]["error"] == 2
    assert manifest["status"] == "complete"
    # A failed run finished: resuming does not rerun it.
    again = run_sweep(experiment, tmp_path / "flaky", workers=1, resume=True)
    assert again.executed == 0


def test_existing_sweep_needs_resume_and_the_same_experiment(inline, tmp_path, capsys):
    _, _, out = inline
    path = write(tmp_path / "tiny.toml", TINY)
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    assert "already holds a sweep (8 of 8 runs recorded); pass --resume" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    other = write(tmp_path / "other.toml", TINY.replace("master_seed = 20211231", "master_seed = 1"))
    assert main(["sweep", str(other), "--out", str(out), "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "master seed changed" in err
    assert "Traceback" not in err


def test_a_locked_folder_is_refused(inline, tmp_path):
    experiment, _, out = inline
    holder = SweepStore(out)
    holder.lock()
    try:
        with pytest.raises(InputError, match="is being written by another povsim sweep"):
            run_sweep(experiment, out, workers=1, resume=True)
    finally:
        holder.unlock()


def test_more_replicates_on_resume_runs_only_the_new_ones(inline, tmp_path):
    experiment, _, out = inline
    one = tiny(tmp_path, TINY.replace("replicates = 2", "replicates = 1"), "one.toml")
    first = run_sweep(one, tmp_path / "grow", workers=1)
    assert first.executed == 4
    second = run_sweep(experiment, tmp_path / "grow", workers=1, resume=True)
    assert (second.before, second.executed) == (4, 4)
    pd.testing.assert_frame_equal(tidy(tmp_path / "grow"), tidy(out))


def test_missing_outcome_is_reported_and_fixed_without_rerunning(inline, tmp_path, capsys):
    _, _, out = inline
    wrong = TINY.replace('relapsed = "review:2022-2023:relapsed"', 'relapsed = "review:2022-2023:relapsd"')
    path = write(tmp_path / "tiny.toml", wrong)
    sweep = tmp_path / "missing"
    assert main(["sweep", str(path), "--out", str(sweep), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "warning" in err
    assert "not found in the first run" in err
    assert f"{path}: outcomes.relapsed = 'review:2022-2023:relapsd': no run holds it" in err
    assert "no column 'relapsd'" in err
    files = SweepStore(sweep).batch_files()
    stamps = {p.name: p.stat().st_mtime_ns for p in files}
    write(tmp_path / "tiny.toml", TINY)
    assert main(["sweep", str(path), "--out", str(sweep), "--workers", "1", "--quiet", "--resume"]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in SweepStore(sweep).batch_files()} == stamps
    pd.testing.assert_frame_equal(tidy(sweep), tidy(out))


def test_ledger_totals_are_outcomes(tmp_path):
    if "ledger" not in {f.name for f in dataclasses.fields(RunResult)}:
        pytest.skip("this model keeps no ledger")
    text = TINY.replace(
        'relapsed = "review:2022-2023:relapsed"', 'loans = "ledger.preferential_loans.total.vnd"'
    )
    experiment = tiny(tmp_path, text)
    run_sweep(experiment, tmp_path / "out", workers=1, figures=False)
    table = tidy(tmp_path / "out")
    row = table[(table["point"] == 1) & (table["replicate"] == 0) & (table["outcome"] == "loans")]
    result = run_one(experiment.point_scenario(1), 0)
    expected = sum(r["vnd"] for r in result.ledger if r["instrument"] == "preferential_loans")
    assert row["value"].item() == pytest.approx(expected, rel=1e-12)


def linear_model(scenario, replicate):
    """A stand-in model whose outcome depends strongly on growth and weakly on illness."""
    growth = scenario.economy.nominal_income_growth_per_year
    illness = scenario.shocks.illness_prob_per_month
    noise = np.random.default_rng(replicate_seed(scenario.run.master_seed, replicate)).normal(0, 1e-4)
    value = 3.0 * growth + 0.5 * illness + noise
    fields = {f.name for f in dataclasses.fields(RunResult)}
    extra = {"ledger": []} if "ledger" in fields else {}
    return RunResult(
        replicate=replicate,
        seed_entropy=scenario.run.master_seed,
        spawn_key=(replicate,),
        reviews=[{"year": year, "score": value} for year in (2021, 2022, 2023)],
        monthly=[],
        seconds=0.0,
        **extra,
    )


SENSITIVITY = f"""
name = "sens"
scenario = "{BASELINE}"
master_seed = 3
replicates = 2

[overrides]
calendar.end_date = 2023-12-31

[design]
method = "{{method}}"
points = {{points}}

[parameters.growth]
path = "economy.nominal_income_growth_per_year"
low = 0.0
high = 0.2

[parameters.illness]
path = "shocks.illness_prob_per_month"
low = 0.0
high = 0.02

[outcomes]
score = "review:2023:score"
"""


@pytest.mark.parametrize(("method", "points", "index"), [("sobol", 64, "S1"), ("morris", 10, "mu_star")])
def test_sensitivity_indices_rank_the_parameters(tmp_path, method, points, index):
    experiment = tiny(tmp_path, SENSITIVITY.format(method=method, points=points))
    run_sweep(experiment, tmp_path / "out", workers=1, run_function=linear_model)
    table = pd.read_csv(tmp_path / "out" / "tables" / "sensitivity.csv")
    values = table[table["index"] == index].set_index("parameter")
    assert values.loc["growth", "value"] > 10 * abs(values.loc["illness", "value"])
    assert (values["conf_low"] <= values["value"]).all()
    assert (values["value"] <= values["conf_high"]).all()
    if method == "sobol":
        # Variance shares of a linear model: growth's range of 0.6 against illness's 0.01.
        assert values.loc["growth", "value"] == pytest.approx(1.0, abs=0.1)
        total = table[table["index"] == "ST"].set_index("parameter")
        assert total.loc["growth", "value"] == pytest.approx(1.0, abs=0.1)
    assert (tmp_path / "out" / "figures" / "sensitivity_score.png").is_file()


def test_batch_sizes_follow_run_time():
    import pyarrow as pa

    fixed = BatchSizer(5, slots=2)
    assert fixed.next_size(100) == 5
    sizer = BatchSizer(None, slots=2)
    assert sizer.next_size(1000) == 1
    sizer.record(pa.table({"seconds": [0.01] * 4}))
    assert sizer.next_size(10_000) == 100  # about a second of work
    assert sizer.next_size(40) == 10  # but enough batches to keep both workers busy
    slow = BatchSizer(None, slots=2)
    slow.record(pa.table({"seconds": [3.0]}))
    assert slow.next_size(1000) == 1


KILLABLE = (
    TINY.replace("run.household_count = 500", "run.household_count = 3000")
    .replace("levels = [0.03, 0.12]", "levels = [0.03, 0.06, 0.09, 0.12, 0.15]")
    .replace("replicates = 2", "replicates = 6")
)


def test_sweep_killed_with_sigkill_resumes_to_identical_results(tmp_path):
    """Kill a sweep (and its workers) mid-way, resume it: exactly the expected runs, same numbers."""
    path = write(tmp_path / "kill.toml", KILLABLE)
    experiment = load_experiment(path)
    total = experiment.run_count
    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = [sys.executable, "-m", "povsim", "sweep", str(path), "--out", str(killed)]
    process = subprocess.Popen(
        [*command, "--workers", "2", "--batch-size", "1", "--quiet"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(SweepStore(killed).batch_files()) >= 4:
            break
        time.sleep(0.01)
    assert process.poll() is None, process.stderr.read().decode()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = len(recorded_pairs(killed))
    assert 0 < before < total, before

    assert main([*command[3:], "--workers", "1", "--quiet", "--resume"]) == 0
    pairs = recorded_pairs(killed)
    assert len(pairs) == len(set(pairs)) == total
    assert set(pairs) == {(p, r) for p in range(len(experiment.design.points)) for r in range(6)}
    manifest = json.loads((killed / "manifest.json").read_text())
    assert [s["status"] for s in manifest["sessions"]] == ["did not finish", "complete"]
    assert manifest["sessions"][1]["runs_executed"] == total - before
    assert not list(killed.rglob(".tmp-*"))

    run_sweep(experiment, tmp_path / "whole", workers=1)
    pd.testing.assert_frame_equal(tidy(killed), tidy(tmp_path / "whole"))


@pytest.mark.slow
def test_cli_dask_local_cluster_matches_a_process_pool(tmp_path):
    path = write(tmp_path / "tiny.toml", TINY)
    assert main(["sweep", str(path), "--out", str(tmp_path / "pool"), "--workers", "2", "--quiet"]) == 0
    assert (
        main(
            [
                "sweep",
                str(path),
                "--out",
                str(tmp_path / "dask"),
                "--scheduler",
                "local",
                "--workers",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    pd.testing.assert_frame_equal(tidy(tmp_path / "dask"), tidy(tmp_path / "pool"))
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["sessions"][0]["executor"].startswith("dask LocalCluster")


def test_unreachable_scheduler_is_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("povsim.experiments.executors.DASK_CONNECT_SECONDS", 2.0)
    path = write(tmp_path / "tiny.toml", TINY)
    code = main(
        ["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9", "--quiet"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--scheduler = 'tcp://127.0.0.1:9': cannot reach a Dask scheduler" in err
    assert not (tmp_path / "o").exists()


def test_list_valued_parameter_is_tabulated_as_text(tmp_path):
    text = TINY.replace("levels = [0.03, 0.12]", "levels = [0.03]").replace(
        '[parameters.illness]\npath = "shocks.illness_prob_per_month"\nlevels = [0.004, 0.02]',
        '[parameters.groups]\npath = "instruments.health_insurance.eligible_groups"\n'
        'levels = [["poor"], ["poor", "near_poor"]]',
    )
    experiment = tiny(tmp_path, text.replace("replicates = 2", "replicates = 1"))
    assert [p["groups"] for p in experiment.design.points] == [["poor"], ["poor", "near_poor"]]
    run_sweep(experiment, tmp_path / "out", workers=1)
    table = tidy(tmp_path / "out")
    assert set(table["groups"]) == {'["poor"]', '["poor", "near_poor"]'}
    assert (tmp_path / "out" / "figures" / "poor.png").is_file()
