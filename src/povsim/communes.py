"""The communes of Son Duong district, read from `data/communes.csv` (sources in that folder)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class Communes:
    """One entry per commune-level unit, as parallel arrays."""

    names: tuple[str, ...]
    urban: np.ndarray  # bool
    households: np.ndarray  # int64, as recorded (used as weights)
    ethnic_minority_share: np.ndarray  # float64
    remote: np.ndarray  # bool
    flood_exposed: np.ndarray  # bool

    @property
    def count(self) -> int:
        """Number of communes."""
        return len(self.names)

    @property
    def household_weights(self) -> np.ndarray:
        """Each commune's share of the district's households."""
        return self.households / self.households.sum()


@cache
def son_duong_communes() -> Communes:
    """The shipped table of Son Duong's 30 commune-level units."""
    text = resources.files("povsim.data").joinpath("communes.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    column = lambda name, kind: np.array([kind(r[name]) for r in rows])  # noqa: E731
    return Communes(
        names=tuple(r["commune"] for r in rows),
        urban=column("is_urban", int).astype(bool),
        households=column("households", int),
        ethnic_minority_share=column("ethnic_minority_share", float),
        remote=column("remote", int).astype(bool),
        flood_exposed=column("lo_river_flood_exposed", int).astype(bool),
    )
