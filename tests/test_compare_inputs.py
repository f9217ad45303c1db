"""`povsim compare` on bad input: exit 2, a message naming the file, key and expectation, nothing written."""

import json
import shutil

import pyarrow.parquet as pq
import pytest

from conftest import SCENARIOS
from povsim import load_scenario
from povsim.cli import main
from povsim.results import write_run_outputs
from povsim.runner import run_replicates


def make_run(folder, name="baseline", seed=None, households=600):
    """A tiny run (two reviews) written as `povsim run` writes it."""
    assignments = [
        f"run.household_count={households}",
        "run.replicate_count=2",
        "calendar.end_date=2022-12-31",
    ]
    if seed is not None:
        assignments.append(f"run.master_seed={seed}")
    scenario = load_scenario(SCENARIOS / f"{name}.toml", assignments)
    write_run_outputs(folder, scenario, run_replicates(scenario, progress=False), {"command": ["test"]})
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    return {
        "baseline": make_run(root / "baseline"),
        "ends": make_run(root / "ends", "program_ends_2025"),
        "other_seed": make_run(root / "other_seed", "program_ends_2025", seed=7),
        "other_size": make_run(root / "other_size", "program_ends_2025", households=700),
    }


def refuse(capsys, out, *arguments):
    """Run `povsim compare`, expect exit 2 and nothing written; return the message."""
    code = main(["compare", *map(str, arguments), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("povsim: error: ")
    assert "Traceback" not in err
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}.tmp-*"))
    return err


def test_a_missing_folder(runs, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], missing)
    assert f"{missing}: folder not found" in err
    assert "povsim run" in err


def test_a_folder_that_is_not_a_run(runs, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], empty)
    assert f"{empty}: holds no manifest.json" in err
    afile = tmp_path / "notes.txt"
    afile.write_text("hello")
    err = refuse(capsys, tmp_path / "cmp", afile)
    assert "is a file, not a folder" in err


def test_a_run_with_a_missing_or_broken_table(runs, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(runs["ends"], broken)
    (broken / "reviews.parquet").unlink()
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], broken)
    assert f"{broken / 'reviews.parquet'}: file not found" in err

    table = pq.read_table(runs["ends"] / "reviews.parquet").drop_columns(["poor_rate"])
    pq.write_table(table, broken / "reviews.parquet")
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], broken)
    assert f"{broken / 'reviews.parquet'}: poor_rate: column missing" in err

    (broken / "reviews.parquet").write_bytes(b"not parquet")
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], broken)
    assert "is not a readable Parquet table" in err

    (broken / "manifest.json").write_text("{ not json")
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], broken)
    assert f"{broken / 'manifest.json'}: is not valid JSON" in err

    (broken / "manifest.json").write_text(json.dumps({"scenario_name": "x"}))
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], broken)
    assert f"{broken / 'manifest.json'}: scenario: is missing" in err


def test_mismatched_seeds_cannot_be_paired(runs, tmp_path, capsys):
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], runs["other_seed"])
    assert f"{runs['other_seed'] / 'manifest.json'}: seeds.master_seed = 7" in err
    assert "common random numbers" in err
    assert "--seed 20211231" in err


def test_mismatched_districts_cannot_be_paired(runs, tmp_path, capsys):
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], runs["other_size"])
    assert "scenario.run.household_count = 700" in err
    assert "--households 600" in err


def test_an_unknown_baseline(runs, tmp_path, capsys):
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], runs["ends"], "--baseline", "basline")
    assert "--baseline = 'basline': names no compared scenario" in err
    assert "'baseline', 'program_ends_2025'" in err


def test_an_output_folder_that_is_not_ours(runs, tmp_path, capsys):
    before = sorted(p.name for p in runs["baseline"].iterdir())
    code = main(["compare", str(runs["baseline"]), str(runs["ends"]), "--out", str(runs["baseline"])])
    err = capsys.readouterr().err
    assert code == 2
    assert "--out = " in err
    assert "would replace the compared folder" in err
    assert sorted(p.name for p in runs["baseline"].iterdir()) == before
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("keep me")
    code = main(["compare", str(runs["baseline"]), "--out", str(foreign), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "does not hold a povsim comparison" in err
    assert sorted(p.name for p in foreign.iterdir()) == ["thesis.txt"]


def test_a_folder_given_twice(runs, tmp_path, capsys):
    err = refuse(capsys, tmp_path / "cmp", runs["baseline"], runs["baseline"])
    assert "is given twice" in err


def test_the_baseline_is_chosen_by_label_name_or_folder(runs):
    from povsim.comparison.compare import choose_baseline
    from povsim.comparison.loading import load_inputs

    results = load_inputs([runs["ends"], runs["baseline"]])
    assert choose_baseline(results, None)[0] == "baseline"  # the scenario named baseline, though second
    assert choose_baseline(results, "program_ends_2025")[0] == "program_ends_2025"
    assert choose_baseline(results, "ends")[0] == "program_ends_2025"  # its folder's name
    assert choose_baseline(load_inputs([runs["ends"]]), None)[0] == "program_ends_2025"  # the first
