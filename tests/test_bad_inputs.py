"""Every file in the bad-input corpus gives a clear message, exit code 2, and writes nothing.

Each file under tests/data/bad/ is wrong in one way a person would be; expectations.toml
beside them says which key path the message must name and words it must contain.
"""

import tomllib
from pathlib import Path

import pytest

from povsim.cli import main

BAD = Path(__file__).parent / "data" / "bad"
EXPECTATIONS = tomllib.loads((BAD / "expectations.toml").read_text(encoding="utf-8"))
SCENARIOS = sorted(name for name, e in EXPECTATIONS.items() if e.get("kind", "scenario") == "scenario")
EXPERIMENTS = sorted(name for name, e in EXPECTATIONS.items() if e.get("kind") == "experiment")
CALIBRATIONS = sorted(name for name, e in EXPECTATIONS.items() if e.get("kind") == "calibration")


def test_corpus_is_complete():
    files = {p.name for p in BAD.iterdir() if p.suffix == ".toml" and p.name != "expectations.toml"}
    assert files == set(EXPECTATIONS)
    assert len(files) >= 40


def check_message(err: str, name: str) -> None:
    expected = EXPECTATIONS[name]
    assert "Traceback" not in err
    first = [line for line in err.splitlines() if line.startswith("povsim: error: ")]
    assert first, err
    assert any(name in line for line in first), err
    assert any(expected["key"] in line for line in first), err
    for word in expected["words"]:
        assert word in err, err


@pytest.mark.parametrize("name", SCENARIOS + EXPERIMENTS + CALIBRATIONS)
def test_validate_reports_the_problem(name, capsys):
    assert main(["validate", str(BAD / name)]) == 2
    check_message(capsys.readouterr().err, name)


@pytest.mark.parametrize("name", SCENARIOS)
def test_run_refuses_and_writes_nothing(name, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(BAD / name), "--out", str(out), "--quiet"]) == 2
    check_message(capsys.readouterr().err, name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_sweep_refuses_and_writes_nothing(name, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(BAD / name), "--out", str(out), "--workers", "1"]) == 2
    check_message(capsys.readouterr().err, name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", CALIBRATIONS)
def test_calibrate_refuses_and_writes_nothing(name, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["calibrate", str(BAD / name), "--out", str(out), "--workers", "1"]) == 2
    check_message(capsys.readouterr().err, name)
    assert list(tmp_path.iterdir()) == []


def test_no_code_path_unpickles_or_executes_inputs():
    """Inputs and results are data: nothing in the package unpickles, evals or execs them."""
    source = Path(__file__).parent.parent / "src" / "povsim"
    forbidden = ("pickle.load", "pickle.loads", "eval(", "exec(", "yaml.load(", "marshal.load")
    for path in source.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in forbidden:
            assert word not in text, f"{path}: {word}"
