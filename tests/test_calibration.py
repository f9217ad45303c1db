"""Calibration: priors, the ABC-SMC sampler on a problem with a known posterior, determinism, resume.

The sampler is tested against a stand-in simulator whose "end-2024 rate" is one parameter
plus Gaussian noise, so the exact posterior is known (Gaussian, for a flat prior wide enough)
and runs take microseconds; the real model's calibration is run by the CLI tests.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate

from conftest import ROOT, write
from povsim.calibration import load_calibration
from povsim.calibration.abc import importance_weights, prior_density
from povsim.calibration.fit import BlockStore, run_abc, run_generation
from povsim.calibration.spec import Prior
from povsim.cli import main
from povsim.experiments.executors import ExecutorHandle, InlineExecutor
from povsim.model import replicate_seed
from povsim.runner import RunResult
from povsim.scenario import InputError

NOISE_SD = 0.01
OBSERVED = 0.10


def header(name: str, master_seed: int) -> str:
    """The start of a test calibration: the baseline to the end-2024 review, and a growth prior."""
    return f"""
name = "{name}"
scenario = "{ROOT / "scenarios" / "baseline.toml"}"
master_seed = {master_seed}

[overrides]
run.household_count = 1_000
calendar.end_date = 2024-12-31

[priors.growth]
path = "economy.nominal_income_growth_per_year"
low = 0.03
high = 0.2
source = "test"
"""


CALIBRATION = (
    header("toy", 11)
    + f"""
[priors.noise]
path = "economy.monthly_income_noise_log_sd"
low = 0.05
high = 0.30
source = "test: does not enter the stand-in simulator, so it must stay at its prior"

[moments.rate]
path = "review:2024:poor_or_near_poor_rate"
observed = {OBSERVED}
tolerance = {NOISE_SD}
source = "test"

[moments.held_out]
path = "review:2024:poor_rate"
observed = 0.05
tolerance = 0.01
role = "validation"
source = "test"

[abc]
particles = 300
initial_draws_per_particle = 3
epsilon_quantile = 0.5
final_epsilon = 0.25
max_generations = 12
min_acceptance_rate = 0.0
batch_size = 25
"""
)


def stand_in(scenario, replicate: int) -> RunResult:
    """A simulator with a known likelihood: rate = growth + N(0, NOISE_SD), seeded by the replicate."""
    rng = np.random.default_rng(replicate_seed(scenario.run.master_seed, replicate))
    rate = scenario.economy.nominal_income_growth_per_year + NOISE_SD * rng.standard_normal()
    reviews = [{"year": 2024, "poor_or_near_poor_rate": rate, "poor_rate": rate / 2}]
    return RunResult(replicate, 0, (replicate,), reviews, [], [], 0.0)


@pytest.fixture
def toy(tmp_path):
    return load_calibration(write(tmp_path / "toy.toml", CALIBRATION))


@pytest.fixture
def small_toy(tmp_path):
    """The toy with fewer particles and generations, for tests of bookkeeping rather than statistics."""
    text = CALIBRATION.replace("particles = 300", "particles = 60").replace(
        "max_generations = 12", "max_generations = 4"
    )
    return load_calibration(write(tmp_path / "small.toml", text))


def inline() -> ExecutorHandle:
    return ExecutorHandle(InlineExecutor(), 1, "in-process")


def fit(calibration, out: Path, handle: ExecutorHandle | None = None):
    return run_abc(calibration, out, handle or inline(), lambda _: None, stand_in)


@pytest.mark.parametrize(
    ("kind", "low", "high", "mean", "sd"),
    [
        ("uniform", 0.1, 0.5, None, None),
        ("loguniform", 0.002, 0.02, None, None),
        ("normal", 0.0, 1.0, 0.3, 0.2),
    ],
)
def test_priors_map_to_the_unit_interval_and_have_unit_mass(kind, low, high, mean, sd):
    prior = Prior("p", "x", kind, low, high, mean, sd)
    values = np.linspace(low, high, 7)
    assert_allclose(prior.from_unit(prior.to_unit(values)), values, rtol=1e-12)
    mass, _ = integrate.quad(lambda u: prior.unit_density(np.array([u]))[0], 0.0, 1.0)
    assert_allclose(mass, 1.0, rtol=1e-6)
    assert prior.unit_density(np.array([-0.01, 1.01])).tolist() == [0.0, 0.0]
    draws = prior.sample_unit(np.random.default_rng(0), 20_000)
    assert draws.min() >= 0.0
    assert draws.max() <= 1.0
    # Mean and spread by quadrature, against the closed forms the report uses.
    density = lambda u: prior.unit_density(np.array([u]))[0]  # noqa: E731
    unit_mean, _ = integrate.quad(lambda u: u * density(u), 0.0, 1.0)
    unit_square, _ = integrate.quad(lambda u: u * u * density(u), 0.0, 1.0)
    assert_allclose(prior.unit_sd(), np.sqrt(unit_square - unit_mean**2), rtol=1e-6)
    value_mean, _ = integrate.quad(lambda u: prior.from_unit(np.array([u]))[0] * density(u), 0.0, 1.0)
    assert_allclose(prior.expected_value(), value_mean, rtol=1e-6)
    if kind == "normal":
        # The truncated normal's mean on the unit interval, by quadrature, against the draws.
        expected, _ = integrate.quad(lambda u: u * prior.unit_density(np.array([u]))[0], 0.0, 1.0)
        assert abs(draws.mean() - expected) < 4 * draws.std() / np.sqrt(len(draws))


def test_importance_weights_undo_the_proposal(toy):
    """Proposals moved from ancestors skewed to one side, once weighted, are a sample of the prior."""
    from povsim.calibration.abc import Population, _perturbed

    rng = np.random.default_rng(1)
    unit = rng.beta(2.0, 5.0, size=(200, 2))  # ancestors crowd the low end (mean 2/7)
    weights = np.full(200, 1 / 200)
    previous = Population(0, 1.0, unit, weights, np.ones(200), np.zeros((200, 2)), np.arange(200), 200, 0)
    proposals = _perturbed(rng, previous, toy.priors, 3000)
    weights = importance_weights(toy.priors, proposals, previous)
    assert weights.sum() == pytest.approx(1.0)
    assert (weights > 0).all()
    assert prior_density(toy.priors, np.array([[1.2, 0.5]]))[0] == 0.0
    ess = 1 / np.sum(weights**2)
    assert ess > 300  # the proposals cover the prior's support, so the check below has power
    # Both priors are uniform on the unit interval: mean 1/2, variance 1/12.
    for column in range(2):
        u = proposals[:, column]
        mean = np.sum(weights * u)
        variance = np.sum(weights * (u - mean) ** 2)
        assert abs(mean - 0.5) < 4 * np.sqrt(1 / 12 / ess)
        assert abs(variance - 1 / 12) < 4 * np.sqrt(1 / 80 - 1 / 144) / np.sqrt(ess)
    # Unweighted, the proposals are far from the prior: the weights do the work.
    assert abs(proposals[:, 0].mean() - 0.5) > 8 * np.sqrt(1 / 12 / len(proposals))


def test_abc_smc_recovers_a_known_posterior(toy, tmp_path):
    populations, reason = fit(toy, tmp_path / "out")
    assert "final tolerance" in reason
    last = populations[-1]
    assert last.epsilon == pytest.approx(0.25)
    w = last.weights
    growth = toy.priors[0].from_unit(last.unit[:, 0])
    ess = last.effective_sample_size()
    # Exact ABC posterior of growth: N(observed, sd^2 + (eps*tol)^2/3) (flat prior, uniform window).
    sd = np.sqrt(NOISE_SD**2 + (0.25 * NOISE_SD) ** 2 / 3)
    mean = np.sum(w * growth)
    spread = np.sqrt(np.sum(w * (growth - mean) ** 2))
    assert abs(mean - OBSERVED) < 4 * sd / np.sqrt(ess)
    assert abs(spread / sd - 1) < 4 / np.sqrt(2 * ess)
    # The parameter the simulator ignores keeps its prior: uniform on the unit interval.
    noise = last.unit[:, 1]
    noise_mean = np.sum(w * noise)
    assert abs(noise_mean - 0.5) < 4 * np.sqrt(1 / 12) / np.sqrt(ess)
    noise_variance = np.sum(w * (noise - noise_mean) ** 2)
    assert abs(noise_variance - 1 / 12) < 4 * np.sqrt(1 / 80 - 1 / 144) / np.sqrt(ess)
    # Every accepted particle met every generation's tolerance, and tolerances fell.
    for population in populations:
        assert (population.distances <= population.epsilon + 1e-12).all()
    epsilons = [p.epsilon for p in populations]
    assert epsilons == sorted(epsilons, reverse=True)


def test_the_posterior_does_not_depend_on_workers_or_completion_order(small_toy, tmp_path):
    first, _ = fit(small_toy, tmp_path / "inline")
    chance = random.Random()  # unseeded on purpose: blocks finish in an unpredictable order

    def jittered(scenario, replicate):
        time.sleep(chance.random() * 0.002)
        return stand_in(scenario, replicate)

    with ThreadPoolExecutor(max_workers=3) as pool:
        second, _ = run_abc(
            small_toy, tmp_path / "threads", ExecutorHandle(pool, 3, "threads"), print, jittered
        )
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert_array_equal(a.unit, b.unit)
        assert_array_equal(a.weights, b.weights)
        assert a.proposed == b.proposed


def test_a_killed_fit_resumes_from_its_blocks_with_the_same_numbers(small_toy, tmp_path):
    toy = small_toy
    whole, _ = fit(toy, tmp_path / "whole")
    partial = tmp_path / "partial"
    shutil.copytree(tmp_path / "whole", partial)
    store = BlockStore(partial)
    # As if killed during generation 2: its generation file, later ones, and half its blocks are gone.
    for generation in range(2, len(whole)):
        store.generation_path(generation).unlink()
    blocks = sorted(store.block_path(2, 0).parent.glob("block_*.parquet"))
    for path in blocks[len(blocks) // 2 :]:
        path.unlink()
    for generation in range(3, len(whole)):
        shutil.rmtree(store.block_path(generation, 0).parent)
    calls = []

    def counting(scenario, replicate):
        calls.append(replicate)
        return stand_in(scenario, replicate)

    resumed, _ = run_abc(toy, partial, inline(), lambda _: None, counting)
    for a, b in zip(whole, resumed, strict=True):
        assert_array_equal(a.unit, b.unit)
        assert_array_equal(a.weights, b.weights)
    # The blocks kept were not simulated again.
    kept = {
        int(s)
        for path in blocks[: len(blocks) // 2]
        for s in pq.read_table(path).column("simulation").to_pylist()
    }
    assert kept
    assert not kept & set(calls)


def test_generation_zero_keeps_the_closest_prior_draws(toy, tmp_path):
    population = run_generation(toy, BlockStore(tmp_path), inline(), None, 0, stand_in)
    assert len(population.weights) == toy.spec.abc.particles
    assert population.proposed == toy.spec.abc.particles * toy.spec.abc.initial_draws_per_particle
    assert population.distances.max() == pytest.approx(population.epsilon)
    everything = np.concatenate(
        [
            pq.read_table(p).column("distance").to_numpy()
            for p in sorted((tmp_path / "abc").rglob("block_*.parquet"))
        ]
    )
    assert np.sum(everything[: population.proposed] <= population.epsilon) == len(population.weights)


def test_failed_runs_are_rejected_not_fatal(toy, tmp_path):
    def failing(scenario, replicate):
        if replicate % 7 == 0:
            raise RuntimeError("boom")
        return stand_in(scenario, replicate)

    population = run_generation(toy, BlockStore(tmp_path), inline(), None, 0, failing)
    assert population.failed > 0
    assert np.isfinite(population.distances).all()
    assert not set(population.simulations.tolist()) & {s for s in range(0, 10**6, 7)}


TINY = (
    header("tiny", 3)
    + """
[priors.job_finding]
path = "economy.job_finding_prob_per_month"
distribution = "loguniform"
low = 0.01
high = 0.08
source = "test"

[moments.rate_2024]
path = "reviews.2024.poor_or_near_poor_rate"
observed = 0.07
tolerance = 0.01
source = "test"

[moments.electricity]
path = "ledger.electricity_support.total.units"
observed = 32959
tolerance = 5000
role = "validation"
district_total = true
source = "test"

[screen]
trajectories = 2
replicates = 1

[abc]
particles = 10
initial_draws_per_particle = 2
max_generations = 2
batch_size = 4

[predictive]
draws = 4
"""
)


def block_files(out: Path) -> list[Path]:
    return sorted((out / "abc").rglob("block_*.parquet"))


def test_calibrate_writes_posterior_and_report_and_resumes_without_rerunning(tmp_path, capsys):
    from povsim.posterior import load_posterior

    file = write(tmp_path / "tiny.toml", TINY)
    out = tmp_path / "out"
    assert main(["calibrate", str(file), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    sample = load_posterior(out / "posterior.parquet")
    assert sample.paths == ("economy.nominal_income_growth_per_year", "economy.job_finding_prob_per_month")
    assert len(sample.weights) == 10
    assert sample.weights.sum() == pytest.approx(1.0)
    assert sample.metadata["povsim.calibration"] == "tiny"
    for name in (
        "report.html",
        "figures/predictive_paths.png",
        "figures/marginals.png",
        "figures/checks.png",
        "tables/posterior_summary.csv",
        "tables/checks.csv",
        "tables/moments.csv",
        "tables/screen.csv",
    ):
        assert (out / "report" / name).is_file(), name
    page = (out / "report" / "report.html").read_text()
    assert "data:image/png;base64," in page
    assert "electricity" in page
    moments = pq.read_table(out / "report" / "predictive.parquet").to_pandas()
    assert set(moments["kind"]) == {"posterior", "prior"}
    assert (moments["poor_or_near_poor_rate_2024"].between(0, 1)).all()

    # A second run without --resume refuses; with --resume it simulates nothing new.
    assert main(["calibrate", str(file), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    assert "already holds a calibration" in capsys.readouterr().err
    before = {p: p.stat().st_mtime_ns for p in block_files(out)}
    assert main(["calibrate", str(file), "--out", str(out), "--workers", "1", "--quiet", "--resume"]) == 0
    assert {p: p.stat().st_mtime_ns for p in block_files(out)} == before
    assert_array_equal(load_posterior(out / "posterior.parquet").values, sample.values)

    # A session that was killed (still "running" in the manifest) is marked as such on resume.
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert [s["status"] for s in manifest["sessions"]] == ["complete", "complete"]
    manifest["sessions"].append({"status": "running"})
    manifest_path.write_text(json.dumps(manifest))
    assert main(["calibrate", str(file), "--out", str(out), "--workers", "1", "--quiet", "--resume"]) == 0
    statuses = [s["status"] for s in json.loads(manifest_path.read_text())["sessions"]]
    assert statuses == ["complete", "complete", "did not finish", "complete"]

    # Another calibration cannot resume into this folder.
    other = write(tmp_path / "other.toml", TINY.replace("high = 0.2", "high = 0.25"))
    assert main(["calibrate", str(other), "--out", str(out), "--workers", "1", "--resume"]) == 2
    assert "with other settings" in capsys.readouterr().err


def test_the_simulation_budget_counts_every_generation(small_toy, tmp_path):
    budget = 150
    text = small_toy.text.replace("[abc]", f"[abc]\nmax_simulations = {budget}")
    calibration = load_calibration(write(tmp_path / "budget.toml", text))
    populations, reason = fit(calibration, tmp_path / "out")
    used = sum(p.proposed for p in populations)
    assert "max_simulations" in reason
    assert budget <= used < budget + calibration.spec.abc.batch_size


def test_a_fit_where_every_run_fails_stops_with_the_first_error(small_toy, tmp_path):
    from povsim.calibration.abc import CalibrationFailed

    def broken(scenario, replicate):
        raise RuntimeError("the model broke")

    with pytest.raises(CalibrationFailed, match="the model broke"):
        run_generation(small_toy, BlockStore(tmp_path), inline(), None, 0, broken)


def test_blocks_from_another_version_of_the_sampler_are_refused(small_toy, tmp_path):
    fit(small_toy, tmp_path / "out")
    store = BlockStore(tmp_path / "out")
    store.generation_path(1).unlink()
    path = store.block_path(1, 0)
    table = pq.read_table(path)
    column = table.column_names.index("unit.growth")
    moved = table.set_column(column, "unit.growth", pa.array(table.column("unit.growth").to_numpy() * 0.5))
    pq.write_table(moved, path)
    with pytest.raises(InputError, match="proposals differ"):
        fit(small_toy, tmp_path / "out")


def test_a_target_the_runs_do_not_hold_is_reported_by_name(tmp_path, capsys):
    text = TINY.replace(
        'path = "reviews.2024.poor_or_near_poor_rate"', 'path = "reviews.2024.poor_or_near_poor_rte"'
    )
    file = write(tmp_path / "typo.toml", text)
    assert main(["validate", str(file)]) == 0  # the path's syntax is fine; only runs can tell
    assert main(["calibrate", str(file), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{file}: moments.rate_2024.path = 'reviews.2024.poor_or_near_poor_rte': names nothing" in err


def test_the_report_flags_a_posterior_pressing_against_a_prior_bound(toy):
    from povsim.calibration.abc import Population
    from povsim.calibration.report import posterior_summary

    rng = np.random.default_rng(2)
    unit = np.column_stack([0.8 + 0.2 * rng.random(400), rng.random(400)])  # growth piles at the top
    population = Population(
        2, 1.0, unit, np.full(400, 1 / 400), np.ones(400), np.zeros((400, 2)), np.arange(400), 400, 0
    )
    summary = posterior_summary(toy, population).set_index("parameter")
    assert summary.at["growth", "pressing"] == "high"
    assert summary.at["growth", "verdict"] == "identified"
    assert summary.at["noise", "pressing"] == ""
    assert summary.at["noise", "verdict"] == "prior-driven"


def test_trajectory_statistics_count_relapse_falling_back_and_transience_by_hand(small_toy):
    """Five households over four reviews (0 poor, 1 near-poor, 2 average), counted by hand."""
    from povsim.calibration.checks import trajectory_statistics

    years = (2021, 2022, 2023, 2024)
    status = np.array(
        [
            [0, 2, 0, 2],  # escapes in 2022, relapses in 2023, escapes again in 2024
            [0, 2, 2, 2],  # escapes in 2022 and stays out
            [0, 0, 2, 0],  # escapes in 2023, relapses in 2024
            [2, 2, 2, 2],  # never poor
            [1, 1, 1, 1],  # near-poor throughout
        ]
    )
    line = small_toy.base.standards.decree_07_rural_line_vnd_per_person_month
    income = (
        np.array(
            [
                [0.9, 1.3, 0.9, 1.3],  # below twice, mean above the line: transient
                [0.5, 0.6, 0.7, 0.8],  # always below: chronic
                [1.1, 1.1, 1.1, 1.1],  # never below
                [2.0, 2.0, 2.0, 2.0],
                [0.95, 1.2, 1.2, 1.2],  # below once, mean above: transient
            ]
        )
        * line
    )
    panel = {"urban": np.zeros(5, bool)}
    for j, year in enumerate(years):
        panel[f"status_{year}"] = status[:, j]
        panel[f"measured_income_vnd_per_person_month_{year}"] = income[:, j]
    stats = trajectory_statistics(panel, years, small_toy.base)
    # At risk at end-2023: households 0 and 1 (escaped in 2022); household 0 relapses.
    # At risk at end-2024: household 1 (out since 2022) and household 2 (escaped in 2023); 2 relapses.
    assert stats["relapse_rate_per_year"] == pytest.approx(2 / 4)
    # Escaped at end-2022: households 0 and 1; household 0 is poor again by end-2024.
    assert stats["fell_back_within_two_years_share"] == pytest.approx(1 / 2)
    # Below the line at some review: households 0, 1 and 4; 0 and 4 have mean income above it.
    assert stats["transient_share"] == pytest.approx(2 / 3)
