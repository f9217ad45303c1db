"""`povsim run` end to end on a small population: outputs, reproducibility, bad input, atomicity."""

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SCENARIOS, write
from povsim import plots
from povsim.cli import main
from povsim.policies import INSTRUMENT_IDS

BASELINE = str(SCENARIOS / "baseline.toml")
SMALL = ["--households", "600", "--replicates", "3", "--quiet"]
REVIEW_YEARS = [str(y) for y in range(2021, 2031)]


def same_table(a, b) -> bool:
    """Tables equal cell by cell, NaN equal to NaN (rates undefined under a standard)."""
    return pq.read_table(a).to_pandas().equals(pq.read_table(b).to_pandas())


def run_cli(out, *extra):
    return main(["run", BASELINE, "--out", str(out), *SMALL, *extra])


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "baseline"
    assert run_cli(out) == 0
    return out


def test_contract_outputs_exist(result):
    for name in (
        "manifest.json",
        "reviews.parquet",
        "monthly.parquet",
        "summary.json",
        "figures/poverty_path.png",
    ):
        assert (result / name).is_file(), name
    assert (result / "figures/poverty_path.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tables_have_one_row_per_replicate_and_period(result):
    reviews = pq.read_table(result / "reviews.parquet").to_pylist()
    monthly = pq.read_table(result / "monthly.parquet").to_pylist()
    assert len(reviews) == 3 * 10
    assert len(monthly) == 3 * (108 + 1)
    assert sorted({(r["replicate"], r["year"]) for r in reviews}) == [
        (rep, year) for rep in range(3) for year in range(2021, 2031)
    ]


def test_summary_is_computed_from_the_stored_table(result):
    summary = json.loads((result / "summary.json").read_text())
    reviews = pq.read_table(result / "reviews.parquet").to_pylist()
    assert list(summary["reviews"]) == REVIEW_YEARS
    assert summary["measure"] == "poor_or_near_poor"
    assert summary["replicates"] == 3
    for year, entry in summary["reviews"].items():
        rows = [r for r in reviews if r["year"] == int(year)]
        for field in (
            "poor_rate",
            "near_poor_rate",
            "poor_or_near_poor_rate",
            "escaped",
            "relapsed",
            "newly_poor",
        ):
            values = np.array([r[field] for r in rows], dtype=float)
            assert entry[field]["mean"] == pytest.approx(values.mean())
            assert entry[field]["p05"] == pytest.approx(np.percentile(values, 5))
            assert entry[field]["p95"] == pytest.approx(np.percentile(values, 95))
            assert entry[field]["p05"] <= entry[field]["mean"] <= entry[field]["p95"]
        minority = np.array([r["ethnic_minority_poor_rate"] for r in rows])
        assert entry["ethnic_minority"]["poor_rate"]["mean"] == pytest.approx(minority.mean())
        assert entry["measure_rate"] == entry["poor_or_near_poor_rate"]
    ledger = pq.read_table(result / "ledger.parquet").to_pylist()
    assert set(summary["ledger"]) == set(INSTRUMENT_IDS)
    for instrument, entry in summary["ledger"].items():
        rows = [r for r in ledger if r["instrument"] == instrument]
        for year in range(2022, 2031):
            values = [r for r in rows if r["year"] == year]
            assert len(values) == 3
            assert entry[str(year)]["vnd"] == pytest.approx(np.mean([r["vnd"] for r in values]))
            assert entry[str(year)]["units"] == pytest.approx(np.mean([r["units"] for r in values]))
        assert entry["total"]["vnd"] == pytest.approx(sum(r["vnd"] for r in rows) / 3)


def test_manifest_records_seeds_versions_and_scenario(result):
    manifest = json.loads((result / "manifest.json").read_text())
    seeds = manifest["seeds"]
    assert seeds["master_seed"] == 20211231
    assert [r["spawn_key"] for r in seeds["replicates"]] == [[0], [1], [2]]
    assert all(r["entropy"] == 20211231 for r in seeds["replicates"])
    assert len(manifest["scenario_hash_sha256"]) == 64
    assert manifest["scenario"]["run"]["household_count"] == 600
    assert manifest["software"]["mesa"].startswith("3.")
    assert "git_revision" in manifest
    assert len(manifest["timings_seconds"]["replicates"]) == 3
    assert manifest["command"][:2] == ["povsim", "run"]


def test_same_seed_identical_outputs_and_other_seed_differs(result, tmp_path):
    assert run_cli(tmp_path / "again") == 0
    assert same_table(tmp_path / "again/reviews.parquet", result / "reviews.parquet")
    assert same_table(tmp_path / "again/monthly.parquet", result / "monthly.parquet")
    assert (tmp_path / "again/summary.json").read_text() == (result / "summary.json").read_text()
    assert run_cli(tmp_path / "other", "--seed", "99") == 0
    assert not same_table(tmp_path / "other/reviews.parquet", result / "reviews.parquet")


def test_workers_do_not_change_the_numbers(result, tmp_path):
    assert run_cli(tmp_path / "parallel", "--workers", "2") == 0
    assert same_table(tmp_path / "parallel/reviews.parquet", result / "reviews.parquet")


def test_default_output_folder_and_rerun_replaces_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", BASELINE, *SMALL]) == 0
    first = (tmp_path / "results/baseline/manifest.json").read_text()
    assert main(["run", BASELINE, *SMALL, "--seed", "3"]) == 0
    second = json.loads((tmp_path / "results/baseline/manifest.json").read_text())
    assert second["seeds"]["master_seed"] == 3 != json.loads(first)["seeds"]["master_seed"]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["baseline"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--set", "economy.nominal_income_growth_per_yr=0.1"], ["did you mean"]),
        (["--replicates", "0"], ["run.replicate_count = 0"]),
        (["--households", "10"], ["run.household_count = 10"]),
        (["--workers", "0"], ["--workers"]),
    ],
)
def test_bad_input_exit_2_and_nothing_written(tmp_path, capsys, args, words):
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--out", str(out), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_replace_a_folder_that_is_not_a_result(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    write(out / "notes.txt", "precious")
    assert run_cli(out) == 2
    assert "does not hold povsim results" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "precious"


def test_failure_while_writing_leaves_previous_results_and_no_debris(result, tmp_path, monkeypatch):
    out = tmp_path / "keep"
    assert run_cli(out) == 0
    before = (out / "summary.json").read_text()

    def broken(*args, **kwargs):
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(plots, "poverty_path", broken)
    with pytest.raises(RuntimeError):
        run_cli(out, "--seed", "8")
    assert (out / "summary.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


def test_unwritable_destination_is_a_clear_error(tmp_path, capsys):
    if os.geteuid() == 0:
        target = "/proc/povsim-results"  # not writable even for root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = str(locked / "out")
    assert main(["run", BASELINE, "--out", target, *SMALL]) == 1
    err = capsys.readouterr().err
    assert "cannot write results" in err
    assert "Traceback" not in err


def test_console_command_reports_bad_input_without_traceback(tmp_path):
    bad = write(tmp_path / "bad.toml", 'extends = "missing.toml"\n')
    done = subprocess.run(
        [sys.executable, "-m", "povsim", "run", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{bad}: extends = 'missing.toml'" in done.stderr
    assert not (tmp_path / "o").exists()


def test_household_panel_agrees_with_the_review_table(tmp_path):
    out = tmp_path / "panel"
    assert run_cli(out, "--household-panel") == 0
    panel = pq.read_table(out / "households.parquet").to_pandas()
    reviews = pq.read_table(out / "reviews.parquet").to_pandas()
    assert len(panel) == 3 * 600
    for _, row in reviews.iterrows():
        mine = panel[panel["replicate"] == row["replicate"]]
        status = mine[f"status_{row['year']}"]
        assert (status == 0).mean() == pytest.approx(row["poor_rate"])
        assert status.isin([0, 1]).mean() == pytest.approx(row["poor_or_near_poor_rate"])
    ledger = pq.read_table(out / "ledger.parquet").to_pandas()
    for instrument in INSTRUMENT_IDS:
        spent = ledger[ledger["instrument"] == instrument].groupby("replicate")["vnd"].sum()
        received = panel.groupby("replicate")[f"support_vnd_{instrument}"].sum()
        np.testing.assert_allclose(received.values, spent.values)
    assert (panel["relapse_count"] >= 0).all()


def test_abandoned_staging_folders_of_killed_runs_are_removed(tmp_path):
    out = tmp_path / "res"
    dead = tmp_path / ".res.tmp-999999999"
    (dead / "figures").mkdir(parents=True)
    (dead / "summary.json").write_text("{")
    unrelated = tmp_path / ".other.tmp-999999999"
    unrelated.mkdir()
    assert run_cli(out) == 0
    assert not dead.exists()
    assert unrelated.exists()
    assert (out / "summary.json").is_file()


def test_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import errno

    import pyarrow.parquet

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "reviews.parquet")

    monkeypatch.setattr(pyarrow.parquet, "write_table", no_space)
    assert run_cli(tmp_path / "full") == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_headline_names_the_files_written(tmp_path, capsys):
    out = tmp_path / "loud"
    assert main(["run", BASELINE, "--out", str(out), "--households", "600", "--replicates", "2"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"outputs: {out}")
    for name in (
        "summary.json",
        "reviews.parquet",
        "monthly.parquet",
        "ledger.parquet",
        "manifest.json",
        "figures/",
    ):
        assert name in last
