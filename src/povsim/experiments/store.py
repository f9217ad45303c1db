"""The results store of a sweep: a folder of Parquet batches and a manifest, all written atomically.

Layout of a sweep folder:

```
manifest.json       experiment, design, seeds, software, one entry per session, counts
experiment.toml     the experiment file as it was run
design.csv          one row per design point: its parameter values (and unit-cube sample)
runs/               one Parquet file per finished batch: one row per run
tables/ figures/    the analysis, rewritten at the end of every session
```

Every file is written to a temporary name in its folder and renamed into place, so a sweep
killed at any moment leaves only complete files (and temporary debris, removed on resume).
A batch file is the unit of progress: the runs in it are done, those in no file are not.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from povsim.scenario import InputError, Problem

MANIFEST = "manifest.json"
KIND = "povsim-sweep"
FORMAT = 1
RUNS = "runs"
LOCK = ".lock"
TEMPORARY = ".tmp-"


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a temporary file in the same folder, then a rename."""
    temporary = path.parent / f"{TEMPORARY}{os.getpid()}-{path.name}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write strict JSON (no NaN), indented, atomically."""
    write_atomic(path, (json.dumps(data, indent=2, allow_nan=False) + "\n").encode())


def write_parquet_atomic(path: Path, table: pa.Table) -> None:
    """Write a Parquet file atomically."""
    sink = io.BytesIO()
    pq.write_table(table, sink)
    write_atomic(path, sink.getvalue())


def write_csv_atomic(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """Write a CSV file atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(path, text.getvalue().encode())


class SweepStore:
    """A sweep's folder: its manifest, its batches of runs, and a lock held while it is written.

    Args:
        root: the folder.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / RUNS
        self._lock: Any = None

    @staticmethod
    def holds_sweep(root: Path) -> bool:
        """Whether a folder holds a sweep's results."""
        try:
            manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(manifest, dict) and manifest.get("kind") == KIND

    def create(self, manifest: dict[str, Any], files: dict[str, bytes]) -> None:
        """Create the folder whole: write everything into a hidden sibling, then rename it into place.

        Args:
            manifest: the initial manifest.
            files: other files to write, by name relative to the folder.
        """
        root = self.root
        root.parent.mkdir(parents=True, exist_ok=True)
        for stale in root.parent.glob(f".{root.name}{TEMPORARY}*"):  # left by a killed start
            shutil.rmtree(stale, ignore_errors=True)
        staging = root.parent / f".{root.name}{TEMPORARY}{os.getpid()}"
        try:
            (staging / RUNS).mkdir(parents=True)
            for name, data in files.items():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / name).write_bytes(data)
            (staging / MANIFEST).write_text(
                json.dumps(manifest, indent=2, allow_nan=False) + "\n", encoding="utf-8"
            )
            if root.is_dir():
                # An empty folder the user made: move our files into it.
                for child in staging.iterdir():
                    os.replace(child, root / child.name)
                staging.rmdir()
            else:
                staging.rename(root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def lock(self) -> None:
        """Take the folder's lock, or refuse: two sweeps must not write to the same folder."""
        handle = open(self.root / LOCK, "a+")  # noqa: SIM115 - held open until `unlock`
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InputError(
                [
                    Problem(
                        "--out",
                        "",
                        "is being written by another povsim sweep; expected a folder no other sweep is using",
                        str(self.root),
                        True,
                    )
                ]
            ) from None
        self._lock = handle

    def unlock(self) -> None:
        """Release the folder's lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def manifest(self) -> dict[str, Any]:
        """The current manifest."""
        return json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically."""
        write_json_atomic(self.root / MANIFEST, manifest)

    def remove_debris(self) -> int:
        """Delete temporary files left by a killed session; return how many there were."""
        removed = 0
        for folder in (self.root, self.runs, self.root / "tables", self.root / "figures"):
            if not folder.is_dir():
                continue
            for path in folder.glob(f"{TEMPORARY}*"):
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
        return removed

    def batch_files(self) -> list[Path]:
        """The finished batch files, in name order."""
        if not self.runs.is_dir():
            return []
        return sorted(p for p in self.runs.glob("*.parquet") if not p.name.startswith(TEMPORARY))

    def next_session(self) -> int:
        """A session number no batch file or manifest entry uses yet."""
        used = [int(p.name[1:4]) for p in self.batch_files() if p.name[1:4].isdigit()]
        used += [s.get("session", 0) for s in self.manifest().get("sessions", [])]
        return max(used, default=0) + 1

    def write_batch(self, session: int, index: int, table: pa.Table) -> Path:
        """Write a finished batch atomically; its runs are then done."""
        path = self.runs / f"s{session:03d}-b{index:06d}.parquet"
        write_parquet_atomic(path, table)
        return path

    def done(self) -> set[tuple[int, int]]:
        """The (point, replicate) pairs of every recorded run."""
        pairs: set[tuple[int, int]] = set()
        for table in self.iter_batches(["point", "replicate"]):
            pairs.update(
                zip(table.column("point").to_pylist(), table.column("replicate").to_pylist(), strict=True)
            )
        return pairs

    def iter_batches(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        """Each batch file's table (only `columns` when given: columns a file lacks are skipped)."""
        for path in self.batch_files():
            yield self.read_batch(path, columns)

    def read_batch(self, path: Path, columns: list[str] | None = None) -> pa.Table:
        """One batch file's table (only `columns` when given: columns the file lacks are skipped)."""
        try:
            names = pq.read_schema(path).names
            wanted = None if columns is None else [c for c in columns if c in names]
            return pq.read_table(path, columns=wanted)
        except (OSError, pa.ArrowException) as error:
            raise InputError(
                [
                    Problem(
                        str(path),
                        "",
                        f"is not a readable batch of runs ({error}); expected a Parquet file written "
                        "by povsim sweep (delete it to have its runs done again on --resume)",
                    )
                ]
            ) from None
