"""Time a full-district run and compare it with a per-agent Mesa loop measured in the same run.

Prints, for the scenario's household count (default: the baseline's 58,000):
- the wall time of one complete run (population synthesis, January 2022 to the end-2030
  review, reviews and data collection), median of several after a warm-up;
- household-months per second of that run;
- the same monthly income update written the usual Mesa way (a `Household(mesa.Agent)`
  with a `step()` method driven by `model.agents.shuffle_do("step")`), in household-months
  per second, and the ratio between the two.

Usage: uv run python benchmarks/bench_run.py [--households N] [--repeats K]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import mesa
import numpy as np

from povsim import PovertyModel, load_scenario
from povsim.model import replicate_seed


class ReferenceHousehold(mesa.Agent):
    """The model's monthly income update for one household, in plain Python."""

    def __init__(self, model, log_permanent: float) -> None:
        super().__init__(model)
        self.log_permanent = log_permanent
        self.persistent = 0.0
        self.ill_months = 0
        self.income = 0.0
        self.income_since_review = 0.0

    def step(self) -> None:
        m = self.model
        if self.ill_months == 0 and self.random.random() < m.illness_prob:
            self.ill_months = m.illness_months
        self.persistent = m.phi * self.persistent + m.innovation_sd * self.random.gauss(0.0, 1.0)
        log_income = self.log_permanent + self.persistent + m.trend + m.noise_sd * self.random.gauss(0.0, 1.0)
        income = math.exp(log_income) * (m.ill_factor if self.ill_months > 0 else 1.0)
        if self.ill_months > 0:
            self.ill_months -= 1
        self.income = income
        self.income_since_review += income


class ReferenceModel(mesa.Model):
    """Per-agent reference: the same update, one Python call per household per month."""

    def __init__(self, households: int, rng: int = 1) -> None:
        super().__init__(rng=rng)
        s = load_scenario(None)
        self.phi = s.economy.persistent_income_autocorrelation_per_year ** (1 / 12)
        self.innovation_sd = math.sqrt(1 - self.phi**2) * s.population.persistent_income_log_sd
        self.noise_sd = s.economy.monthly_income_noise_log_sd
        self.illness_prob = s.shocks.illness_prob_per_month
        self.illness_months = s.shocks.illness_duration_months
        self.ill_factor = 1 - s.shocks.illness_income_loss_share
        self.trend = 0.0
        ReferenceHousehold.create_agents(
            self, households, log_permanent=list(self.rng.normal(14.5, 0.5, households))
        )

    def step(self) -> None:
        self.trend += math.log1p(0.09) / 12
        self.agents.shuffle_do("step")


def time_full_run(scenario, seed: int) -> tuple[float, int]:
    started = time.perf_counter()
    model = PovertyModel(scenario=scenario, rng=replicate_seed(seed, 0))
    model.run()
    return time.perf_counter() - started, model.months_elapsed


def time_reference(households: int, months: int) -> float:
    model = ReferenceModel(households)
    started = time.perf_counter()
    for _ in range(months):
        model.step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reference-months", type=int, default=3)
    args = parser.parse_args()
    scenario = load_scenario(None, {"run.household_count": args.households} if args.households else None)
    n = scenario.run.household_count

    time_full_run(scenario, 0)  # warm-up
    runs = [time_full_run(scenario, seed) for seed in range(1, args.repeats + 1)]
    seconds = statistics.median(r[0] for r in runs)
    months = runs[0][1]
    fast = n * months / seconds

    time_reference(n, 1)  # warm-up
    reference = [time_reference(n, args.reference_months) for _ in range(3)]
    slow = n * args.reference_months / statistics.median(reference)

    print(f"households: {n:,}; months per run: {months}; repeats: {args.repeats}")
    print(
        f"full run (synthesis + {months} months + reviews + collection): median {seconds:.3f} s "
        f"(min {min(r[0] for r in runs):.3f}, max {max(r[0] for r in runs):.3f})"
    )
    print(f"povsim vectorised:            {fast / 1e6:8.2f} million household-months/s (whole run)")
    print(f"Mesa per-agent shuffle_do:    {slow / 1e6:8.2f} million household-months/s (income update only)")
    print(f"ratio vectorised / per-agent: {fast / slow:8.1f}x")
    print(f"numpy {np.__version__}, mesa {mesa.__version__}")


if __name__ == "__main__":
    main()
