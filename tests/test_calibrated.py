"""The shipped calibration: `scenarios/calibrated.toml` reproduces the observed decline.

These are the calibration's acceptance checks, run on the shipped posterior: the end-2024
mean within 0.5 points of the observed 7 % with the 90 % band covering it, and the end-2021
review at 21.97 % within binomial error. The tolerances are the acceptance criteria
themselves (0.5 points) or derived from the sampling error, not tuned to the results.

The mean is taken over 100 replicates: the end-2024 rate varies by about 0.8 points from
replicate to replicate (posterior draws and district-wide shocks), so 20 replicates would
estimate the mean only to about 0.2 points, too coarse for a 0.5-point criterion; 100
estimate it to about 0.08.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT, SCENARIOS
from povsim import load_scenario
from povsim.calibration import load_calibration
from povsim.cli import main
from povsim.posterior import load_posterior

CALIBRATED = SCENARIOS / "calibrated.toml"


REPLICATES = 100


def run_calibrated(tmp_path, *extra: str) -> dict:
    out = tmp_path / "calibrated"
    command = ["run", str(CALIBRATED), "--replicates", str(REPLICATES), "--workers", "2"]
    assert main([*command, "--out", str(out), "--quiet", *extra]) == 0
    return json.loads((out / "summary.json").read_text())


def check_decline(summary: dict, households: int) -> None:
    scenario = load_scenario(CALIBRATED)
    targets = scenario.targets
    start = summary["reviews"]["2021"]["measure_rate"]
    # REPLICATES replicates of `households` households: the mean's binomial standard error.
    p = targets.initial_rate_share
    se = np.sqrt(p * (1 - p) / (households * REPLICATES))
    assert abs(start["mean"] - p) < 4 * se
    end = summary["reviews"]["2024"]["measure_rate"]
    assert abs(end["mean"] - targets.observed_2024_rate_share) <= 0.005
    assert end["p05"] <= targets.observed_2024_rate_share <= end["p95"]


def test_the_calibrated_scenario_reproduces_the_decline_to_2024(tmp_path):
    summary = run_calibrated(tmp_path, "--set", "calendar.end_date=2024-12-31")
    check_decline(summary, load_scenario(CALIBRATED).run.household_count)


@pytest.mark.slow
def test_the_calibrated_scenario_reproduces_the_decline_in_a_full_run(tmp_path):
    summary = run_calibrated(tmp_path)
    check_decline(summary, load_scenario(CALIBRATED).run.household_count)
    assert "2030" in summary["reviews"]


def test_the_shipped_posterior_comes_from_the_shipped_calibration():
    scenario = load_scenario(CALIBRATED)
    sample = load_posterior(scenario.posterior.file)
    calibration = load_calibration(ROOT / "experiments" / "calibration.toml")
    assert sample.metadata["povsim.calibration_sha256"] == calibration.identity()
    assert set(sample.paths) == {p.path for p in calibration.priors}
    assert sample.weights.sum() == pytest.approx(1.0)
    for i, prior in enumerate(calibration.priors):
        assert prior.low <= sample.values[:, i].min()
        assert sample.values[:, i].max() <= prior.high
