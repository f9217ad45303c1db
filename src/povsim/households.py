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
# "nutrition": a malnourished child). Whether a lack counts as a deprivation is decided by
# the standard in force. Employment is not here: it follows the `jobless` count.
CONDITIONS: tuple[str, ...] = (
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
NOT_LEAVING = -1

# dtype and initial value of each array; anything not listed is float64 and zero.
_COLUMN_TYPES: dict[str, tuple[type, object]] = {
    "commune": (np.int16, 0),
    "urban": (np.bool_, False),
    "ethnic_minority": (np.bool_, False),
    "remote": (np.bool_, False),
    "n_under6": (np.int16, 0),
    "n_6_15": (np.int16, 0),
    "n_16_59": (np.int16, 0),
    "n_60plus": (np.int16, 0),
    "wage_workers": (np.int16, 0),
    "jobless": (np.int16, 0),
    "trained": (np.bool_, False),
    "abroad_months_left": (np.int16, 0),
    "departure_in_months": (np.int16, NOT_LEAVING),
    "illness_months_left": (np.int16, 0),
    "crop_loss_months_left": (np.int16, 0),
    "crop_loss_share": (np.float32, 0.0),
    "arrears_months": (np.int16, 0),
    "loan_defaulted": (np.bool_, False),
    "short_this_month": (np.bool_, False),
    "tuition_exempt_months_left": (np.int16, 0),
    "state_insurance_card": (np.bool_, False),
    "voluntary_insurance_card": (np.bool_, False),
    "value_chain_member": (np.bool_, False),
    "house_type": (np.int8, 3),
    "floor_area_m2": (np.float32, 0.0),
    "status": (np.int8, NO_STATUS),
    "ever_poor": (np.bool_, False),
    "escape_year": (np.int16, NO_YEAR),
    "relapse_count": (np.int16, 0),
    "illness_count": (np.int16, 0),
    "worker_loss_count": (np.int16, 0),
    "job_loss_count": (np.int16, 0),
    "herd_disease_count": (np.int16, 0),
    "disaster_hit_count": (np.int16, 0),
}


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
    # Earnings sources, VND per household per month at end-2021 prices and productivity.
    crops_vnd_month: np.ndarray  # float64, before the seasonal profile
    tea_vnd_month: np.ndarray  # float64, before the seasonal profile
    forestry_vnd_month: np.ndarray  # float64
    livestock_units: np.ndarray  # float64 cattle-equivalent units
    wage_workers: np.ndarray  # int16 members with a regular wage job
    wage_vnd_per_worker_month: np.ndarray  # float64
    jobless: np.ndarray  # int16 working-age members without regular work
    trained: np.ndarray  # bool: a member has had vocational training
    remittance_vnd_month: np.ndarray  # float64 from members working elsewhere in Vietnam
    abroad_months_left: np.ndarray  # int16 months of a contract abroad still to run
    departure_in_months: np.ndarray  # int16 months until a contracted worker leaves (-1: none)
    income_persistent: np.ndarray  # float64 persistent log deviation of earnings (AR(1))
    illness_months_left: np.ndarray  # int16 months of lost work still to come
    crop_loss_months_left: np.ndarray  # int16 months a disaster's harvest loss still lasts
    crop_loss_share: np.ndarray  # float32 share of crop income lost meanwhile
    transfers_vnd_this_month: np.ndarray  # float64 program cash (and in-kind value) this month
    income_vnd_per_person_month: np.ndarray  # float64 this month's income per person
    income_since_review_vnd: np.ndarray  # float64 sum of monthly income per person since the last review
    usual_income_vnd_month: np.ndarray  # float64 household income smoothed over about a year
    # Money.
    savings_vnd: np.ndarray  # float64
    informal_debt_vnd: np.ndarray  # float64
    formal_debt_vnd: np.ndarray  # float64 outstanding principal of preferential loans
    formal_rate_per_year: np.ndarray  # float64 principal-weighted interest rate
    formal_instalment_vnd_month: np.ndarray  # float64 principal due each month
    arrears_vnd: np.ndarray  # float64 unpaid formal instalments
    arrears_months: np.ndarray  # int16 consecutive months in arrears
    loan_defaulted: np.ndarray  # bool: a loan was written off (no new preferential loans)
    short_this_month: np.ndarray  # bool: could not cover subsistence this month
    # Support received.
    tuition_exempt_months_left: np.ndarray  # int16
    state_insurance_card: np.ndarray  # bool: this year's card is state-paid
    voluntary_insurance_card: np.ndarray  # bool: this year's card was bought after losing a state card
    value_chain_member: np.ndarray  # bool
    # Housing and the other conditions behind the indicators.
    house_type: np.ndarray  # int8: 0 makeshift, 1 non-durable, 2 semi-durable, 3 durable
    floor_area_m2: np.ndarray  # float32 total floor area
    lacks: np.ndarray  # bool (households x CONDITIONS)
    # Official history.
    status: np.ndarray  # int8 official status at the last review (standards.Status)
    ever_poor: np.ndarray  # bool: officially poor at some review
    escape_year: np.ndarray  # int16 year of the last review at which it left poverty
    relapse_count: np.ndarray  # int16 times it fell back into poverty after escaping
    # Shocks suffered since the end of 2021.
    illness_count: np.ndarray  # int16 serious illnesses
    worker_loss_count: np.ndarray  # int16 working-age members lost to death or disability
    job_loss_count: np.ndarray  # int16 regular jobs lost
    herd_disease_count: np.ndarray  # int16 herd diseases
    disaster_hit_count: np.ndarray  # int16 disasters that hit the household

    @classmethod
    def empty(cls, household_count: int) -> HouseholdState:
        """Households with every array allocated at its initial value, to be filled in."""
        columns = {}
        for f in fields(cls):
            if f.name == "lacks":
                columns[f.name] = np.zeros((household_count, len(CONDITIONS)), bool)
                continue
            dtype, initial = _COLUMN_TYPES.get(f.name, (np.float64, 0.0))
            columns[f.name] = np.full(household_count, initial, dtype=dtype)
        return cls(**columns)

    @property
    def count(self) -> int:
        """Number of households."""
        return len(self.commune)

    @property
    def n_under16(self) -> np.ndarray:
        """Members aged under 16."""
        return self.n_under6 + self.n_6_15

    @property
    def abroad(self) -> np.ndarray:
        """Whether a member is working abroad under contract."""
        return self.abroad_months_left > 0

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
