"""Labour instruments: vocational training, job placement, and contract work abroad."""

from __future__ import annotations

import numpy as np

from povsim.households import NOT_LEAVING
from povsim.policies.context import PolicyContext
from povsim.policies.credit import lend
from povsim.policies.targeting import applicants
from povsim.sfc64 import uniforms
from povsim.shocks import take_job_at


def vocational_training(ctx: PolicyContext) -> None:
    """Train a jobless member: better chances of regular work and a higher wage."""
    config = ctx.scenario.instruments.vocational_training
    state = ctx.state
    candidates = applicants(ctx, "vocational_training", config, (state.jobless > 0) & ~state.trained)
    funded = ctx.ledger.pay("vocational_training", ctx.year, candidates, config.amount_vnd_per_unit, 1)
    state.trained[funded] = True


def job_placement(ctx: PolicyContext) -> None:
    """Place jobless members in regular work; a share of attempts succeed."""
    scenario = ctx.scenario
    config = scenario.instruments.job_placement
    state = ctx.state
    candidates = applicants(ctx, "job_placement", config, state.jobless > 0)
    funded = ctx.ledger.pay("job_placement", ctx.year, candidates, config.amount_vnd_per_unit, 1)
    success = uniforms(ctx.rngs["job_placement"], state.count)[funded] < config.success_share
    take_job_at(
        state,
        funded[success],
        scenario.livelihoods.district_wage_vnd_per_worker_month,
        scenario.instruments.vocational_training.wage_premium_share,
    )


def labour_export(ctx: PolicyContext) -> None:
    """Send a member abroad under contract: fee support, a loan for the rest, then remittances."""
    config = ctx.scenario.instruments.labour_export
    state = ctx.state
    free = (
        (state.n_16_59 > 0)
        & ~state.abroad
        & (state.departure_in_months == NOT_LEAVING)
        & ~state.loan_defaulted
    )
    candidates = applicants(ctx, "labour_export", config, free)
    funded = ctx.ledger.pay("labour_export", ctx.year, candidates, config.amount_vnd_per_unit, 1)
    lend(
        ctx,
        funded,
        np.full(funded.size, config.fee_loan_vnd),
        np.full(funded.size, config.loan_rate_per_year),
        config.loan_term_months,
    )
    state.departure_in_months[funded] = config.departure_delay_months
