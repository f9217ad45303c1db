"""Household state as a struct of numpy arrays, and the `Household` agent view onto one row.

All household updates on the monthly path are vectorised over these arrays. The agent
view exists for per-household access in Mesa's terms (inspection, dashboards) and is
created only on request.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from povsim.model import PovertyModel

# Boolean living conditions tracked in `HouseholdState.lacks`, one column each. A True
# cell means the household lacks it (e.g. "domestic_water": no safe water source;
# "employment": a working-age member without regular work; "nutrition": a malnourished
# child). Whether a lack counts as a deprivation is decided by the standard in force.
CONDITIONS: tuple[str, ...] = (
    "employment",
    "nutrition",
    "health_insurance",
    "adult_education",
    "child_school_attendance",
    "domestic_water",
    "hygienic_latrine",
    "telecom_use",
    "information_means",
    "digital_services",
    "internet_access",
    "waste_handling",
)
_CONDITION_INDEX = {name: i for i, name in enumerate(CONDITIONS)}

NO_STATUS = -1
NO_YEAR = -1


@dataclass
class HouseholdState:
    """Every household's state; row i of every array is household i."""

    commune: np.ndarray  # int16 index into the communes table
    urban: np.ndarray  # bool
    ethnic_minority: np.ndarray  # bool
    remote: np.ndarray  # bool
    n_under6: np.ndarray  # int16 members aged 0-5
    n_6_15: np.ndarray  # int16 members aged 6-15
    n_16_59: np.ndarray  # int16 members of working age
    n_60plus: np.ndarray  # int16 members aged 60 and over
    log_income_permanent: np.ndarray  # float64 log VND per person per month, 2021 prices
    income_persistent: np.ndarray  # float64 persistent log deviation (AR(1))
    illness_months_left: np.ndarray  # int16 months of lost work still to come
    income_vnd_per_person_month: np.ndarray  # float64 this month's income per person
    income_since_review_vnd: np.ndarray  # float64 sum of monthly income per person since the last review
    house_type: np.ndarray  # int8: 0 makeshift, 1 non-durable, 2 semi-durable, 3 durable
    floor_area_m2: np.ndarray  # float32 total floor area
    lacks: np.ndarray  # bool (households x CONDITIONS)
    status: np.ndarray  # int8 official status at the last review (standards.Status)
    ever_poor: np.ndarray  # bool: officially poor at some review
    escape_year: np.ndarray  # int16 year of the last review at which it left poverty
    relapse_count: np.ndarray  # int16 times it fell back into poverty after escaping

    @property
    def count(self) -> int:
        """Number of households."""
        return len(self.commune)

    @property
    def n_under16(self) -> np.ndarray:
        """Members aged under 16."""
        return self.n_under6 + self.n_6_15

    @property
    def size(self) -> np.ndarray:
        """Members of each household."""
        return self.n_under6 + self.n_6_15 + self.n_16_59 + self.n_60plus

    @staticmethod
    def condition(name: str) -> int:
        """Column of `lacks` that holds the named living condition."""
        return _CONDITION_INDEX[name]

    def row(self, index: int) -> dict[str, object]:
        """One household's state as plain Python values."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)[index]
            if f.name == "lacks":
                out[f.name] = [c for c, lacking in zip(CONDITIONS, value, strict=True) if lacking]
            else:
                out[f.name] = value.item()
        return out


class Household(mesa.Agent):
    """A view onto one household's row of the model's arrays; it holds no state of its own."""

    def __init__(self, model: PovertyModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def state(self) -> dict[str, object]:
        """This household's current state."""
        return self.model.households.row(self.row)

    @property
    def income_vnd_per_person_month(self) -> float:
        """This month's income per person."""
        return float(self.model.households.income_vnd_per_person_month[self.row])

    @property
    def status(self) -> int:
        """Official status at the last review (a `povsim.standards.Status` code)."""
        return int(self.model.households.status[self.row])

    @property
    def ethnic_minority(self) -> bool:
        """Whether the household belongs to an ethnic minority."""
        return bool(self.model.households.ethnic_minority[self.row])
