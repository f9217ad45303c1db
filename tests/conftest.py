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


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
