"""Experiment files: loading, every validation error path, designs and outcome paths."""

import datetime as dt

import numpy as np
import pytest

from conftest import ROOT, SCENARIOS, grid_experiment_head, write
from povsim.calibration.loading import looks_like_calibration
from povsim.cli import main
from povsim.experiments import load_experiment
from povsim.experiments.designs import DESIGN_STREAM
from povsim.experiments.outcomes import Outcome, OutcomeMissing, parse_outcome, resolve_summary
from povsim.model import replicate_seed
from povsim.scenario import InputError

BASELINE = (SCENARIOS / "baseline.toml").as_posix()

GOOD = (
    grid_experiment_head(5)
    + """
[parameters.illness]
path = "shocks.illness_prob_per_month"
low = 0.004
high = 0.02
count = 3

[outcomes]
poor = "reviews.2023.poor_rate"
relapsed = "review:2022-2023:relapsed"
"""
)


def experiment(tmp_path, text=GOOD, name="exp.toml"):
    return write(tmp_path / name, text)


def replace(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


def test_good_experiment_loads_with_typed_points(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    assert exp.name == "tiny"
    assert exp.replicates == 2
    assert exp.design.names == ("growth", "illness")
    assert len(exp.design.points) == 2 * 3
    assert exp.run_count == 12
    # Grid order: the first parameter varies slowest.
    assert [p["growth"] for p in exp.design.points] == [0.03] * 3 + [0.12] * 3
    assert [p["illness"] for p in exp.design.points[:3]] == [0.004, 0.012, 0.02]
    assert exp.base.run.master_seed == 5
    assert exp.base.run.household_count == 500
    assert exp.point_scenario(4).economy.nominal_income_growth_per_year == 0.12
    assert exp.point_scenario(4).shocks.illness_prob_per_month == pytest.approx(0.012)
    assert [o.name for o in exp.outcomes] == ["poor", "relapsed"]


SHIPPED = [p for p in sorted((ROOT / "experiments").glob("*.toml")) if not looks_like_calibration(p)]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_experiments_are_valid(path):
    exp = load_experiment(path)
    assert exp.run_count >= 1
    assert main(["validate", str(path)]) == 0


# (change to GOOD, key path in the message, words in the message)
BAD = [
    (("replicates = 2", "replicate = 2"), "replicate", "did you mean 'replicates'"),
    (("replicates = 2", 'replicates = "2"'), "replicates", "expected an integer"),
    (("replicates = 2", "replicates = 0"), "replicates", "greater than or equal to 1"),
    (("low = 0.004", "low = 0.03"), "parameters.illness.low", "expected low < high"),
    (("high = 0.02", "hgh = 0.02"), "parameters.illness.hgh", "did you mean 'high'"),
    (("levels = [0.03, 0.12]", "levels = []"), "parameters.growth.levels", "no points"),
    (('method = "grid"', 'method = "factorial"'), "design.method", "'grid', 'lhs', 'sobol', 'morris', 'csv'"),
    ((f'scenario = "{BASELINE}"', 'scenario = "nowhere.toml"'), "scenario", "does not exist"),
    (('poor = "reviews.2023.poor_rate"', 'poor = "reviews.2035.poor_rate"'), "outcomes.poor", "2021 to 2023"),
    (
        ('relapsed = "review:2022-2023:relapsed"', 'relapsed = "review:20x:relapsed"'),
        "outcomes.relapsed",
        "year",
    ),
    (('poor = "reviews.2023.poor_rate"', 'poor = "reviews..x"'), "outcomes.poor", "dotted path"),
    (
        ('path = "economy.nominal_income_growth_per_year"', 'path = "economy.nominal_income_growth_per_yr"'),
        "parameters.growth.path",
        "did you mean 'nominal_income_growth_per_year'",
    ),
    (
        ('path = "economy.nominal_income_growth_per_year"', 'path = "economy"'),
        "parameters.growth.path",
        "table",
    ),
    (
        ('path = "economy.nominal_income_growth_per_year"', 'path = "run.master_seed"'),
        "parameters.growth",
        "master_seed",
    ),
    (
        ("levels = [0.03, 0.12]", "levels = [0.03, 0.9]"),
        "parameters.growth.levels",
        "less than or equal to 0.5",
    ),
    (("high = 0.02", "high = 0.7"), "parameters.illness.high", "less than or equal to 0.5"),
    (("count = 3", ""), "parameters.illness.count", "needs the number of levels"),
    (('method = "grid"', 'method = "grid"\npoints = 8'), "design.points", "not used by method = 'grid'"),
    (('method = "grid"', 'method = "sobol"\npoints = 12'), "design.points", "power of 2"),
    (('method = "grid"', 'method = "lhs"'), "design.points", "is missing"),
    (
        ("run.household_count = 500", "run.household_coun = 500"),
        "overrides.run.household_coun",
        "did you mean",
    ),
    (("run.household_count = 500", "run.replicate_count = 5"), "overrides.run.replicate_count", "replicates"),
    (("count = 3", 'count = 3\ndistribution = "normal"'), "parameters.illness.distribution", "grids space"),
    (('name = "tiny"', 'name = "a/b"'), "name", "names a folder"),
]


@pytest.mark.parametrize(("change", "key", "words"), BAD, ids=[b[1] + ":" + b[2][:20] for b in BAD])
def test_bad_experiment_exit_2_names_file_key_and_expectation(tmp_path, capsys, change, key, words):
    path = experiment(tmp_path, replace(GOOD, *change))
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    messages = [str(p) for p in caught.value.problems]
    assert any(key in m and words in m for m in messages), messages
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"povsim: error: {path}: {key}" in err
    assert words in err
    assert not out.exists()


def test_design_with_no_points_from_an_empty_csv(tmp_path):
    write(tmp_path / "points.csv", "growth,illness\n")
    text = replace(GOOD, 'method = "grid"', 'method = "csv"\nfile = "points.csv"')
    text = replace(text, "levels = [0.03, 0.12]\n", "")
    text = replace(text, "low = 0.004\nhigh = 0.02\ncount = 3\n", "")
    with pytest.raises(InputError, match="no points"):
        load_experiment(experiment(tmp_path, text))


def test_csv_design_reads_points_in_order_and_checks_its_header(tmp_path):
    write(tmp_path / "points.csv", "illness,growth\n0.01,0.05\n0.02,0\n")
    text = replace(GOOD, 'method = "grid"', 'method = "csv"\nfile = "points.csv"')
    text = replace(text, "levels = [0.03, 0.12]\n", "")
    text = replace(text, "low = 0.004\nhigh = 0.02\ncount = 3\n", "")
    exp = load_experiment(experiment(tmp_path, text))
    assert exp.design.points == ({"growth": 0.05, "illness": 0.01}, {"growth": 0.0, "illness": 0.02})
    assert all(isinstance(p["growth"], float) for p in exp.design.points)
    write(tmp_path / "points.csv", "growth,colour\n0.01,red\n")
    with pytest.raises(InputError, match="no column for illness"):
        load_experiment(tmp_path / "exp.toml")


def test_invalid_design_point_names_the_point_and_parameter(tmp_path):
    write(tmp_path / "points.csv", "growth,illness\n0.05,0.01\n0.05,0.9\n")
    text = replace(GOOD, 'method = "grid"', 'method = "csv"\nfile = "points.csv"')
    text = replace(text, "levels = [0.03, 0.12]\n", "")
    text = replace(text, "low = 0.004\nhigh = 0.02\ncount = 3\n", "")
    with pytest.raises(InputError) as caught:
        load_experiment(experiment(tmp_path, text))
    message = str(caught.value)
    assert "parameters.illness" in message
    assert "design point 1" in message


SAMPLED = """
[design]
method = "{method}"
points = {points}
{extra}

[parameters.growth]
path = "economy.nominal_income_growth_per_year"
low = 0.0
high = 0.2

[parameters.duration]
path = "shocks.illness_duration_months"
low = 1
high = 6

[parameters.noise]
path = "economy.monthly_income_noise_log_sd"
distribution = "normal"
mean = 0.15
sd = 0.05
low = 0.05
high = 0.3
"""


def sampled(tmp_path, method, points, extra="", seed=5):
    head = GOOD.split("[design]")[0].replace("master_seed = 5", f"master_seed = {seed}")
    tail = '\n[outcomes]\npoor = "reviews.2023.poor_rate"\n'
    return load_experiment(
        experiment(tmp_path, head + SAMPLED.format(method=method, points=points, extra=extra) + tail)
    )


def test_lhs_is_stratified_in_every_parameter_and_typed(tmp_path):
    exp = sampled(tmp_path, "lhs", 12)
    unit = exp.design.unit
    assert unit.shape == (12, 3)
    for j in range(3):
        assert sorted(np.floor(unit[:, j] * 12).astype(int)) == list(range(12))
    durations = [p["duration"] for p in exp.design.points]
    assert all(isinstance(d, int) for d in durations)
    assert set(durations) <= set(range(1, 7))
    noise = np.array([p["noise"] for p in exp.design.points])
    assert ((noise >= 0.05) & (noise <= 0.3)).all()


def test_sampled_designs_are_reproducible_and_follow_the_seed(tmp_path):
    a = sampled(tmp_path, "lhs", 8, seed=5)
    b = sampled(tmp_path, "lhs", 8, seed=5)
    c = sampled(tmp_path, "lhs", 8, seed=6)
    assert a.design.points == b.design.points
    assert a.design.points != c.design.points
    assert a.identity() == b.identity() != c.identity()


def test_design_stream_is_not_a_replicate_stream():
    assert DESIGN_STREAM >= 100_000
    assert replicate_seed(5, 0).spawn_key != (DESIGN_STREAM,)


def test_sobol_and_morris_sample_sizes(tmp_path):
    sobol = sampled(tmp_path, "sobol", 8)
    assert len(sobol.design.points) == 8 * (3 + 2)
    second = sampled(tmp_path, "sobol", 8, "second_order = true")
    assert len(second.design.points) == 8 * (2 * 3 + 2)
    morris = sampled(tmp_path, "morris", 4, "grid_levels = 4")
    assert len(morris.design.points) == 4 * (3 + 1)
    growth = np.array([p["growth"] for p in morris.design.points])
    levels = np.array([0.0, 0.2 / 3, 0.4 / 3, 0.2])
    assert np.min(np.abs(growth[:, None] - levels[None, :]), axis=1).max() < 1e-12


def test_date_and_integer_levels_keep_their_types(tmp_path):
    text = replace(GOOD, "levels = [0.03, 0.12]", "levels = [0.03]")
    text = replace(
        text,
        "[outcomes]",
        '[parameters.switch]\npath = "standards.decree_351_first_review_date"\n'
        "levels = [2025-12-31, 2026-12-31]\n\n"
        '[parameters.duration]\npath = "shocks.illness_duration_months"\nlevels = [2, 4]\n\n[outcomes]',
    )
    exp = load_experiment(experiment(tmp_path, text))
    assert {p["switch"] for p in exp.design.points} == {dt.date(2025, 12, 31), dt.date(2026, 12, 31)}
    assert {p["duration"] for p in exp.design.points} == {2, 4}


def test_validate_reports_an_experiment(tmp_path, capsys):
    assert main(["validate", str(experiment(tmp_path))]) == 0
    assert (
        "valid experiment 'tiny': grid design, 6 points x 2 replicates = 12 runs" in capsys.readouterr().out
    )


def test_empty_experiment_file(tmp_path, capsys):
    path = write(tmp_path / "empty.toml", "# nothing\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "is empty" in capsys.readouterr().err


def test_outcome_paths_parse_and_resolve():
    assert parse_outcome("a", "review:2022-2030:relapsed").years == (2022, 2030)
    assert parse_outcome("a", "reviews.2030.poor_rate").fast_column == "poor_rate"
    assert parse_outcome("a", "reviews.2030.poor_rate.p95").fast_column == "poor_rate"
    assert parse_outcome("a", "reviews.2030.ethnic_minority.poor_rate").fast_column is None
    assert parse_outcome("a", "ledger.loans.total.vnd").years is None
    for bad in ("review:2030", "review:2031-2030:x", "reviews.x.poor_rate", "reviews.2030", "a..b", ""):
        with pytest.raises(ValueError, match=r"."):
            parse_outcome("a", bad)
    summary = {"reviews": {"2030": {"poor_rate": {"mean": 0.1, "p05": 0.1, "p95": 0.1}, "standard": "D"}}}
    assert resolve_summary(summary, parse_outcome("a", "reviews.2030.poor_rate")) == 0.1
    with pytest.raises(OutcomeMissing, match=r"no key 'near_rate' under reviews\.2030"):
        resolve_summary(summary, parse_outcome("a", "reviews.2030.near_rate"))
    with pytest.raises(OutcomeMissing, match="not a number"):
        resolve_summary(summary, parse_outcome("a", "reviews.2030.standard"))
    assert isinstance(parse_outcome("a", "x.y"), Outcome)


def test_a_scenario_is_not_an_experiment(tmp_path, capsys):
    assert main(["sweep", str(SCENARIOS / "baseline.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "looks like a scenario, not an experiment" in capsys.readouterr().err
    assert main(["validate", str(experiment(tmp_path)), "--set", "run.household_count=9"]) == 2
    assert (
        "--set = 'run.household_count=9': applies to scenario files, not experiments"
        in capsys.readouterr().err
    )
