"""Shocks: illness, loss of a worker, jobs, migrants, livestock disease, prices, epidemics, disasters.

Each function changes household state directly (a house is damaged, a herd shrinks, a job
is lost) and returns any cash cost the household must meet this month; the economy's
coping rules then decide what the household gives up.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numba import njit

from povsim.communes import Communes
from povsim.economy import PRODUCTS, MarketConditions
from povsim.exponentials import ACCEPT_BELOW, DENSITY_AT_EDGE, WIDTH_PER_UNIT
from povsim.household_loops import (
    COMPILE,
    change_jobs_at,
    count_down_households,
    depart_migrants,
    fall_ill_at,
    kill_livestock_at,
    mark_disaster_households,
    remove_workers_at,
    strike_disaster_households,
    take_jobs_at,
)
from povsim.households import NOT_LEAVING, HouseholdState
from povsim.sampling import candidates_with_uniforms, chance_indices, chance_rows, true_rows
from povsim.scenario.schema import Scenario
from povsim.sfc64 import fill_uniforms, state_words
from povsim.standards import Status

RAINY_MONTHS = (6, 7, 8, 9)
STORM_MONTHS = (7, 8, 9, 10)
EPIDEMIC_MONTHS = 6
OUTBREAK_MONTHS = 3
TREATMENT_COST_LOG_SD = 0.8
# Members of a household hit by the death (rather than disability) of a worker.
WORKER_DEATH_SHARE = 0.5
# Household members counted for "any of them is hit" chances (more are treated as this many).
MAX_COUNTED_MEMBERS = 15


def monthly_prob(per_year: float) -> float:
    """The monthly chance equivalent to a yearly chance."""
    return 1.0 - (1.0 - per_year) ** (1.0 / 12.0)


@functools.lru_cache(maxsize=64)
def any_of_table(prob: float) -> np.ndarray:
    """Chance that at least one of k independent people is hit, each with `prob`, for k = 0..cap.

    Asked for every month with the same chance, so the (read-only) table is cached.
    """
    table = 1.0 - (1.0 - prob) ** np.arange(MAX_COUNTED_MEMBERS + 1)
    table.flags.writeable = False
    return table


def disaster_possible(scenario: Scenario, year: int, month: int) -> bool:
    """Whether any disaster can strike this month (its draws are skipped otherwise)."""
    return month in RAINY_MONTHS or month in STORM_MONTHS or bool(scheduled_this_month(scenario, year, month))


def advance_market(market: MarketConditions, scenario: Scenario, uniforms: np.ndarray) -> None:
    """Move prices back toward trend, start price falls, epidemics and livestock outbreaks.

    Args:
        market: updated in place.
        scenario: the parameters.
        uniforms: at least len(PRODUCTS) + 2 uniform draws.
    """
    s = scenario.shocks
    # A handful of numbers: Python floats (the same IEEE arithmetic) cost less than numpy calls.
    draws = uniforms.tolist()
    deviation = market.price_log_deviation
    kept, fall_chance = 1.0 - s.price_recovery_per_month, monthly_prob(s.price_fall_prob_per_year)
    fall = float(np.log1p(-s.price_fall_share))
    for product in range(len(PRODUCTS)):
        value = float(deviation[product]) * kept
        deviation[product] = value + fall if draws[product] < fall_chance else value
    if market.epidemic_months_left > 0:
        market.epidemic_months_left -= 1
    elif draws[len(PRODUCTS)] < monthly_prob(s.epidemic_prob_per_year):
        market.epidemic_months_left = EPIDEMIC_MONTHS
    if market.outbreak_months_left > 0:
        market.outbreak_months_left -= 1
    elif draws[len(PRODUCTS) + 1] < monthly_prob(s.livestock_outbreak_prob_per_year):
        market.outbreak_months_left = OUTBREAK_MONTHS


def start_illnesses(
    state: HouseholdState, scenario: Scenario, rng: np.random.Generator, poor_card_paid_share: float
) -> tuple[np.ndarray, int]:
    """Draw this month's serious illnesses; return out-of-pocket treatment costs and the count."""
    candidates = chance_indices(rng, state.count, scenario.shocks.illness_prob_per_month)
    return fall_ill(state, scenario, candidates, rng.standard_normal(candidates.size), poor_card_paid_share)


def fall_ill(
    state: HouseholdState,
    scenario: Scenario,
    candidates: np.ndarray,
    cost_normals: np.ndarray,
    poor_card_paid_share: float,
) -> tuple[np.ndarray, int]:
    """Start illness episodes in the candidate households not already ill.

    Insurance pays its share of the (log-normal) treatment cost for card holders, a larger
    share for state-paid cards of poor households; the rest falls on the household.

    Returns:
        Each household's out-of-pocket cost this month, and how many fell ill.
    """
    s = scenario.shocks
    cost = np.zeros(state.count)
    if s.illness_treatment_cost_vnd > 0.0:
        mean_log = np.log(s.illness_treatment_cost_vnd) - 0.5 * TREATMENT_COST_LOG_SD**2
        cost_before_insurance = np.exp(mean_log + TREATMENT_COST_LOG_SD * cost_normals)
    else:
        cost_before_insurance = np.zeros(candidates.size)
    sick = fall_ill_at(
        candidates,
        cost_before_insurance,
        s.illness_duration_months,
        state.illness_months_left,
        state.illness_count,
        state.lacks[:, state.condition("health_insurance")],
        state.state_insurance_card,
        state.status,
        int(Status.POOR),
        s.insurance_paid_cost_share,
        poor_card_paid_share,
        cost,
    )
    return cost, sick


def lose_workers(state: HouseholdState, scenario: Scenario, rng: np.random.Generator) -> int:
    """Draw deaths and disabilities of working-age members this month; return how many."""
    table = worker_loss_table(scenario)
    candidates = chance_indices(rng, state.count, table[-1])
    # Per candidate: thinning to the household's chance, which worker, whether a death.
    return remove_workers(state, candidates, rng.random((3, candidates.size)), table)


def remove_workers(
    state: HouseholdState, candidates: np.ndarray, draws: np.ndarray, loss_prob_by_workers: np.ndarray
) -> int:
    """A working-age member of each candidate household hit is lost to work for good; return how many.

    Candidates are drawn at the chance for the most members counted (the table's last
    entry) and kept with the chance for their own working-age members (draws[0]). A wage
    worker loses the wage (chosen in proportion to wage workers among workers, draws[1]);
    otherwise the farm loses one worker's share, counting the rest of the household
    (elderly, teenagers) as one more pair of hands, so a farm never stops entirely. Half the
    losses are deaths (draws[2]), which also remove the member (never the household's last
    adult). See `household_loops.remove_workers_at`.
    """
    return remove_workers_at(
        candidates,
        draws,
        loss_prob_by_workers,
        WORKER_DEATH_SHARE,
        state.worker_loss_count,
        state.n_16_59,
        state.n_60plus,
        state.jobless,
        state.wage_workers,
        state.crops_vnd_month,
        state.tea_vnd_month,
    )


def change_jobs(
    state: HouseholdState,
    scenario: Scenario,
    rng: np.random.Generator,
    district_wage_vnd: float,
    training_multiplier: float,
    trained_wage_premium: float,
) -> None:
    """Wage workers lose regular work; jobless members find it (more often if trained)."""
    # Each move's candidates at its bound, thinned to each household's chance by the loop.
    loss = candidates_with_uniforms(rng, state.count, job_loss_table(scenario)[-1])
    finding_bound = job_finding_bound(scenario, training_multiplier)
    finding = candidates_with_uniforms(rng, state.count, finding_bound)
    move_jobs(state, scenario, *loss, *finding, finding_bound, district_wage_vnd, trained_wage_premium)


def move_jobs(
    state: HouseholdState,
    scenario: Scenario,
    loss_candidates: np.ndarray,
    loss_uniforms: np.ndarray,
    finding_candidates: np.ndarray,
    finding_uniforms: np.ndarray,
    finding_bound: float,
    district_wage_vnd: float,
    trained_wage_premium: float,
) -> None:
    """The job moves of `change_jobs`, for candidates drawn at the bounds with a uniform each.

    The job-loss candidates are drawn at `job_loss_table`'s last chance, the job-finding
    ones at `finding_bound` (`job_finding_bound`), which the thinning must use as well.
    """
    change_jobs_at(
        loss_candidates,
        loss_uniforms,
        job_loss_table(scenario),
        finding_candidates,
        finding_uniforms,
        finding_bound,
        scenario.economy.job_finding_prob_per_month,
        district_wage_vnd,
        trained_wage_premium,
        state.wage_workers,
        state.jobless,
        state.job_loss_count,
        state.trained,
        state.wage_vnd_per_worker_month,
    )


def worker_loss_table(scenario: Scenario) -> np.ndarray:
    """Monthly chance of losing a worker, by the household's working-age members (`any_of_table`)."""
    return any_of_table(monthly_prob(scenario.shocks.worker_loss_prob_per_year))


def job_loss_table(scenario: Scenario) -> np.ndarray:
    """Monthly chance of losing a regular job, by the household's wage workers (`any_of_table`)."""
    return any_of_table(scenario.shocks.job_loss_prob_per_month)


def job_finding_bound(scenario: Scenario, training_multiplier: float) -> float:
    """The highest monthly chance of finding work, a trained member's (candidates are drawn at it)."""
    return min(scenario.economy.job_finding_prob_per_month * max(training_multiplier, 1.0), 1.0)


def take_job_at(
    state: HouseholdState, rows: np.ndarray, district_wage_vnd: float, trained_wage_premium: float
) -> None:
    """A jobless member of each listed household (distinct indices) starts a regular wage job.

    A household that has had wage work keeps its own wage level; one that never had it
    earns the district wage, plus the training premium if a member was trained.
    """
    take_jobs_at(
        rows,
        district_wage_vnd,
        trained_wage_premium,
        state.jobless,
        state.wage_workers,
        state.trained,
        state.wage_vnd_per_worker_month,
    )


def move_migrants(
    state: HouseholdState, scenario: Scenario, contract_months: int, rng: np.random.Generator
) -> None:
    """Contracted workers leave when their delay ends; workers abroad may lose the job early."""
    fired = chance_indices(rng, state.count, scenario.shocks.migrant_job_loss_prob_per_month)
    depart_and_fire(state, contract_months, fired)


def depart_and_fire(state: HouseholdState, contract_months: int, fired: np.ndarray) -> None:
    """Contracted workers leave when their delay ends; those abroad in the `fired` rows come home."""
    depart_migrants(
        state.departure_in_months, state.abroad_months_left, state.jobless, contract_months, NOT_LEAVING
    )
    state.abroad_months_left[fired] = 0


def spread_livestock_disease(
    state: HouseholdState, scenario: Scenario, market: MarketConditions, rng: np.random.Generator
) -> int:
    """Draw herd diseases this month (more during an outbreak); return how many herds were hit."""
    candidates = chance_indices(rng, state.count, herd_disease_risk(scenario, market))
    return kill_livestock(state, scenario, candidates)


def herd_disease_risk(scenario: Scenario, market: MarketConditions) -> float:
    """This month's chance that a household's herd falls ill (higher during an outbreak)."""
    s = scenario.shocks
    risk = s.livestock_disease_prob_per_month
    if market.outbreak_months_left > 0:
        risk = min(risk * s.livestock_outbreak_risk_multiplier, 1.0)
    return risk


def kill_livestock(state: HouseholdState, scenario: Scenario, candidates: np.ndarray) -> int:
    """Disease kills part of the herd of each candidate household that has one."""
    kept = 1.0 - scenario.shocks.livestock_disease_loss_share
    return kill_livestock_at(candidates, kept, state.livestock_units, state.herd_disease_count)


@dataclass(frozen=True)
class MonthShocks:
    """The households a month's shocks may hit, with the draws that go with them.

    The rows and draws of `start_illnesses` (before its cost normals), `lose_workers`,
    `change_jobs`, `move_migrants` and `spread_livestock_disease`, and the month's
    candidates to take a child out of school: what those functions draw, in the same order
    from the same streams.
    """

    illness: np.ndarray
    worker_loss: np.ndarray
    worker_loss_draws: np.ndarray  # (3, rows): thinning, which worker, whether a death
    job_loss: np.ndarray
    job_loss_uniforms: np.ndarray
    job_finding: np.ndarray
    job_finding_uniforms: np.ndarray
    migrants_fired: np.ndarray
    herd_disease: np.ndarray
    school_withdrawal: np.ndarray
    job_finding_bound: float  # the chance the job-finding candidates were drawn at


def draw_month_shocks(
    household_count: int,
    scenario: Scenario,
    market: MarketConditions,
    streams: dict[str, np.random.Generator],
    training_multiplier: float,
) -> MonthShocks:
    """Draw the month's household shocks, all in one compiled call (`draw_shock_rows`).

    A month draws the rows of seven events from five streams. One call draws them all,
    where seven calls of `chance_indices` and three of `Generator.random` cost, with their
    Python around them, about a seventh of a month at a few hundred households.
    `streams` holds the model's SFC64 streams by name.
    """
    s = scenario.shocks
    finding_bound = job_finding_bound(scenario, training_multiplier)
    rows = draw_shock_rows(
        household_count,
        state_words(streams["illness"]),
        s.illness_prob_per_month,
        state_words(streams["work"]),
        worker_loss_table(scenario)[-1],
        job_loss_table(scenario)[-1],
        finding_bound,
        state_words(streams["migration"]),
        s.migrant_job_loss_prob_per_month,
        state_words(streams["livestock"]),
        herd_disease_risk(scenario, market),
        state_words(streams["coping"]),
        scenario.coping.child_withdrawal_prob_per_short_month,
        ACCEPT_BELOW,
        WIDTH_PER_UNIT,
        DENSITY_AT_EDGE,
    )
    return MonthShocks(*rows, job_finding_bound=finding_bound)


def apply_month_shocks(
    state: HouseholdState,
    scenario: Scenario,
    shocks: MonthShocks,
    illness_cost_normals: np.ndarray,
    district_wage_vnd: float,
    trained_wage_premium: float,
) -> tuple[np.ndarray, int, int, int]:
    """The drawn shocks, in the order of the per-process functions; what they cost and hit.

    Illnesses (`fall_ill`, with a treatment-cost normal per candidate), losses of workers,
    job moves, migrants' departures and job losses abroad, herd diseases. Returns each
    household's out-of-pocket treatment cost, and how many fell ill, lost a worker and lost
    part of a herd.
    """
    instruments = scenario.instruments
    cost, illnesses = fall_ill(
        state,
        scenario,
        shocks.illness,
        illness_cost_normals,
        instruments.health_insurance.poor_card_paid_cost_share,
    )
    workers_lost = remove_workers(
        state, shocks.worker_loss, shocks.worker_loss_draws, worker_loss_table(scenario)
    )
    move_jobs(
        state,
        scenario,
        shocks.job_loss,
        shocks.job_loss_uniforms,
        shocks.job_finding,
        shocks.job_finding_uniforms,
        shocks.job_finding_bound,
        district_wage_vnd,
        trained_wage_premium,
    )
    depart_and_fire(state, instruments.labour_export.contract_months, shocks.migrants_fired)
    herds_hit = kill_livestock(state, scenario, shocks.herd_disease)
    return cost, illnesses, workers_lost, herds_hit


@njit(**COMPILE)
def draw_shock_rows(
    household_count: int,
    illness_stream: np.ndarray,
    illness_prob: float,
    work_stream: np.ndarray,
    worker_loss_bound: float,
    job_loss_bound: float,
    job_finding_bound: float,
    migration_stream: np.ndarray,
    migrant_job_loss_prob: float,
    livestock_stream: np.ndarray,
    herd_disease_prob: float,
    coping_stream: np.ndarray,
    school_withdrawal_prob: float,
    accept_below: np.ndarray,
    width_per_unit: np.ndarray,
    density_at_edge: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """`MonthShocks`' fields, in order: the rows of each event and the uniforms that follow them.

    The streams are SFC64 states (`sfc64.state_words`); the last three arguments are the
    exponential ziggurat's tables (`povsim.exponentials`).
    """
    tables = (accept_below, width_per_unit, density_at_edge)
    illness = chance_rows(illness_stream, household_count, illness_prob, *tables)
    worker_loss = chance_rows(work_stream, household_count, worker_loss_bound, *tables)
    worker_loss_draws = np.empty((3, worker_loss.size))
    fill_uniforms(work_stream, worker_loss_draws.reshape(-1))
    job_loss = chance_rows(work_stream, household_count, job_loss_bound, *tables)
    job_loss_uniforms = np.empty(job_loss.size)
    fill_uniforms(work_stream, job_loss_uniforms)
    job_finding = chance_rows(work_stream, household_count, job_finding_bound, *tables)
    job_finding_uniforms = np.empty(job_finding.size)
    fill_uniforms(work_stream, job_finding_uniforms)
    migrants_fired = chance_rows(migration_stream, household_count, migrant_job_loss_prob, *tables)
    herd_disease = chance_rows(livestock_stream, household_count, herd_disease_prob, *tables)
    school_withdrawal = chance_rows(coping_stream, household_count, school_withdrawal_prob, *tables)
    return (
        illness,
        worker_loss,
        worker_loss_draws,
        job_loss,
        job_loss_uniforms,
        job_finding,
        job_finding_uniforms,
        migrants_fired,
        herd_disease,
        school_withdrawal,
    )


@dataclass(frozen=True)
class DisasterOutcome:
    """What this month's disasters did."""

    repair_cost_vnd: np.ndarray | np.float64
    households_hit: int
    houses_damaged: int
    communes_hit: tuple[str, ...]


NO_DISASTER = DisasterOutcome(
    repair_cost_vnd=np.float64(0.0), households_hit=0, houses_damaged=0, communes_hit=()
)


def strike_disasters(
    state: HouseholdState,
    scenario: Scenario,
    communes: Communes,
    year: int,
    month: int,
    commune_uniforms: np.ndarray,
    rng: np.random.Generator,
) -> DisasterOutcome:
    """Seasonal floods, landslides and storms by commune, and any scheduled event this month.

    Households are drawn only in the communes struck or named by a scheduled event: three
    uniforms each (hit, house damage, scheduled choice). How many are drawn depends on the
    communes' draws and the scenario, never on household state.

    Args:
        state: the households; houses, harvests and herds are damaged in place.
        scenario: the parameters.
        communes: the communes table (which are flood-exposed, remote).
        year: calendar year.
        month: calendar month, 1-12.
        commune_uniforms: three rows (flood, landslide, storm), one column per commune.
        rng: the stream of the households' draws.
    """
    d = scenario.disasters
    struck = np.zeros(communes.count, bool)
    if month in RAINY_MONTHS:
        struck |= communes.flood_exposed & (commune_uniforms[0] < d.flood_prob_per_month)
        struck |= communes.remote & (commune_uniforms[1] < d.landslide_prob_per_month)
    if month in STORM_MONTHS:
        struck |= commune_uniforms[2] < d.storm_prob_per_month
    events = scheduled_this_month(scenario, year, month)
    event_areas = [communes_mask(communes, event.communes) for event in events]
    exposed_communes = np.logical_or.reduce([struck, *event_areas]) if events else struck
    if not exposed_communes.any():
        return NO_DISASTER
    # The households of the communes exposed; the masks below run over them.
    rows = true_rows(exposed_communes[state.commune])
    uniforms = rng.random((3, rows.size))
    hit, damaged = np.empty(rows.size, bool), np.empty(rows.size, bool)
    damage_chance_by_type = damage_chance_by_house_type(scenario)
    mark_disaster_households(
        rows,
        uniforms,
        struck,
        state.commune,
        state.house_type,
        damage_chance_by_type,
        d.affected_household_share,
        hit,
        damaged,
    )
    scheduled_hit = np.zeros(rows.size, bool)
    if events:
        commune = state.commune[rows]
        damage_chance = damage_chance_by_type[state.house_type[rows]]
    for event, area in zip(events, event_areas, strict=True):
        in_area = area[commune]
        quota = round(event.damaged_houses_count * scenario.district_scale)
        chosen = weighted_choice(in_area * damage_chance, quota, uniforms[2])
        damaged[chosen] = True
        flooded = in_area & (uniforms[0] < d.affected_household_share)
        flooded[chosen] = True
        lose_harvest_and_herd(state, scenario, rows[flooded], event.crop_loss_share)
        scheduled_hit |= flooded
        hit |= flooded
        struck |= area
    repair_cost = np.zeros(state.count)
    households_hit, houses_damaged = strike_disaster_households(
        rows,
        hit,
        scheduled_hit,
        damaged,
        d.crop_loss_months,
        np.float32(d.crop_loss_share),
        1.0 - d.livestock_loss_share,
        d.house_repair_cost_vnd,
        state.crop_loss_months_left,
        state.crop_loss_share,
        state.livestock_units,
        state.disaster_hit_count,
        state.house_type,
        repair_cost,
    )
    return DisasterOutcome(
        repair_cost_vnd=repair_cost,
        households_hit=households_hit,
        houses_damaged=houses_damaged,
        communes_hit=tuple(n for n, s in zip(communes.names, struck, strict=True) if s),
    )


def communes_mask(communes: Communes, names: list[str]) -> np.ndarray:
    """True for the named communes, one entry per commune."""
    mask = np.zeros(communes.count, bool)
    mask[[communes.names.index(name) for name in names]] = True
    return mask


def scheduled_this_month(scenario: Scenario, year: int, month: int) -> list:
    """Scheduled disasters falling in this calendar month."""
    return [
        e for e in scenario.disasters.scheduled if (e.event_date.year, e.event_date.month) == (year, month)
    ]


def house_damage_chance(state: HouseholdState, scenario: Scenario) -> np.ndarray:
    """Chance that a disaster damages each household's house, by house type."""
    return damage_chance_by_house_type(scenario)[state.house_type]


def damage_chance_by_house_type(scenario: Scenario) -> np.ndarray:
    """Chance that a disaster damages a house, indexed by house type code (makeshift first)."""
    d = scenario.disasters
    return np.array(
        [
            d.makeshift_house_damage_share,
            d.non_durable_house_damage_share,
            d.semi_durable_house_damage_share,
            d.durable_house_damage_share,
        ]
    )


def weighted_choice(weights: np.ndarray, count: int, uniforms: np.ndarray) -> np.ndarray:
    """Indices of `count` households drawn without replacement with the given weights."""
    candidates = true_rows(weights > 0)
    if count <= 0 or candidates.size == 0:
        return np.empty(0, dtype=np.intp)
    # Efraimidis-Spirakis: the largest log(u) / w are a weighted sample without replacement.
    keys = np.log(np.maximum(uniforms[candidates], 1e-300)) / weights[candidates]
    count = min(count, candidates.size)
    return candidates[np.argpartition(-keys, count - 1)[:count]]


def lose_harvest_and_herd(
    state: HouseholdState, scenario: Scenario, hit: np.ndarray, crop_loss_share: float
) -> None:
    """Households hit lose part of their crop income for some months and part of their herd."""
    d = scenario.disasters
    state.crop_loss_months_left[hit] = d.crop_loss_months
    state.crop_loss_share[hit] = np.maximum(state.crop_loss_share[hit], crop_loss_share)
    state.livestock_units[hit] *= 1.0 - d.livestock_loss_share


def count_down(state: HouseholdState) -> None:
    """End one month of every running episode: illness, harvest loss, contracts, exemptions."""
    count_down_households(
        state.illness_months_left,
        state.crop_loss_months_left,
        state.abroad_months_left,
        state.tuition_exempt_months_left,
        state.crop_loss_share,
    )
