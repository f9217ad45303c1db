"""What an instrument sees when it runs: the households, the month, its settings, the ledger."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from povsim.households import HouseholdState
from povsim.policies.ledger import Ledger
from povsim.scenario.schema import Scenario


@dataclass
class PolicyContext:
    """One month's view for the instruments; built by the model each month."""

    state: HouseholdState
    scenario: Scenario
    ledger: Ledger
    year: int
    month: int
    months_elapsed: int
    trend: float  # nominal earnings and prices relative to December 2021
    livestock_unit_price_vnd: float  # this month's price of a livestock unit
    rngs: dict[str, np.random.Generator]  # one stream per instrument id
