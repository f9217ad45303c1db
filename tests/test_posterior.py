"""Scenarios with a `[posterior]`: draws by weight, common draws across scenarios, and bad posteriors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from conftest import SCENARIOS, write
from povsim import load_scenario
from povsim.cli import main
from povsim.posterior import load_posterior
from povsim.runner import run_one
from povsim.scenario.loading import with_overrides

GROWTH = "economy.nominal_income_growth_per_year"
ILLNESS = "shocks.illness_prob_per_month"


def posterior_file(path: Path, columns: dict[str, list], metadata: dict[str, str] | None = None) -> Path:
    table = pa.table(columns)
    if metadata:
        table = table.replace_schema_metadata(metadata)
    pq.write_table(table, path)
    return path


@pytest.fixture
def three(tmp_path) -> Path:
    return posterior_file(
        tmp_path / "posterior.parquet",
        {
            "weight": [0.2, 0.3, 0.5],
            f"parameter.{GROWTH}": [0.05, 0.10, 0.15],
            f"parameter.{ILLNESS}": [0.004, 0.008, 0.012],
            "distance": [0.1, 0.2, 0.3],
        },
        {"povsim.calibration": "test"},
    )


def scenario_with(
    tmp_path: Path, posterior: Path, extra: str = "", name: str = "with_posterior.toml"
) -> Path:
    text = f"""
extends = "{SCENARIOS / "baseline.toml"}"
name = "{name.removesuffix(".toml")}"
{extra}
[run]
household_count = 1_000
replicate_count = 2

[calendar]
end_date = 2022-12-31

[posterior]
file = "{os.path.relpath(posterior, tmp_path)}"
"""
    return write(tmp_path / name, text)


def test_draws_follow_the_weights(three):
    sample = load_posterior(three)
    draws = [sample.draw(5, r)[0] for r in range(6_000)]
    counts = np.bincount(draws, minlength=3)
    assert stats.chisquare(counts, 6_000 * np.array([0.2, 0.3, 0.5])).pvalue > 1e-3


def test_a_replicate_draws_the_same_particle_in_every_scenario(tmp_path, three):
    a = load_scenario(scenario_with(tmp_path, three))
    b = load_scenario(
        scenario_with(tmp_path, three, "[instruments.preferential_loans]\nenabled = false\n", "b.toml")
    )
    for replicate in range(4):
        ra, rb = run_one(a, replicate), run_one(b, replicate)
        assert ra.posterior_particle == rb.posterior_particle
        assert ra.posterior_parameters == rb.posterior_parameters
    particles = {run_one(a, r).posterior_particle for r in range(12)}
    assert len(particles) > 1


def test_the_drawn_parameters_are_the_ones_the_model_runs(tmp_path, three):
    scenario = load_scenario(scenario_with(tmp_path, three))
    result = run_one(scenario, 3)
    sample = load_posterior(three)
    row = sample.values[result.posterior_particle]
    assert result.posterior_parameters == {GROWTH: row[0], ILLNESS: row[1]}
    plain = with_overrides(scenario, {"posterior.file": "", **result.posterior_parameters})
    assert run_one(plain, 3).reviews == result.reviews


def test_the_file_is_found_relative_to_the_scenario_that_names_it(tmp_path, three, monkeypatch):
    path = scenario_with(tmp_path, three)
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "sub" / "child.toml", f'extends = "../{path.name}"\nname = "child"\n')
    monkeypatch.chdir(tmp_path / "sub")
    assert Path(load_scenario(child).posterior.file) == three.resolve()


def test_validate_and_run_say_that_parameters_are_drawn(tmp_path, three, capsys):
    scenario = scenario_with(tmp_path, three)
    assert main(["validate", str(scenario)]) == 0
    assert "each replicate draws 2 parameters from the posterior" in capsys.readouterr().out
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    assert "(3 particles)" in capsys.readouterr().out


def test_run_records_the_posterior_and_each_replicates_draw(tmp_path, three, capsys):
    out = tmp_path / "out"
    assert main(["run", str(scenario_with(tmp_path, three)), "--out", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["posterior"]["particles"] == 3
    assert manifest["posterior"]["calibration"] == "test"
    for entry in manifest["seeds"]["replicates"]:
        assert entry["posterior_particle"] in (0, 1, 2)
        assert set(entry["posterior_parameters"]) == {GROWTH, ILLNESS}


BAD_POSTERIORS = {
    "missing": (None, "cannot be read"),
    "not_parquet": ("text", "not a Parquet file"),
    "no_weight": ({f"parameter.{GROWTH}": [0.1]}, "expected a 'weight' column"),
    "negative_weight": ({"weight": [-1.0, 2.0], f"parameter.{GROWTH}": [0.1, 0.2]}, "negative"),
    "out_of_range": ({"weight": [1.0], f"parameter.{GROWTH}": [0.9]}, "outside its valid range"),
    "run_setting": ({"weight": [1.0], "parameter.run.household_count": [5.0]}, "sets how runs are made"),
    "not_a_parameter": (
        {"weight": [1.0], "parameter.economy.no_such_thing": [0.1]},
        "not a scenario parameter",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_POSTERIORS))
def test_a_bad_posterior_file_is_refused_by_name(tmp_path, case, capsys):
    content, words = BAD_POSTERIORS[case]
    path = tmp_path / "posterior.parquet"
    if content == "text":
        path.write_text("weight,parameter\n1,2\n")
    elif content is not None:
        posterior_file(path, content)
    scenario = scenario_with(tmp_path, path)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{scenario}: posterior.file" in err
    assert words in err
    assert not out.exists()


def test_setting_a_drawn_parameter_is_refused(tmp_path, three, capsys):
    scenario = scenario_with(tmp_path, three)
    assert main(["validate", str(scenario), "--set", f"{GROWTH}=0.1"]) == 2
    err = capsys.readouterr().err
    assert f"--set: {GROWTH} = 0.1: is drawn from the posterior" in err
    in_file = scenario_with(
        tmp_path, three, "[economy]\nnominal_income_growth_per_year = 0.1\n", "fixed.toml"
    )
    assert main(["validate", str(in_file)]) == 2
    assert f"{in_file}: {GROWTH} = 0.1: is drawn from the posterior" in capsys.readouterr().err


def grid_sweep(path, scenario, overrides: str, name: str, parameter: str, levels: str):
    """A one-replicate grid sweep of `scenario` over one parameter, with optional [overrides] lines."""
    overrides_table = f"[overrides]\n{overrides}\n" if overrides else ""
    return write(
        path,
        f"""
name = "s"
scenario = "{scenario.name}"
master_seed = 1
replicates = 1
{overrides_table}[design]
method = "grid"
[parameters.{name}]
path = "{parameter}"
levels = {levels}
[outcomes]
rate = "reviews.2022.poor_rate"
""",
    )


def test_a_sweep_cannot_vary_a_drawn_parameter(tmp_path, three, capsys):
    scenario = scenario_with(tmp_path, three)
    experiment = grid_sweep(tmp_path / "sweep.toml", scenario, "", "growth", GROWTH, "[0.05, 0.1]")
    assert main(["sweep", str(experiment), "--out", str(tmp_path / "out"), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{experiment}: parameters.growth" in err
    assert "drawn from the base scenario's posterior" in err
    assert not (tmp_path / "out").exists()


def test_a_sweep_cannot_fix_a_drawn_parameter_in_its_overrides(tmp_path, three, capsys):
    scenario = scenario_with(tmp_path, three)
    loans = "instruments.preferential_loans.amount_vnd_per_unit"
    experiment = grid_sweep(
        tmp_path / "fixed.toml", scenario, f"{GROWTH} = 0.05", "loans", loans, "[40_000_000.0, 60_000_000.0]"
    )
    assert main(["validate", str(experiment)]) == 2
    err = capsys.readouterr().err
    assert f"{experiment}: overrides.{GROWTH}" in err
    assert "drawn from the base scenario's posterior" in err


def test_fingerprints_follow_the_posterior_contents_not_its_path(tmp_path, three):
    from povsim.scenario import scenario_hash

    first = scenario_hash(load_scenario(scenario_with(tmp_path, three)))
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    copy = moved / "posterior.parquet"
    copy.write_bytes(three.read_bytes())
    same_contents = scenario_hash(
        with_overrides(load_scenario(scenario_with(tmp_path, three)), {"posterior.file": str(copy)})
    )
    assert same_contents == first
    rewritten = posterior_file(copy, {"weight": [1.0], f"parameter.{GROWTH}": [0.07]})
    assert (
        scenario_hash(
            with_overrides(load_scenario(scenario_with(tmp_path, three)), {"posterior.file": str(rewritten)})
        )
        != first
    )
