"""The National Target Program's instruments, run through a budget ledger.

Each instrument is a function of the month's `PolicyContext` that selects households,
pays them through the `Ledger` (never beyond the year's budget) and changes the state the
instrument acts on. `run_instruments` calls those due this month, in a fixed order.
"""

from __future__ import annotations

from collections.abc import Callable

from povsim.policies import credit, education, health_insurance, housing, labour, livelihoods, transfers
from povsim.policies.context import PolicyContext
from povsim.policies.ledger import INSTRUMENT_IDS, Ledger
from povsim.policies.targeting import is_active
from povsim.scenario.schema import Scenario

INSTRUMENTS: dict[str, Callable[[PolicyContext], None]] = {
    "preferential_loans": credit.preferential_loans,
    "student_loans": credit.student_loans,
    "water_sanitation_loans": credit.water_sanitation_loans,
    "tuition_exemption": education.tuition_exemption,
    "study_cost_support": education.study_cost_support,
    "health_insurance": health_insurance.health_insurance,
    "electricity_support": transfers.electricity_support,
    "housing_support": housing.housing_support,
    "vocational_training": labour.vocational_training,
    "job_placement": labour.job_placement,
    "labour_export": labour.labour_export,
    "livestock_support": livelihoods.livestock_support,
    "value_chain_support": livelihoods.value_chain_support,
    "food_aid": transfers.food_aid,
}
# Instruments called in their month even outside their dates, to let what they gave lapse.
RUN_AFTER_END = frozenset({"health_insurance"})

__all__ = ["INSTRUMENTS", "INSTRUMENT_IDS", "Ledger", "PolicyContext", "instruments_due", "run_instruments"]


def instruments_due(scenario: Scenario, month: int) -> tuple[str, ...]:
    """The instruments whose month this is: their disbursement month (food aid: a crop-gap month)."""
    due = []
    for instrument in INSTRUMENTS:
        config = getattr(scenario.instruments, instrument)
        months = config.crop_gap_months if instrument == "food_aid" else (config.disbursement_month,)
        if month in months:
            due.append(instrument)
    return tuple(due)


def run_instruments(ctx: PolicyContext, due: tuple[str, ...] | None = None) -> None:
    """Run every instrument due this month (`instruments_due`, if not given), in a fixed order.

    An instrument runs if it is active (enabled and within its dates); health insurance
    runs in its month whatever its dates, to let the cards it gave lapse.
    """
    for instrument in instruments_due(ctx.scenario, ctx.month) if due is None else due:
        config = getattr(ctx.scenario.instruments, instrument)
        if instrument in RUN_AFTER_END or is_active(ctx, config):
            INSTRUMENTS[instrument](ctx)
