"""Faults lose nothing: a run killed at any moment leaves a complete result or none.

`povsim run` is started in a subprocess and killed with SIGKILL at moments spread over an
uninterrupted run's duration (start-up, simulation, writing). After each kill the output
folder either does not exist or holds a complete, readable result; a rerun completes it,
and no staging folder is left behind.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SCENARIOS

CONTRACT_FILES = ("manifest.json", "summary.json", "reviews.parquet", "monthly.parquet", "ledger.parquet")
REPLICATES = 4


def start_run(out):
    command = [
        sys.executable,
        "-m",
        "povsim",
        "run",
        str(SCENARIOS / "baseline.toml"),
        "--out",
        str(out),
        "--households",
        "3000",
        "--replicates",
        str(REPLICATES),
        "--quiet",
    ]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def assert_complete(out):
    for name in CONTRACT_FILES:
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert manifest["scenario"]["run"]["replicate_count"] == REPLICATES
    assert summary["replicates"] == REPLICATES
    assert pq.read_table(out / "reviews.parquet").num_rows == REPLICATES * 10
    assert (out / "figures" / "poverty_path.png").stat().st_size > 0


def kill_at(out, seconds):
    process = start_run(out)
    time.sleep(seconds)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return process.returncode


@pytest.fixture(scope="module")
def duration(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "run"
    started = time.perf_counter()
    process = start_run(out)
    assert process.wait() == 0, process.stderr.read().decode()
    assert_complete(out)
    return time.perf_counter() - started


def check_kill_points(tmp_path, duration, fractions):
    outcomes = []
    for i, fraction in enumerate(fractions):
        out = tmp_path / f"run{i}"
        code = kill_at(out, fraction * duration)
        if out.exists():
            assert_complete(out)
            outcomes.append("complete")
        else:
            outcomes.append("none")
        # Resuming is running again: it completes and cleans up after the killed run.
        assert start_run(out).wait() == 0
        assert_complete(out)
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".run{i}.")]
        assert leftovers == [], leftovers
        assert code in (0, -signal.SIGKILL)
    return outcomes


def test_killed_run_leaves_a_complete_result_or_none(tmp_path, duration):
    check_kill_points(tmp_path, duration, (0.6, 0.97))


@pytest.mark.slow
def test_killed_run_at_many_moments(tmp_path, duration):
    fractions = [0.05 * k for k in range(1, 21)] + [0.96, 0.98, 0.99, 1.01]
    outcomes = check_kill_points(tmp_path, duration, fractions)
    assert "none" in outcomes


@pytest.mark.slow
def test_dask_worker_dying_mid_sweep_loses_no_run(tmp_path):
    """A Dask worker process killed mid-sweep: its tasks are rerun elsewhere, and the sweep
    ends with every run, numbers identical to an in-process sweep."""
    import threading

    import pandas as pd
    from distributed import LocalCluster

    from povsim.experiments.loading import load_experiment
    from povsim.experiments.sweep import run_sweep

    experiment = load_experiment(ROOT / "experiments" / "smoke.toml")
    run_sweep(experiment, tmp_path / "reference", workers=1, figures=False)
    reference = pd.read_parquet(tmp_path / "reference" / "tables" / "outcomes.parquet")

    out = tmp_path / "dask"
    killed = []
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        pids = [nanny.process.process.pid for nanny in cluster.workers.values()]

        def kill_one_worker_after_first_batch():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if list((out / "runs").glob("s*-b*.parquet")):
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_one_worker_after_first_batch)
        killer.start()
        report = run_sweep(experiment, out, scheduler=cluster.scheduler_address, batch_size=1, figures=False)
        killer.join()
    assert killed, "the sweep ended before a worker could be killed"
    assert report.failed == 0
    result = pd.read_parquet(out / "tables" / "outcomes.parquet")
    key = ["point", "replicate", "outcome"]
    pd.testing.assert_frame_equal(
        result.sort_values(key).reset_index(drop=True)[[*key, "value"]],
        reference.sort_values(key).reset_index(drop=True)[[*key, "value"]],
    )
