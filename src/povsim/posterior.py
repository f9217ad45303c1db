"""Posterior samples from `povsim calibrate`, as scenarios use them.

A scenario with `[posterior] file = "..."` runs each replicate with a parameter set drawn
from the posterior by weight, on a random stream of its own: replicate r draws the same
particle in every scenario that names the same posterior (common random numbers), so policy
comparisons stay paired across parameter uncertainty as well as across chance.

The file is a Parquet table with a `weight` column and one `parameter.<scenario path>`
column per calibrated parameter (other columns, such as the moments, are informative).
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PARAMETER_PREFIX = "parameter."
POSTERIOR_STREAM = 0x9057  # spawn-key prefix of the draws, apart from the replicates' own streams
FORBIDDEN_PREFIXES = ("run.", "calendar.", "posterior.")


class PosteriorFileError(ValueError):
    """A posterior file that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class PosteriorSample:
    """A weighted sample of parameter sets.

    Attributes:
        path: the file.
        sha256: the file's fingerprint, recorded in run manifests.
        paths: the scenario paths of the parameters.
        values: one row per particle, one column per path.
        weights: normalised weights.
        metadata: the file's povsim metadata (calibration name, tolerance, ...).
    """

    path: Path
    sha256: str
    paths: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    metadata: dict[str, str]

    def draw(self, master_seed: int, replicate: int) -> tuple[int, dict[str, float]]:
        """The particle replicate `replicate` runs with, and its parameter values by path."""
        seed = np.random.SeedSequence(master_seed, spawn_key=(POSTERIOR_STREAM, replicate))
        particle = int(np.random.default_rng(seed).choice(len(self.weights), p=self.weights))
        return particle, dict(zip(self.paths, map(float, self.values[particle]), strict=True))

    def describe(self) -> dict[str, Any]:
        """What a run manifest records about the posterior."""
        return {
            "file": str(self.path),
            "sha256": self.sha256,
            "particles": len(self.weights),
            "effective_sample_size": round(float(1.0 / np.sum(self.weights**2)), 1),
            "parameters": list(self.paths),
            "calibration": self.metadata.get("povsim.calibration"),
            "draw_scheme": (
                f"numpy SeedSequence(master_seed, spawn_key=({POSTERIOR_STREAM:#x}, replicate)); "
                "one particle chosen by weight"
            ),
            "tolerance": self.metadata.get("povsim.epsilon"),
        }


def load_posterior(path: str | Path) -> PosteriorSample:
    """Read a posterior file (cached by path, size and modification time).

    Raises:
        PosteriorFileError: the file is missing, not Parquet, or not a posterior sample.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as error:
        raise PosteriorFileError(f"cannot be read ({error.strerror or error})") from None
    return _load(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load(path: str, _size: int, _mtime_ns: int) -> PosteriorSample:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = Path(path).read_bytes()
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise PosteriorFileError(f"is not a Parquet file ({error})") from None
    columns = table.column_names
    paths = tuple(c[len(PARAMETER_PREFIX) :] for c in columns if c.startswith(PARAMETER_PREFIX))
    if "weight" not in columns or not paths:
        raise PosteriorFileError(
            "is not a posterior sample: expected a 'weight' column and 'parameter.<scenario path>' columns "
            f"(it has {', '.join(columns[:8]) or 'no columns'})"
        )
    for key in paths:
        if key.startswith(FORBIDDEN_PREFIXES):
            raise PosteriorFileError(
                f"draws {key!r}, which sets how runs are made; expected model parameters"
            )
    try:
        values = np.column_stack([table.column(PARAMETER_PREFIX + p).to_numpy() for p in paths]).astype(float)
        weights = table.column("weight").to_numpy().astype(float)
    except (pa.ArrowException, ValueError, TypeError) as error:
        raise PosteriorFileError(f"has non-numeric weights or parameters ({error})") from None
    if not len(weights) or not np.isfinite(values).all():
        raise PosteriorFileError("has no particles, or missing parameter values")
    total = float(weights.sum()) if np.isfinite(weights).all() else math.nan
    if (weights < 0).any() or not total > 0:
        raise PosteriorFileError(
            "has negative, missing or all-zero weights; expected weights >= 0 summing above 0"
        )
    metadata = {
        k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items() if k.startswith(b"povsim.")
    }
    return PosteriorSample(
        path=Path(path),
        sha256=hashlib.sha256(data).hexdigest(),
        paths=paths,
        values=values,
        weights=weights / total,
        metadata=metadata,
    )


def parameter_ranges(sample: PosteriorSample) -> dict[str, tuple[float, float]]:
    """Each parameter's smallest and largest value in the sample."""
    return {
        p: (float(sample.values[:, i].min()), float(sample.values[:, i].max()))
        for i, p in enumerate(sample.paths)
    }
