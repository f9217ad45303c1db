"""Running the model: one replicate, or an ensemble of replicates with spawned seeds.

`run_one` is a pure function of a scenario and a replicate index, so any executor can call
it: the replicate's random stream is `SeedSequence(master_seed, spawn_key=(replicate,))`,
the same in every process and for every scenario (common random numbers).
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from tqdm import tqdm

from povsim.model import PovertyModel, replicate_seed
from povsim.posterior import load_posterior
from povsim.scenario import Scenario
from povsim.scenario.loading import with_overrides

PROGRESS_DELAY_SECONDS = 2.0


@dataclass(frozen=True)
class RunResult:
    """What one replicate produced: its review figures and its monthly series."""

    replicate: int
    seed_entropy: int
    spawn_key: tuple[int, ...]
    reviews: list[dict[str, Any]]
    monthly: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    seconds: float
    households: dict[str, np.ndarray] | None = None
    posterior_particle: int | None = None
    posterior_parameters: dict[str, float] | None = None


def run_one(scenario: Scenario, replicate: int, household_panel: bool = False) -> RunResult:
    """Run one replicate of a scenario to its last review.

    With a `[posterior]`, the replicate first draws its parameter set from the posterior
    (`povsim.posterior`), so an ensemble spans parameter uncertainty as well as chance.

    Args:
        scenario: the scenario.
        replicate: the replicate index (selects the random stream and the posterior draw).
        household_panel: also return one row per household (`PovertyModel.household_panel`).
    """
    started = time.perf_counter()
    seed = replicate_seed(scenario.run.master_seed, replicate)
    particle, parameters = None, None
    if scenario.posterior.file:
        particle, parameters = load_posterior(scenario.posterior.file).draw(
            scenario.run.master_seed, replicate
        )
        scenario = with_overrides(scenario, parameters)
    model = PovertyModel(scenario=scenario, rng=seed)
    model.run()
    monthly = model.datacollector.get_model_vars_dataframe().to_dict("records")
    return RunResult(
        replicate=replicate,
        seed_entropy=int(seed.entropy),
        spawn_key=tuple(seed.spawn_key),
        reviews=model.reviews,
        monthly=monthly,
        ledger=model.ledger.records(),
        seconds=time.perf_counter() - started,
        households=model.household_panel() if household_panel else None,
        posterior_particle=particle,
        posterior_parameters=parameters,
    )


def run_replicates(
    scenario: Scenario, workers: int = 1, progress: bool = True, household_panel: bool = False
) -> list[RunResult]:
    """Run every replicate of a scenario, in order of replicate index.

    Args:
        scenario: the scenario; `run.replicate_count` replicates are run.
        workers: processes to use; 1 runs in this process.
        progress: show a progress bar when the ensemble takes more than a couple of seconds.
        household_panel: also keep one row per household of each replicate.
    """
    count = scenario.run.replicate_count
    bar = tqdm(
        total=count,
        desc=f"{scenario.name}: replicates",
        unit="run",
        delay=PROGRESS_DELAY_SECONDS,
        disable=not progress,
        file=sys.stderr,
    )
    with bar:
        results = []
        for result in _execute(partial(run_one, household_panel=household_panel), scenario, count, workers):
            results.append(result)
            bar.update()
    return sorted(results, key=lambda r: r.replicate)


def _execute(
    function: Callable[[Scenario, int], RunResult], scenario: Scenario, count: int, workers: int
) -> Iterator[RunResult]:
    if workers <= 1 or count == 1:
        for replicate in range(count):
            yield function(scenario, replicate)
        return
    # Forking a process that already runs threads (pyarrow, BLAS) can deadlock; a fork
    # server forks workers from a clean process that has imported the model once.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["povsim.runner"])
    with ProcessPoolExecutor(max_workers=min(workers, count), mp_context=context) as pool:
        yield from pool.map(function, [scenario] * count, range(count))
