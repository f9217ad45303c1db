"""Running the ABC-SMC fit: simulate proposal blocks on an executor, keep every block on disk.

Each evaluated block is written atomically to `abc/generation_GG/block_BBBBB.parquet`, and
each finished generation to `abc/generation_GG.parquet`. Proposals are deterministic, so a
resumed fit recomputes the same proposals, reads the blocks already simulated instead of
running them again, and goes on from where the killed session stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from povsim.calibration.abc import (
    Block,
    CalibrationFailed,
    Population,
    distances,
    importance_weights,
    next_epsilon,
    propose,
    stop_reason,
)
from povsim.calibration.spec import Calibration
from povsim.experiments.executors import ExecutorHandle
from povsim.experiments.store import write_parquet_atomic
from povsim.experiments.worker import OUTCOME_PREFIX, BatchTask, RunFunction, run_batch
from povsim.runner import run_one
from povsim.scenario import InputError, Problem

ABC_FOLDER = "abc"
IN_FLIGHT_PER_SLOT = 2
Notify = Callable[[str], None]


def unit_columns(calibration: Calibration) -> list[str]:
    """Column names of the unit-interval positions, one per prior."""
    return [f"unit.{p.name}" for p in calibration.priors]


def parameter_columns(calibration: Calibration) -> list[str]:
    """Column names of the parameter values: `parameter.` and the scenario path."""
    return [f"parameter.{p.path}" for p in calibration.priors]


def moment_columns(calibration: Calibration) -> list[str]:
    """Column names of the simulated moments."""
    return [f"moment.{m.name}" for m in calibration.moments]


def block_task(calibration: Calibration, block: Block, run_function: RunFunction) -> BatchTask:
    """The worker task simulating a block: one run per proposal, its own random stream."""
    overrides = {}
    for row, unit in enumerate(block.unit):
        overrides[row] = {p.path: float(p.from_unit(unit[i])) for i, p in enumerate(calibration.priors)}
    return BatchTask(
        base=calibration.base,
        runs=tuple((row, int(sim)) for row, sim in enumerate(block.simulations)),
        overrides=overrides,
        outcomes=tuple(m.outcome for m in calibration.moments),
        run_function=run_function,
    )


def block_table(calibration: Calibration, block: Block, runs: pa.Table) -> pa.Table:
    """One row per proposal: its position, parameter values, moments, distance and status."""
    scale = calibration.base.district_scale
    moments = np.column_stack(
        [
            np.asarray(runs.column(OUTCOME_PREFIX + m.name).to_numpy(zero_copy_only=False), dtype=float)
            / (scale if m.district_total else 1.0)
            for m in calibration.moments
        ]
    )
    ok = np.asarray(runs.column("status").to_pylist()) == "ok"
    moments[~ok] = np.nan
    columns: dict[str, object] = {"simulation": block.simulations}
    for i, name in enumerate(unit_columns(calibration)):
        columns[name] = block.unit[:, i]
    for i, (name, prior) in enumerate(zip(parameter_columns(calibration), calibration.priors, strict=True)):
        columns[name] = prior.from_unit(block.unit[:, i])
    for i, name in enumerate(moment_columns(calibration)):
        columns[name] = moments[:, i]
    columns["distance"] = distances(calibration, moments)
    columns["status"] = runs.column("status")
    columns["error"] = runs.column("error")
    columns["outcome_errors"] = runs.column("outcome_errors")
    columns["seconds"] = runs.column("seconds")
    return pa.table(columns)


def check_target_outcomes(calibration: Calibration, table: pa.Table) -> None:
    """Refuse to go on when the runs do not hold a target (a path that names nothing in a run).

    Raises:
        InputError: naming the calibration file, the moment, its path and what the run holds.
    """
    problems = []
    for raw in table.column("outcome_errors").to_pylist():
        missing = json.loads(raw) if raw else {}
        for moment in calibration.targets:
            if moment.name in missing:
                problems.append(
                    Problem(
                        str(calibration.file),
                        f"moments.{moment.name}.path",
                        f"names nothing the runs hold: {missing[moment.name]}; expected a path into "
                        "summary.json such as reviews.2024.measure_rate, or review:YEAR:COLUMN",
                        moment.outcome.path,
                        True,
                    )
                )
        if problems:
            raise InputError(problems)


def check_cached(calibration: Calibration, store: BlockStore, block: Block, cached: pa.Table) -> None:
    """A block read back must hold the proposals this code makes for it (else it came from other code).

    Raises:
        InputError: the folder's blocks were proposed differently (another version of the sampler).
    """
    unit = np.column_stack([cached.column(c).to_numpy() for c in unit_columns(calibration)])
    if unit.shape != block.unit.shape or not np.array_equal(unit, block.unit):
        raise InputError(
            [
                Problem(
                    "--out",
                    "",
                    f"holds simulated blocks ({store.block_path(block.generation, block.index)}) whose "
                    "proposals differ from those this version of povsim makes; expected a folder "
                    "written by this version, or a new folder",
                    str(store.root.parent),
                    True,
                )
            ]
        )


class BlockStore:
    """Evaluated blocks and finished generations of one fit, in its output folder."""

    def __init__(self, root: Path) -> None:
        self.root = root / ABC_FOLDER

    def block_path(self, generation: int, index: int) -> Path:
        """Where a block's table is kept."""
        return self.root / f"generation_{generation:02d}" / f"block_{index:05d}.parquet"

    def generation_path(self, generation: int) -> Path:
        """Where a finished generation is kept."""
        return self.root / f"generation_{generation:02d}.parquet"

    def read_block(self, generation: int, index: int) -> pa.Table | None:
        """A block simulated earlier, or None."""
        path = self.block_path(generation, index)
        return pq.read_table(path) if path.is_file() else None

    def write_block(self, generation: int, index: int, table: pa.Table) -> None:
        """Keep a block's table (atomically)."""
        path = self.block_path(generation, index)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_parquet_atomic(path, table)

    def write_generation(self, calibration: Calibration, population: Population, seconds: float) -> None:
        """Keep a finished generation: its particles with weights, and its settings in the metadata."""
        table = population_table(calibration, population)
        metadata = {
            "generation": population.generation,
            "epsilon": population.epsilon,
            "proposed": population.proposed,
            "failed": population.failed,
            "seconds": seconds,
        }
        table = table.replace_schema_metadata({f"povsim.{k}": str(v) for k, v in metadata.items()})
        self.root.mkdir(parents=True, exist_ok=True)
        write_parquet_atomic(self.generation_path(population.generation), table)

    def read_generations(self, calibration: Calibration) -> list[Population]:
        """The finished generations, in order (stops at the first missing one)."""
        populations = []
        generation = 0
        while self.generation_path(generation).is_file():
            populations.append(read_population(calibration, self.generation_path(generation)))
            generation += 1
        return populations


def population_table(calibration: Calibration, population: Population) -> pa.Table:
    """A generation as a table: one row per particle."""
    columns: dict[str, object] = {
        "particle": np.arange(len(population.weights)),
        "weight": population.weights,
        "distance": population.distances,
        "simulation": population.simulations,
    }
    for i, name in enumerate(unit_columns(calibration)):
        columns[name] = population.unit[:, i]
    for i, (name, prior) in enumerate(zip(parameter_columns(calibration), calibration.priors, strict=True)):
        columns[name] = prior.from_unit(population.unit[:, i])
    for i, name in enumerate(moment_columns(calibration)):
        columns[name] = population.moments[:, i]
    return pa.table(columns)


def read_population(calibration: Calibration, path: Path) -> Population:
    """A finished generation read back."""
    table = pq.read_table(path)
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}

    def matrix(names: list[str]) -> np.ndarray:
        return np.column_stack([table.column(n).to_numpy() for n in names]).astype(float)

    return Population(
        generation=int(meta["povsim.generation"]),
        epsilon=float(meta["povsim.epsilon"]),
        unit=matrix(unit_columns(calibration)),
        weights=table.column("weight").to_numpy(),
        distances=table.column("distance").to_numpy(),
        moments=matrix(moment_columns(calibration)),
        simulations=table.column("simulation").to_numpy(),
        proposed=int(meta["povsim.proposed"]),
        failed=int(meta["povsim.failed"]),
    )


def evaluated_blocks(
    calibration: Calibration,
    store: BlockStore,
    handle: ExecutorHandle,
    previous: Population | None,
    generation: int,
    run_function: RunFunction,
) -> Iterator[pa.Table]:
    """Every block of a generation in order, simulated on the executor or read from disk.

    A bounded number of blocks is in flight; the caller stops iterating when it has enough,
    and blocks still in flight are then cancelled (or their results dropped).
    """
    window = IN_FLIGHT_PER_SLOT * handle.slots
    in_flight: dict[int, tuple[Future, Block]] = {}
    done: dict[int, pa.Table] = {}
    next_submit = next_yield = 0
    try:
        while True:
            while len(in_flight) < window:
                index = next_submit
                next_submit += 1
                block = propose(calibration, previous, generation, index)
                cached = store.read_block(generation, index)
                if cached is not None:
                    check_cached(calibration, store, block, cached)
                    done[index] = cached
                    continue
                future = handle.executor.submit(run_batch, block_task(calibration, block, run_function))
                in_flight[index] = (future, block)
            while next_yield not in done:
                finished, _ = wait([f for f, _ in in_flight.values()], return_when=FIRST_COMPLETED)
                for index, (future, block) in list(in_flight.items()):
                    if future in finished:
                        del in_flight[index]
                        table = block_table(calibration, block, future.result())
                        check_target_outcomes(calibration, table)
                        store.write_block(generation, index, table)
                        done[index] = table
            yield done.pop(next_yield)
            next_yield += 1
    finally:
        for future, _ in in_flight.values():
            future.cancel()


def run_generation(
    calibration: Calibration,
    store: BlockStore,
    handle: ExecutorHandle,
    previous: Population | None,
    generation: int,
    run_function: RunFunction = run_one,
    used: int = 0,
) -> Population:
    """Simulate one generation to completion and return its accepted particles.

    Args:
        calibration: the calibration.
        store: where blocks are kept (and read back from on resume).
        handle: the executor.
        previous: the last generation (None for generation 0, drawn from the priors).
        generation: this generation's index.
        run_function: what runs one simulation (`run_one`; tests pass stand-ins).
        used: simulations run by the earlier generations; the generation stops early when
            `used` plus its own reach `abc.max_simulations`.
    """
    settings = calibration.spec.abc
    wanted = settings.particles
    rows: list[pa.Table] = []
    proposed = 0
    if previous is None:
        epsilon = np.inf
        needed = wanted * settings.initial_draws_per_particle
    else:
        epsilon = next_epsilon(calibration, previous)
        needed = None
    accepted = 0
    blocks = evaluated_blocks(calibration, store, handle, previous, generation, run_function)
    try:
        for table in blocks:
            rows.append(table)
            proposed += table.num_rows
            accepted += int(np.sum(table.column("distance").to_numpy() <= epsilon))
            enough = proposed >= needed if needed is not None else accepted >= wanted
            if enough or used + proposed >= settings.max_simulations:
                break
    finally:
        blocks.close()
    everything = pa.concat_tables(rows)
    if needed is not None:
        everything = everything.slice(0, needed)
    distance = everything.column("distance").to_numpy()
    failed = int(np.sum(np.asarray(everything.column("status").to_pylist()) != "ok"))
    if previous is None:
        order = np.argsort(distance, kind="stable")[:wanted]
        keep = np.sort(order)
        epsilon = float(distance[order[-1]])
    else:
        keep = np.flatnonzero(distance <= epsilon)[:wanted]
    if not len(keep) or not np.isfinite(distance[keep]).all():
        errors = [e for e in everything.column("error").to_pylist() if e]
        first = f"; the first error: {errors[0]}" if errors else ""
        raise CalibrationFailed(
            f"generation {generation}: no run gave the targets among {proposed} simulations "
            f"({failed} failed{first}); every block is kept in {store.root}"
        )
    unit = np.column_stack([everything.column(c).to_numpy()[keep] for c in unit_columns(calibration)])
    moments = np.column_stack([everything.column(c).to_numpy()[keep] for c in moment_columns(calibration)])
    return Population(
        generation=generation,
        epsilon=float(epsilon),
        unit=unit,
        weights=importance_weights(calibration.priors, unit, previous),
        distances=distance[keep],
        moments=moments,
        simulations=everything.column("simulation").to_numpy()[keep],
        proposed=int(len(everything) if needed is not None else proposed),
        failed=failed,
    )


def run_abc(
    calibration: Calibration,
    out: Path,
    handle: ExecutorHandle,
    say: Notify,
    run_function: RunFunction = run_one,
) -> tuple[list[Population], str]:
    """Run (or resume) the fit until a stopping rule holds; return the generations and why it stopped."""
    store = BlockStore(out)
    populations = store.read_generations(calibration)
    simulations = sum(p.proposed for p in populations)
    for population in populations:
        say(_describe(population, "read back"))
    reason = stop_reason(calibration, populations, simulations) if populations else None
    while reason is None:
        previous = populations[-1] if populations else None
        generation = len(populations)
        started = time.perf_counter()
        population = run_generation(
            calibration, store, handle, previous, generation, run_function, used=simulations
        )
        seconds = time.perf_counter() - started
        store.write_generation(calibration, population, seconds)
        populations.append(population)
        simulations += population.proposed
        say(_describe(population, f"{seconds:.0f} s"))
        reason = stop_reason(calibration, populations, simulations)
    return populations, reason


def _describe(population: Population, how: str) -> str:
    return (
        f"generation {population.generation}: tolerance {population.epsilon:.3g}, "
        f"{len(population.weights)} particles from {population.proposed:,} simulations "
        f"(acceptance {population.acceptance_rate:.1%}, ESS {population.effective_sample_size():.0f}, "
        f"{population.failed} failed; {how})"
    )
