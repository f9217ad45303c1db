"""Where batches run: in this process, a local process pool, or a Dask cluster.

All three are `concurrent.futures.Executor`s, so the sweep submits and collects batches the
same way whichever runs them, and gets the same numbers from each.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from povsim.scenario.errors import problem

WORKER_MODULE = "povsim.experiments.worker"
DASK_CONNECT_SECONDS = 30.0


class InlineExecutor(Executor):
    """Runs each submitted call at once, in this process (one worker, no transport)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run `fn(*args, **kwargs)` now and return a finished future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            future.set_exception(error)
        return future


@dataclass
class ExecutorHandle:
    """An open executor and what the sweep needs to know about it.

    Attributes:
        executor: the executor.
        slots: how many batches it runs at once.
        label: how the manifest and the progress line describe it.
    """

    executor: Executor
    slots: int
    label: str


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - platforms without affinity
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def open_executor(workers: int, scheduler: str | None = None) -> Iterator[ExecutorHandle]:
    """Open the executor the command line asks for and close it afterwards.

    Args:
        workers: local processes (or LocalCluster workers); 1 without a scheduler runs
            batches in this process.
        scheduler: None for local execution; "local" to start a Dask `LocalCluster` with
            `workers` single-threaded worker processes; or a Dask scheduler address such as
            tcp://host:8786.

    Raises:
        InputError: when the scheduler cannot be reached or Dask is not installed.
    """
    if scheduler is None:
        if workers <= 1:
            yield ExecutorHandle(InlineExecutor(), 1, "in-process")
            return
        # Forking a process that already runs threads (pyarrow, BLAS) can deadlock; a fork
        # server forks workers from a clean process that has imported the worker module once.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([WORKER_MODULE])
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        try:
            yield ExecutorHandle(pool, workers, f"process pool ({workers} workers)")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    with _dask(workers, scheduler) as handle:
        yield handle


@contextlib.contextmanager
def _dask(workers: int, scheduler: str) -> Iterator[ExecutorHandle]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is a dependency
        raise problem("--scheduler", "", "needs dask[distributed] installed", scheduler) from None
    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            )
            client = Client(cluster)
            label = f"dask LocalCluster ({workers} workers)"
        else:
            try:
                client = Client(scheduler, timeout=DASK_CONNECT_SECONDS)
                client.wait_for_workers(1, timeout=DASK_CONNECT_SECONDS)
            except (OSError, TimeoutError) as error:
                raise problem(
                    "--scheduler",
                    "",
                    f"cannot reach a Dask scheduler with workers there ({error}); expected the address "
                    "of a running scheduler, e.g. tcp://host:8786, or 'local'",
                    scheduler,
                ) from None
            label = f"dask scheduler {scheduler}"
        slots = max(1, sum(client.nthreads().values()))
        try:
            yield ExecutorHandle(client.get_executor(pure=False), slots, f"{label}, {slots} threads")
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
