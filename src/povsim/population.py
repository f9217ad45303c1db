"""Synthetic households of Son Duong district at the end-2021 review.

The population is built so that the end-2021 review, applied to it, shows the configured
rate of the configured measure and the configured ethnic-minority ratio *in expectation*:
income distributions are solved analytically (normal quantiles over communes) so that the
chance of falling at or below the line, after the review's measurement error, equals the
target for each group; deprivation counts are then drawn conditionally on that side of
the line. Nothing is rescaled after the draw, so the realised rates differ from the
targets only by sampling noise.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy import optimize, special

from povsim.communes import Communes
from povsim.household_loops import COMPILE
from povsim.households import HouseholdState
from povsim.scenario.schema import Scenario
from povsim.sfc64 import next_word, state_words, unit_uniform
from povsim.standards import DECREE_07_INDICATORS, PovertyStandard, indicator_deprived

# Indicators drawn directly at synthesis; "dependents" follows from the members drawn.
CHOSEN_INDICATORS = tuple(name for name in DECREE_07_INDICATORS if name != "dependents")
# A district ethnic-minority share this small is treated as none (no household drawn).
NO_MINORITY_SHARE = 1e-9
NEW_INDICATOR_FIELDS = {
    "digital_services": "digital_services_unused_share",
    "internet_access": "no_internet_share",
    "waste_handling": "no_waste_handling_share",
}


def synthesize(
    scenario: Scenario,
    communes: Communes,
    standard: PovertyStandard,
    household_count: int,
    rng: np.random.Generator,
) -> tuple[HouseholdState, np.ndarray]:
    """Draw the district's households and the income per person the end-2021 review measured."""
    commune = rng.choice(communes.count, size=household_count, p=communes.household_weights)
    urban = communes.urban[commune]
    remote = communes.remote[commune]
    minority_share = commune_minority_shares(communes, scenario.population.ethnic_minority_household_share)
    ethnic_minority = rng.random(household_count) < minority_share[commune]
    members = draw_members(scenario, household_count, rng)

    log_permanent, persistent, measured = draw_incomes(
        scenario, communes, standard, commune, ethnic_minority, minority_share, rng
    )
    line = standard.income_line(urban)
    below_line = measured <= line

    state = HouseholdState.empty(household_count)
    state.commune[:] = commune
    state.urban[:] = urban
    state.ethnic_minority[:] = ethnic_minority
    state.remote[:] = remote
    state.n_under6[:], state.n_6_15[:], state.n_16_59[:], state.n_60plus[:] = members.T
    state.income_persistent[:] = persistent
    state.income_vnd_per_person_month[:] = np.exp(log_permanent + persistent)
    state.usual_income_vnd_month[:] = state.income_vnd_per_person_month * state.size
    like_below = below_line | (
        rng.random(household_count)
        < np.exp(-np.log(measured / line) / scenario.population.deprivation_income_gradient_log_sd)
    )
    target_count = draw_deprivation_counts(scenario, like_below, rng)
    chosen = choose_deprivations(scenario, state, standard, target_count, rng)
    set_living_conditions(scenario, state, standard, chosen, below_line, rng)
    allocate_livelihoods(scenario, state, np.exp(log_permanent) * state.size, rng)
    return state, measured


def commune_minority_shares(communes: Communes, district_share: float) -> np.ndarray:
    """Commune ethnic-minority shares, shifted on the logit scale to the district share."""
    if district_share <= NO_MINORITY_SHARE:
        return np.zeros(communes.count)
    logits = special.logit(np.clip(communes.ethnic_minority_share, 1e-4, 1 - 1e-4))
    weights = communes.household_weights

    def gap(shift: float) -> float:
        return float(weights @ special.expit(logits + shift)) - district_share

    shift = optimize.brentq(gap, -30.0, 30.0, xtol=1e-12)
    return special.expit(logits + shift)


def draw_members(scenario: Scenario, household_count: int, rng: np.random.Generator) -> np.ndarray:
    """Members by age group (0-5, 6-15, 16-59, 60+) for each household, as int16 columns."""
    p = scenario.population
    size = 1 + rng.poisson(p.mean_household_size_persons - 1.0, household_count)
    age_shares = np.array([p.under6_member_share, p.age6_15_member_share, 0.0, p.age60plus_member_share])
    age_shares[2] = 1.0 - age_shares.sum()
    members = rng.multinomial(size, age_shares)
    # A household needs an adult: a lone child is re-read as a working-age member.
    no_adult = members[:, 2] + members[:, 3] == 0
    older = no_adult & (members[:, 1] > 0)
    members[older, 1] -= 1
    members[no_adult & ~older, 0] -= 1
    members[no_adult, 2] += 1
    return members.astype(np.int16)


def income_log_sd(scenario: Scenario) -> float:
    """Spread of log measured income at the end-2021 review (true components plus error)."""
    p = scenario.population
    return float(
        np.sqrt(
            p.permanent_income_log_sd**2
            + p.persistent_income_log_sd**2
            + scenario.review.income_measurement_error_log_sd**2
        )
    )


def group_log_income_means(
    scenario: Scenario,
    communes: Communes,
    standard: PovertyStandard,
    minority_share: np.ndarray,
) -> tuple[float, float]:
    """Mean log income (before commune offsets) of ethnic-minority and other households.

    Each is solved so that the chance of measured income at or below the commune's line,
    averaged over communes with the group's household weights, equals the target share.
    """
    p = scenario.population
    sd = income_log_sd(scenario)
    log_line = np.log(standard.income_line(communes.urban))
    offset = p.remote_log_income_offset * communes.remote + p.urban_log_income_offset * communes.urban
    targets = scenario.initial_below_line_shares()
    means = []
    for weights, target in zip(
        (
            communes.household_weights * minority_share,
            communes.household_weights * (1 - minority_share),
        ),
        targets,
        strict=True,
    ):
        weights = weights / weights.sum() if weights.sum() > 0 else communes.household_weights

        def gap(mu: float, weights: np.ndarray = weights, target: float = target) -> float:
            return float(weights @ special.ndtr((log_line - mu - offset) / sd)) - target

        means.append(optimize.brentq(gap, log_line.min() - 20 * sd, log_line.max() + 20 * sd))
    return means[0], means[1]


def draw_incomes(
    scenario: Scenario,
    communes: Communes,
    standard: PovertyStandard,
    commune: np.ndarray,
    ethnic_minority: np.ndarray,
    minority_share: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log permanent income, persistent deviation and the review's measured income."""
    p = scenario.population
    n = len(commune)
    mu_minority, mu_other = group_log_income_means(scenario, communes, standard, minority_share)
    offset = (p.remote_log_income_offset * communes.remote + p.urban_log_income_offset * communes.urban)[
        commune
    ]
    z = rng.standard_normal((3, n))
    log_permanent = np.where(ethnic_minority, mu_minority, mu_other) + offset
    log_permanent += p.permanent_income_log_sd * z[0]
    persistent = p.persistent_income_log_sd * z[1]
    measured = np.exp(log_permanent + persistent + scenario.review.income_measurement_error_log_sd * z[2])
    return log_permanent, persistent, measured


def draw_deprivation_counts(
    scenario: Scenario, like_below: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """How many deprivations each household is given, by its side of the income line.

    Below the line, a household is poor (3 or more) with the configured poor share and
    near-poor (0-2) otherwise. Above it, a household close to the line (`like_below`) gets
    a count drawn the same way, so that deprivations thin out gradually with income; the
    rest get a Poisson count.
    """
    p, t = scenario.population, scenario.targets
    n = len(like_below)
    minimum = scenario.standards.poor_min_deprivation_count
    poor = like_below & (rng.random(n) < t.poor_among_poor_or_near_poor_share)
    near_cap = minimum - 1
    near_p = min(p.near_poor_deprivations_mean_count / near_cap, 1.0) if near_cap > 0 else 0.0
    count = np.where(
        poor,
        minimum + rng.poisson(p.poor_extra_deprivations_mean_count, n),
        np.where(
            like_below,
            rng.binomial(max(near_cap, 0), near_p, n),
            rng.poisson(p.non_poor_deprivations_mean_count, n),
        ),
    )
    return np.minimum(count, len(DECREE_07_INDICATORS))


def choose_deprivations(
    scenario: Scenario,
    state: HouseholdState,
    standard: PovertyStandard,
    target_count: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Which of CHOSEN_INDICATORS each household is deprived in (households x indicators).

    Indicators are picked without replacement, weighted by their configured relative
    prevalence, among those that can apply to the household (no child, no child
    indicators). The dependents indicator already counts where the members make it so.
    """
    n = state.count
    weights = np.array([getattr(scenario.deprivation_weights, name) for name in CHOSEN_INDICATORS])
    applicable = np.ones((n, len(CHOSEN_INDICATORS)), bool)
    for j, name in enumerate(CHOSEN_INDICATORS):
        if name == "nutrition":
            applicable[:, j] = state.n_under16 > 0
        elif name in ("employment", "adult_education"):
            applicable[:, j] = state.n_16_59 > 0
        elif name == "child_school_attendance":
            applicable[:, j] = state.n_6_15 > 0
    applicable &= weights > 0
    dependents = indicator_deprived("dependents", state, standard).astype(int)
    still_needed = np.minimum(np.maximum(target_count - dependents, 0), applicable.sum(axis=1))
    with np.errstate(divide="ignore"):
        log_weights = np.log(weights)
    chosen = np.empty((n, len(CHOSEN_INDICATORS)), bool)
    pick_top_gumbel_keys(log_weights, applicable, still_needed, state_words(rng), chosen)
    return chosen


@njit(**COMPILE)
def pick_top_gumbel_keys(
    log_weights: np.ndarray,
    applicable: np.ndarray,
    still_needed: np.ndarray,
    stream: np.ndarray,
    chosen: np.ndarray,
) -> None:
    """Gumbel-top-k: each row's `still_needed` applicable columns of highest log-weight + Gumbel noise.

    Ranking log-weights plus independent Gumbel noise samples columns without replacement
    with chances proportional to the weights. The noise is drawn from the SFC64 `stream`
    exactly as numpy's `Generator.gumbel(size=chosen.shape)` draws it (a standard Gumbel
    is -log(-log(U)) for U = 1 - uniform, redrawn if U is 1), one for every cell whether
    applicable or not. Equal finite keys (a chance of order 1e-14 a row) rank in column order.
    """
    rows, columns = chosen.shape
    keys = np.empty(columns)
    a, b, c, counter = stream[0], stream[1], stream[2], stream[3]
    for i in range(rows):
        # The keys decide only when some but not all applicable columns are to be chosen;
        # otherwise their words are drawn (the stream must not depend on state) but not used.
        applicable_count = 0
        for j in range(columns):
            applicable_count += applicable[i, j]
        ranked = 0 < still_needed[i] < applicable_count
        for j in range(columns):
            while True:
                word, a, b, c, counter = next_word(a, b, c, counter)
                u = 1.0 - unit_uniform(word)
                if u < 1.0:
                    break
            keys[j] = -np.inf
            if ranked and applicable[i, j]:
                keys[j] = log_weights[j] + (0.0 - 1.0 * math.log(-math.log(u)))
        for j in range(columns):
            chosen[i, j] = applicable[i, j] & (still_needed[i] > 0) & (not ranked)
        # The highest keys one at a time (few are needed), the lowest column first among equals.
        for _ in range(still_needed[i] if ranked else 0):
            best = -1
            for j in range(columns):
                if applicable[i, j] and not chosen[i, j] and (best < 0 or keys[j] > keys[best]):
                    best = j
            chosen[i, best] = True
    stream[0], stream[1], stream[2], stream[3] = a, b, c, counter


def set_living_conditions(
    scenario: Scenario,
    state: HouseholdState,
    standard: PovertyStandard,
    chosen: np.ndarray,
    below_line: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Set the state behind each indicator so that exactly the chosen ones are deprived."""
    n = state.count
    for j, name in enumerate(CHOSEN_INDICATORS):
        deprived = chosen[:, j]
        if name == "housing_quality":
            state.house_type[:] = np.where(
                deprived, rng.choice([0, 1], n, p=[0.3, 0.7]), rng.choice([2, 3], n, p=[0.4, 0.6])
            )
        elif name == "employment":
            state.jobless[:] = deprived
        elif name == "floor_area":
            per_person = standard.floor_area_min_m2_per_person * np.where(
                deprived, rng.uniform(0.5, 0.97, n), 1.03 + rng.exponential(1.5, n)
            )
            state.floor_area_m2[:] = per_person * state.size
        else:
            state.lacks[:, state.condition(name)] = deprived
    q = scenario.new_indicators
    below_share = below_line.mean()
    lifted = q.poor_prevalence_multiplier
    scale = 1.0 / (below_share * lifted + (1.0 - below_share))
    no_telecom = state.lacks[:, state.condition("telecom_use")]
    for name, field in NEW_INDICATOR_FIELDS.items():
        chance = np.minimum(getattr(q, field) * scale * np.where(below_line, lifted, 1.0), 1.0)
        lacking = rng.random(n) < chance
        if name != "waste_handling":
            lacking |= no_telecom
        state.lacks[:, state.condition(name)] = lacking


def allocate_livelihoods(
    scenario: Scenario, state: HouseholdState, base_income_vnd: np.ndarray, rng: np.random.Generator
) -> None:
    """Split each household's income into its sources, and give it workers, a herd and savings.

    Mixes are drawn around the configured shares (Dirichlet); the town leans on wages. A
    wage share becomes regular wage jobs at about the district wage; what is too little for
    a regular job, or where no working-age member is free to hold one, is counted as farm
    income instead.
    """
    v = scenario.livelihoods
    rural = np.array(
        [
            v.crops_income_share,
            v.tea_income_share,
            v.forestry_income_share,
            v.livestock_income_share,
            v.wages_income_share,
            v.remittances_income_share,
        ]
    )
    rural = rural / rural.sum()
    urban = rural * (1.0 - v.urban_wages_income_share) / max(1.0 - rural[4], 1e-9)
    urban[4] = v.urban_wages_income_share
    means = np.where(state.urban[:, None], urban, rural)
    alpha = np.maximum(v.income_mix_concentration_count * means, 1e-6)
    mix = rng.gamma(alpha)
    mix /= np.maximum(mix.sum(axis=1, keepdims=True), 1e-300)
    amounts = mix * base_income_vnd[:, None]

    state.crops_vnd_month[:] = amounts[:, 0]
    state.tea_vnd_month[:] = amounts[:, 1]
    state.forestry_vnd_month[:] = amounts[:, 2]
    state.livestock_units[:] = amounts[:, 3] / v.livestock_net_return_vnd_per_unit_month
    state.remittance_vnd_month[:] = amounts[:, 5]
    wages = amounts[:, 4]
    free = np.maximum(state.n_16_59 - state.jobless, 0)
    # Wage income worth less than half a regular job is casual work, counted with the farm.
    workers = np.minimum(np.rint(wages / v.district_wage_vnd_per_worker_month), free).astype(np.int16)
    state.wage_workers[:] = workers
    state.wage_vnd_per_worker_month[:] = np.where(workers > 0, wages / np.maximum(workers, 1), 0.0)
    state.crops_vnd_month[workers == 0] += wages[workers == 0]
    months = scenario.livelihoods.initial_savings_months_of_income
    state.savings_vnd[:] = rng.exponential(1.0, state.count) * months * base_income_vnd
