from pathlib import Path

import pytest

from povsim import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def baseline():
    return load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def small(baseline):
    """The baseline at 2,000 households and 3 replicates: fast enough for every test."""
    from povsim.scenario.loading import with_overrides

    return with_overrides(baseline, {"run.household_count": 2_000, "run.replicate_count": 3})


def grid_experiment_head(master_seed: int) -> str:
    """The start of a small grid experiment: the baseline at 500 households to end-2023, varying growth."""
    return f"""
name = "tiny"
scenario = "{(SCENARIOS / "baseline.toml").as_posix()}"
master_seed = {master_seed}
replicates = 2

[overrides]
run.household_count = 500
calendar.end_date = 2023-12-31

[design]
method = "grid"

[parameters.growth]
path = "economy.nominal_income_growth_per_year"
levels = [0.03, 0.12]
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
