"""A comparison folder as stored: its manifest and tables, read back for the figures and report.

Figures and the report are drawn from what this module reads, never from values computed in
memory, so every number they show is a cell of a stored table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

KIND = "povsim-comparison"
TABLES = {
    "scenarios": "tables/scenarios.csv",
    "observed": "tables/observed.csv",
    "outcomes": "tables/outcomes.csv",
    "differences": "tables/differences.csv",
    "spending": "tables/spending.csv",
    "costs": "tables/costs.csv",
    "standard_change": "tables/standard_change.csv",
    "scenario_changes": "tables/scenario_changes.csv",
    "hazard": "tables/hazard.csv",
    "who_relapses": "tables/who_relapses.csv",
    "communes": "tables/communes.csv",
    "replicates": "tables/replicates.parquet",
}
# Text columns that must stay text when read back (e.g. a scenario named "2030").
TEXT_COLUMNS = {
    "scenario": str,
    "baseline": str,
    "name": str,
    "outcome": str,
    "instrument": str,
    "commune": str,
    "group": str,
    "dimension": str,
    "key": str,
    "baseline_value": str,
    "value": str,
    "reading": str,
    "description": str,
    "folder": str,
    "point": str,
    "switch_year": str,
    "standard": str,
    "variant": str,
}


@dataclass
class Stored:
    """A comparison folder's manifest and tables.

    Attributes:
        folder: the comparison folder.
        manifest: manifest.json.
        tables: table name -> DataFrame, for the CSV tables present (not replicates.parquet).
    """

    folder: Path
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    def table(self, name: str) -> pd.DataFrame:
        """A table, or an empty one if the comparison has none of that name."""
        return self.tables.get(name, pd.DataFrame())

    @property
    def baseline(self) -> str:
        """The baseline scenario's label."""
        return str(self.manifest["baseline"])

    @property
    def labels(self) -> list[str]:
        """The compared scenarios, in the order given."""
        return [str(s["label"]) for s in self.manifest["scenarios"]]


def read_stored(folder: Path) -> Stored:
    """Read a comparison folder's manifest and CSV tables."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    tables = {}
    for name, relative in TABLES.items():
        path = folder / relative
        if path.suffix == ".csv" and path.is_file():
            header = pd.read_csv(path, nrows=0).columns
            dtypes = {c: TEXT_COLUMNS[c] for c in header if c in TEXT_COLUMNS}
            # pandas 3 parses floats exactly as written (round trip), so cells equal the values stored.
            frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
            tables[name] = frame
    return Stored(folder=folder, manifest=manifest, tables=tables)
