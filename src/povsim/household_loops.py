"""Compiled per-household loops: earnings and settlement, shocks, classification, review tallies.

These updates are chains of arithmetic and comparisons on each household's own numbers.
Written as numpy expressions they cost dozens of full-length passes (and as many temporary
arrays); a compiled loop over households reads each number once. The loops perform the same
IEEE operations in the same order, on the same types, as the numpy expressions they
replaced, so results are identical to the last bit, NaN, infinities and signed zeros
included: `minimum` and `maximum` below follow numpy's rules (a NaN in either argument
wins; of two equal values the second is returned), and division follows numpy's error
model (x / 0 is inf or NaN, not an exception). Random draws stay with numpy's
generators and are passed in, so the streams are unchanged. The modules that call them
(`economy`, `shocks`, `standards`, `review`) say what the updates mean.

Per household, only chains of arithmetic gain: a loop whose branches follow random draws
(remedies of living conditions) was measured no faster than numpy's vectorised
comparisons. Where a step is a dozen small numpy calls on few rows, or on a small
population, a compiled loop instead saves the calls' fixed cost: the month's shocks over the
households they hit and the review's tallies here, the instruments' selection, funding and
loans in `policies`, the gaps between rare events in `sampling`.

Compiled with numba (`cache=True`: the machine code is kept beside this file, or in
numba's user cache where that is read-only, so only the first run on a machine compiles).
"""

from __future__ import annotations

import numpy as np
from numba import njit

COMPILE = {"cache": True, "error_model": "numpy"}


@njit(**COMPILE)
def minimum(a: float, b: float) -> float:
    """`np.minimum(a, b)` for two scalars: NaN if either is NaN, else the smaller (b if equal)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


@njit(**COMPILE)
def maximum(a: float, b: float) -> float:
    """`np.maximum(a, b)` for two scalars: NaN if either is NaN, else the larger (b if equal)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


@njit(**COMPILE)
def chance_for_members(chance_by_members: np.ndarray, members: int) -> float:
    """The chance for a household of `members` (a table by count; counts past its end take the last)."""
    return chance_by_members[min(members, chance_by_members.size - 1)]


@njit(**COMPILE)
def log_luck(
    income_persistent: np.ndarray,
    normals: np.ndarray,
    persistence: float,
    persistent_sd: float,
    noise_sd: np.float32,
    half_noise_variance: np.float32,
    luck: np.ndarray,
) -> None:
    """Advance the persistent income term (AR(1)) and write this month's log luck (float32).

    The types are numpy's for the expressions this replaced: the persistent term in
    float64 (normals[0] widened exactly); the noise in float32, the persistent term added
    in float64 and rounded back, the variance correction subtracted in float32.
    """
    for i in range(luck.size):
        persistent = income_persistent[i] * persistence
        persistent = persistent + persistent_sd * np.float64(normals[0, i])
        income_persistent[i] = persistent
        noise = noise_sd * normals[1, i]
        noise = np.float32(np.float64(noise) + persistent)
        luck[i] = noise - half_noise_variance


@njit(**COMPILE)
def earn_households(
    crops_vnd_month: np.ndarray,
    tea_vnd_month: np.ndarray,
    forestry_vnd_month: np.ndarray,
    livestock_units: np.ndarray,
    crop_loss_months_left: np.ndarray,
    crop_loss_share: np.ndarray,
    wage_vnd_per_worker_month: np.ndarray,
    wage_workers: np.ndarray,
    illness_months_left: np.ndarray,
    remittance_vnd_month: np.ndarray,
    abroad_months_left: np.ndarray,
    transfers_vnd_this_month: np.ndarray,
    members: np.ndarray,
    luck: np.ndarray,
    crop_rate: float,
    tea_rate: float,
    livestock_return_vnd_per_unit: float,
    wage_kept_share: float,
    trend: float,
    ill_kept_share: float,
    abroad_remittance_vnd_month: float,
    remittance_kept_share: float,
    income_vnd: np.ndarray,
    income_vnd_per_person_month: np.ndarray,
    income_since_review_vnd: np.ndarray,
) -> None:
    """Household income this month into `income_vnd`; per person into the two records."""
    for i in range(income_vnd.size):
        crops = crops_vnd_month[i] * crop_rate
        farm = crops + tea_vnd_month[i] * tea_rate
        farm = farm + forestry_vnd_month[i]
        farm = farm + livestock_units[i] * livestock_return_vnd_per_unit
        if crop_loss_months_left[i] != 0:
            farm = farm - crops * np.float64(crop_loss_share[i])
        earned = wage_vnd_per_worker_month[i] * wage_workers[i]
        earned = earned * wage_kept_share
        earned = earned + farm
        earned = earned * np.float64(luck[i])
        earned = earned * trend
        if illness_months_left[i] != 0:
            earned = earned * ill_kept_share
        remittances = remittance_vnd_month[i] * trend
        if abroad_months_left[i] != 0:
            remittances = remittances + abroad_remittance_vnd_month
        remittances = remittances * remittance_kept_share
        income = earned + remittances
        income = income + transfers_vnd_this_month[i]
        per_person = income / members[i]
        income_vnd[i] = income
        income_vnd_per_person_month[i] = per_person
        income_since_review_vnd[i] = income_since_review_vnd[i] + per_person


@njit(**COMPILE)
def settle_households(
    income_vnd: np.ndarray,
    extra_costs_vnd: np.ndarray,
    members: np.ndarray,
    children_6_15: np.ndarray,
    out_of_school: np.ndarray,
    tuition_exempt_months_left: np.ndarray,
    formal_rate_per_year: np.ndarray,
    savings_vnd: np.ndarray,
    informal_debt_vnd: np.ndarray,
    formal_debt_vnd: np.ndarray,
    formal_instalment_vnd_month: np.ndarray,
    arrears_vnd: np.ndarray,
    arrears_months: np.ndarray,
    livestock_units: np.ndarray,
    usual_income_vnd_month: np.ndarray,
    short_this_month: np.ndarray,
    subsistence_vnd_per_person_month: float,
    consumption_share_above_subsistence: float,
    school_cost_vnd_per_child_month: float,
    exempt_school_cost_vnd_per_child_month: float,
    informal_interest_rate_per_month: float,
    informal_repayment_share_per_month: float,
    informal_borrowing_limit_months_of_income: float,
    livestock_price_vnd: float,
    usual_income_months: float,
    savings_buffer_months_of_income: float,
) -> None:
    """Spending, saving, debt service and coping of every household for one month.

    In order, for each household: debt service and subsistence come out of income before
    discretionary consumption; school costs and unplanned costs are paid; the formal
    instalment is paid only out of what is left (the rest goes into arrears, and a loan
    below 1 VND is closed); informal debt is paid down from positive savings; a shortfall
    is covered by informal borrowing up to a limit, then by selling livestock, and a
    household still more than 1 VND short is marked `short_this_month`; the usual income
    is smoothed and savings are capped at the buffer.
    """
    for i in range(income_vnd.size):
        income = income_vnd[i]
        formal_debt = formal_debt_vnd[i]
        informal_debt = informal_debt_vnd[i]
        debtor = formal_debt > 0.0
        borrower = informal_debt > 0.0
        formal_interest = 0.0
        principal_due = 0.0
        informal_interest = 0.0
        if debtor:
            formal_interest = formal_debt * formal_rate_per_year[i] / 12.0
            principal_due = minimum(formal_instalment_vnd_month[i], formal_debt)
        if borrower:
            informal_interest = informal_debt * informal_interest_rate_per_month

        floor = subsistence_vnd_per_person_month * members[i]
        disposable = income
        if debtor:
            disposable = disposable - (formal_interest + principal_due)
        if borrower:
            disposable = disposable - informal_interest
        disposable = disposable - floor
        disposable = maximum(disposable, 0.0)
        consumption = floor + consumption_share_above_subsistence * disposable
        if tuition_exempt_months_left[i] > 0:
            school = exempt_school_cost_vnd_per_child_month
        else:
            school = school_cost_vnd_per_child_month
        school = school * children_6_15[i]
        school = school * (0.0 if out_of_school[i] else 1.0)

        savings = savings_vnd[i] + income
        savings = savings - consumption
        savings = savings - extra_costs_vnd[i]
        savings = savings - school
        if debtor:
            savings = savings - formal_interest
        if borrower:
            savings = savings - informal_interest
        if debtor:
            paid = minimum(maximum(savings, 0.0), principal_due)
            savings = savings - paid
            remaining = formal_debt - paid
            unpaid = principal_due - paid
            if unpaid > 0:
                arrears_vnd[i] = arrears_vnd[i] + unpaid
                arrears_months[i] = arrears_months[i] + 1
            else:
                arrears_months[i] = 0
            if remaining <= 1.0:
                formal_debt_vnd[i] = 0.0
                formal_instalment_vnd_month[i] = 0.0
            else:
                formal_debt_vnd[i] = remaining
        if borrower:
            repay = minimum(maximum(savings, 0.0), informal_debt * informal_repayment_share_per_month)
            savings = savings - repay
            informal_debt = informal_debt - repay

        short = False
        if savings < 0.0:
            shortfall = -savings
            savings = 0.0
            capacity = (
                informal_borrowing_limit_months_of_income * maximum(usual_income_vnd_month[i], 0.0)
                - informal_debt
            )
            capacity = maximum(capacity, 0.0)
            borrowed = minimum(shortfall, capacity)
            informal_debt = informal_debt + borrowed
            shortfall = shortfall - borrowed
            if livestock_price_vnd > 0:
                sold = minimum(livestock_units[i], shortfall / livestock_price_vnd)
                livestock_units[i] = livestock_units[i] - sold
                shortfall = shortfall - sold * livestock_price_vnd
            short = shortfall > 1.0
        short_this_month[i] = short
        informal_debt_vnd[i] = informal_debt

        usual = usual_income_vnd_month[i]
        usual = usual + (income - usual) / usual_income_months
        usual_income_vnd_month[i] = usual
        savings_vnd[i] = minimum(savings, savings_buffer_months_of_income * maximum(usual, 0.0))


@njit(**COMPILE)
def withdraw_children(
    candidates: np.ndarray, short: np.ndarray, n_6_15: np.ndarray, not_attending: np.ndarray
) -> None:
    """Candidate households still short this month, with a child aged 6-15, take one out of school."""
    for k in range(candidates.size):
        i = candidates[k]
        if short[i] and n_6_15[i] > 0:
            not_attending[i] = True


@njit(**COMPILE)
def write_off_households(
    arrears_months: np.ndarray,
    after_months: int,
    formal_debt_vnd: np.ndarray,
    formal_instalment_vnd_month: np.ndarray,
    arrears_vnd: np.ndarray,
    loan_defaulted: np.ndarray,
) -> int:
    """Write off the formal debt of households `after_months` or more in arrears; return how many."""
    count = 0
    for i in range(arrears_months.size):
        if arrears_months[i] >= after_months:
            formal_debt_vnd[i] = 0.0
            formal_instalment_vnd_month[i] = 0.0
            arrears_vnd[i] = 0.0
            arrears_months[i] = 0
            loan_defaulted[i] = True
            count += 1
    return count


@njit(**COMPILE)
def classify_households(
    income_vnd_per_person_month: np.ndarray,
    deprivation_count: np.ndarray,
    urban: np.ndarray,
    rural_line_vnd: float,
    urban_line_vnd: float,
    average_living_line_multiple: float,
    poor_min_deprivation_count: int,
    poor: int,
    near_poor: int,
    average: int,
    above_average: int,
    status: np.ndarray,
) -> None:
    """Each household's status code into `status` (see `PovertyStandard.classify`)."""
    for i in range(status.size):
        line = urban_line_vnd if urban[i] else rural_line_vnd
        income = income_vnd_per_person_month[i]
        if income <= line:
            status[i] = poor if deprivation_count[i] >= poor_min_deprivation_count else near_poor
        elif income <= average_living_line_multiple * line:
            status[i] = average
        else:
            status[i] = above_average


@njit(**COMPILE)
def remove_workers_at(
    candidates: np.ndarray,
    draws: np.ndarray,
    loss_prob_by_workers: np.ndarray,
    death_share: float,
    worker_loss_count: np.ndarray,
    n_16_59: np.ndarray,
    n_60plus: np.ndarray,
    jobless: np.ndarray,
    wage_workers: np.ndarray,
    crops_vnd_month: np.ndarray,
    tea_vnd_month: np.ndarray,
) -> int:
    """Candidate households lose a working-age member to work; return how many (see `shocks.remove_workers`).

    Candidates are drawn at the bound (the table's last entry); candidate k is hit if
    draws[0, k] * bound falls below the chance for its working-age members (capped at the
    table's end). draws[1, k] chooses a wage worker or the farm, draws[2, k] a death.
    """
    bound = loss_prob_by_workers[loss_prob_by_workers.size - 1]
    hit = 0
    for k in range(candidates.size):
        i = candidates[k]
        if not draws[0, k] * bound < chance_for_members(loss_prob_by_workers, n_16_59[i]):
            continue
        hit += 1
        worker_loss_count[i] += 1
        workers = max(n_16_59[i] - jobless[i], 1)
        wage = wage_workers[i]
        if wage > 0 and draws[1, k] < wage / workers:
            wage_workers[i] = wage - 1
        else:
            farm_workers = max(workers - wage, 1)
            kept = 1.0 - 1.0 / (farm_workers + 1)
            crops_vnd_month[i] = crops_vnd_month[i] * kept
            tea_vnd_month[i] = tea_vnd_month[i] * kept
        if draws[2, k] < death_share and n_16_59[i] + n_60plus[i] > 1:
            adults = n_16_59[i] - 1
            n_16_59[i] = adults
            jobless[i] = min(jobless[i], adults)
            wage_workers[i] = min(wage_workers[i], adults - jobless[i])
    return hit


@njit(**COMPILE)
def fall_ill_at(
    candidates: np.ndarray,
    cost_before_insurance_vnd: np.ndarray,
    duration_months: int,
    illness_months_left: np.ndarray,
    illness_count: np.ndarray,
    lacks_insurance: np.ndarray,
    state_insurance_card: np.ndarray,
    status: np.ndarray,
    poor: int,
    insurance_paid_share: float,
    poor_card_paid_share: float,
    cost_vnd: np.ndarray,
) -> int:
    """Candidates not already ill fall ill; their out-of-pocket cost into `cost_vnd`; return how many.

    See `shocks.fall_ill`; `cost_before_insurance_vnd[k]` is candidate k's treatment cost.
    """
    sick = 0
    for k in range(candidates.size):
        i = candidates[k]
        if illness_months_left[i] != 0:
            continue
        illness_months_left[i] = duration_months
        illness_count[i] += 1
        if lacks_insurance[i]:
            paid_share = 0.0
        elif state_insurance_card[i] and status[i] == poor:
            paid_share = poor_card_paid_share
        else:
            paid_share = insurance_paid_share
        cost_vnd[i] = cost_before_insurance_vnd[k] * (1.0 - paid_share)
        sick += 1
    return sick


@njit(**COMPILE)
def start_job(
    i: int,
    district_wage_vnd: float,
    trained_wage_premium: float,
    jobless: np.ndarray,
    wage_workers: np.ndarray,
    trained: np.ndarray,
    wage_vnd_per_worker_month: np.ndarray,
) -> None:
    """A jobless member of household i starts a regular wage job (see `shocks.take_job_at`).

    A household that has had wage work keeps its own wage level; one that never had it
    earns the district wage, plus the training premium if a member was trained.
    """
    if wage_vnd_per_worker_month[i] <= 0:
        factor = 1.0 + trained_wage_premium if trained[i] else 1.0
        wage_vnd_per_worker_month[i] = district_wage_vnd * factor
    jobless[i] -= 1
    wage_workers[i] += 1


@njit(**COMPILE)
def take_jobs_at(
    rows: np.ndarray,
    district_wage_vnd: float,
    trained_wage_premium: float,
    jobless: np.ndarray,
    wage_workers: np.ndarray,
    trained: np.ndarray,
    wage_vnd_per_worker_month: np.ndarray,
) -> None:
    """`start_job` for each listed (distinct) household."""
    for k in range(rows.size):
        start_job(
            rows[k],
            district_wage_vnd,
            trained_wage_premium,
            jobless,
            wage_workers,
            trained,
            wage_vnd_per_worker_month,
        )


@njit(**COMPILE)
def change_jobs_at(
    loss_candidates: np.ndarray,
    loss_uniforms: np.ndarray,
    loss_prob_by_wage_workers: np.ndarray,
    find_candidates: np.ndarray,
    find_uniforms: np.ndarray,
    trained_find_prob: float,
    find_prob: float,
    district_wage_vnd: float,
    trained_wage_premium: float,
    wage_workers: np.ndarray,
    jobless: np.ndarray,
    job_loss_count: np.ndarray,
    trained: np.ndarray,
    wage_vnd_per_worker_month: np.ndarray,
) -> None:
    """Jobs lost and found this month (see `shocks.change_jobs`).

    Candidates of each move are sorted and thinned from the move's bound (the last entry
    of `loss_prob_by_wage_workers`; `trained_find_prob`) with their uniform. A finder who
    also loses a job, or has no jobless member, finds nothing. All chances are read before
    any move, as each household moves at most once.
    """
    loss_bound = loss_prob_by_wage_workers[loss_prob_by_wage_workers.size - 1]
    losers = np.empty(loss_candidates.size, dtype=np.intp)
    lost = 0
    for k in range(loss_candidates.size):
        i = loss_candidates[k]
        if loss_uniforms[k] * loss_bound < chance_for_members(loss_prob_by_wage_workers, wage_workers[i]):
            losers[lost] = i
            lost += 1
    next_loser = 0
    for k in range(find_candidates.size):
        i = find_candidates[k]
        if not find_uniforms[k] * trained_find_prob < (trained_find_prob if trained[i] else find_prob):
            continue
        while next_loser < lost and losers[next_loser] < i:
            next_loser += 1
        if (next_loser < lost and losers[next_loser] == i) or jobless[i] <= 0:
            continue
        start_job(
            i,
            district_wage_vnd,
            trained_wage_premium,
            jobless,
            wage_workers,
            trained,
            wage_vnd_per_worker_month,
        )
    for k in range(lost):
        i = losers[k]
        wage_workers[i] -= 1
        jobless[i] += 1
        job_loss_count[i] += 1


@njit(**COMPILE)
def kill_livestock_at(
    candidates: np.ndarray, kept_share: float, livestock_units: np.ndarray, herd_disease_count: np.ndarray
) -> int:
    """Each candidate with a herd keeps `kept_share` of it; return how many herds were hit."""
    hit = 0
    for k in range(candidates.size):
        i = candidates[k]
        if livestock_units[i] > 0:
            livestock_units[i] *= kept_share
            herd_disease_count[i] += 1
            hit += 1
    return hit


@njit(**COMPILE)
def depart_migrants(
    departure_in_months: np.ndarray,
    abroad_months_left: np.ndarray,
    jobless: np.ndarray,
    contract_months: int,
    not_leaving: int,
) -> None:
    """Count down departure delays; those reaching zero leave on a contract (a jobless one first)."""
    for i in range(departure_in_months.size):
        months = departure_in_months[i]
        if months > 0:
            months -= 1
            departure_in_months[i] = months
        if months == 0:
            abroad_months_left[i] = contract_months
            departure_in_months[i] = not_leaving
            if jobless[i] > 0:
                jobless[i] -= 1


@njit(**COMPILE)
def count_true_in_rows(matrix: np.ndarray, counts: np.ndarray) -> None:
    """counts[i] = the number of True entries in row i of a boolean matrix."""
    for i in range(matrix.shape[0]):
        count = 0
        for j in range(matrix.shape[1]):
            count += matrix[i, j]
        counts[i] = count


@njit(**COMPILE)
def count_true_in_columns(matrix: np.ndarray) -> np.ndarray:
    """The number of True entries in each column of a boolean matrix (int64), read row by row."""
    counts = np.zeros(matrix.shape[1], dtype=np.int64)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            counts[j] += matrix[i, j]
    return counts


@njit(**COMPILE)
def record_transitions(
    new_status: np.ndarray,
    status: np.ndarray,
    ever_poor: np.ndarray,
    escape_year: np.ndarray,
    relapse_count: np.ndarray,
    ethnic_minority: np.ndarray,
    year: int,
    poor: int,
    no_status: int,
    tallies: np.ndarray,
) -> None:
    """Write a review's statuses over the last ones, recording escapes and relapses (see `review`).

    `tallies` (zeroed by the caller) receives [escaped, relapsed, newly poor] in its first
    row, and in rows 1 and 2 the count of each new status code among all households and
    among ethnic-minority households (columns by code).
    """
    for i in range(new_status.size):
        code, before = new_status[i], status[i]
        poor_now, poor_before = code == poor, before == poor
        if poor_before and not poor_now:
            escape_year[i] = year
            tallies[0, 0] += 1
        elif poor_now and not poor_before and before != no_status:
            if ever_poor[i]:
                relapse_count[i] += 1
                tallies[0, 1] += 1
            else:
                tallies[0, 2] += 1
        if poor_now:
            ever_poor[i] = True
        status[i] = code
        tallies[1, code] += 1
        if ethnic_minority[i]:
            tallies[2, code] += 1


@njit(**COMPILE)
def mark_disaster_households(
    rows: np.ndarray,
    uniforms: np.ndarray,
    struck: np.ndarray,
    commune: np.ndarray,
    house_type: np.ndarray,
    damage_chance_by_type: np.ndarray,
    affected_share: float,
    hit: np.ndarray,
    damaged: np.ndarray,
) -> None:
    """Which of the listed households a seasonal disaster hits, and whose house it damages.

    Household rows[k] is hit if its commune is struck and uniforms[0, k] falls below the
    affected share; its house is damaged if also uniforms[1, k] falls below its house
    type's damage chance (see `shocks.strike_disasters`).
    """
    for k in range(rows.size):
        i = rows[k]
        hit[k] = struck[commune[i]] and uniforms[0, k] < affected_share
        damaged[k] = hit[k] and uniforms[1, k] < damage_chance_by_type[house_type[i]]


@njit(**COMPILE)
def strike_disaster_households(
    rows: np.ndarray,
    hit: np.ndarray,
    scheduled_hit: np.ndarray,
    damaged: np.ndarray,
    crop_loss_months: int,
    crop_loss_share_hit: np.float32,
    livestock_kept_share: float,
    house_repair_cost_vnd: float,
    crop_loss_months_left: np.ndarray,
    crop_loss_share: np.ndarray,
    livestock_units: np.ndarray,
    disaster_hit_count: np.ndarray,
    house_type: np.ndarray,
    repair_cost_vnd: np.ndarray,
) -> tuple[int, int]:
    """The harm of a month's disasters to the listed households; return (households hit, houses damaged).

    Hit households not already harmed by a scheduled event lose part of their crops for
    some months (the larger loss share kept) and of their herd; every hit household counts
    one more disaster; a damaged house drops one grade (a makeshift one stays) and costs
    its repair this month.
    """
    households_hit = houses_damaged = 0
    for k in range(rows.size):
        i = rows[k]
        if hit[k]:
            households_hit += 1
            disaster_hit_count[i] += 1
            if not scheduled_hit[k]:
                crop_loss_months_left[i] = crop_loss_months
                crop_loss_share[i] = maximum(crop_loss_share[i], crop_loss_share_hit)
                livestock_units[i] *= livestock_kept_share
        if damaged[k]:
            houses_damaged += 1
            house_type[i] = max(house_type[i] - 1, 0)
            repair_cost_vnd[i] = house_repair_cost_vnd
    return households_hit, houses_damaged


@njit(**COMPILE)
def invert_binomial(count: int, uniform: float, cdf: np.ndarray) -> int:
    """A binomial draw by inversion: the least x with `uniform` < cdf[count, x].

    `cdf[k, x]` is the chance of at most x successes in k trials (row k reaches 1 at x = k,
    and the search stops there whatever rounding left in the table).
    """
    x = 0
    while x < count and uniform >= cdf[count, x]:
        x += 1
    return x


@njit(**COMPILE)
def invert_binomials(counts: np.ndarray, uniforms: np.ndarray, cdf: np.ndarray, out: np.ndarray) -> None:
    """`invert_binomial` for every unit: out[i] draws from counts[i] trials with uniforms[i]."""
    for i in range(counts.size):
        out[i] = invert_binomial(counts[i], uniforms[i], cdf)


@njit(**COMPILE)
def age_households(
    n_under6: np.ndarray,
    n_6_15: np.ndarray,
    n_16_59: np.ndarray,
    n_60plus: np.ndarray,
    jobless: np.ndarray,
    wage_workers: np.ndarray,
    draws: np.ndarray,
    under6_leaving_cdf: np.ndarray,
    children_leaving_cdf: np.ndarray,
    adults_leaving_cdf: np.ndarray,
    elderly_deaths_cdf: np.ndarray,
    birth_prob: float,
) -> None:
    """One year of ageing, births and deaths in every household (`demography.advance_year`).

    Draw rows: leavers of the three younger groups, the elderly's deaths, a birth. Each
    group's leavers move to the next group, deaths leave the eldest, a household with a
    working-age member may have a birth, and a household left empty keeps one elderly
    member. Jobless and wage workers are capped by the working-age members left.
    """
    for i in range(n_under6.size):
        under6_out = invert_binomial(n_under6[i], draws[0, i], under6_leaving_cdf)
        children_out = invert_binomial(n_6_15[i], draws[1, i], children_leaving_cdf)
        adults_out = invert_binomial(n_16_59[i], draws[2, i], adults_leaving_cdf)
        deaths = invert_binomial(n_60plus[i], draws[3, i], elderly_deaths_cdf)
        births = (n_16_59[i] > 0) & (draws[4, i] < birth_prob)
        n_under6[i] += births - under6_out
        n_6_15[i] += under6_out - children_out
        n_16_59[i] += children_out - adults_out
        n_60plus[i] += adults_out - deaths
        if n_under6[i] + n_6_15[i] + n_16_59[i] + n_60plus[i] == 0:
            n_60plus[i] = 1
        jobless[i] = min(jobless[i], n_16_59[i])
        wage_workers[i] = min(wage_workers[i], n_16_59[i] - jobless[i])


@njit(**COMPILE)
def count_down_households(
    illness_months_left: np.ndarray,
    crop_loss_months_left: np.ndarray,
    abroad_months_left: np.ndarray,
    tuition_exempt_months_left: np.ndarray,
    crop_loss_share: np.ndarray,
) -> None:
    """One month off every running episode; a harvest loss that ended loses its share."""
    # Branch-free, so that the compiler vectorises it: which counters run is unpredictable.
    for i in range(illness_months_left.size):
        illness_months_left[i] -= illness_months_left[i] > 0
        crop_loss_months_left[i] -= crop_loss_months_left[i] > 0
        abroad_months_left[i] -= abroad_months_left[i] > 0
        tuition_exempt_months_left[i] -= tuition_exempt_months_left[i] > 0
        # Multiplied, as numpy did, so that a NaN share stays NaN and signs are kept.
        crop_loss_share[i] = crop_loss_share[i] * np.float32(crop_loss_months_left[i] != 0)


@njit(**COMPILE)
def total_households(
    income_vnd_per_person_month: np.ndarray,
    list_income_line_vnd: np.ndarray,
    illness_months_left: np.ndarray,
    savings_vnd: np.ndarray,
    informal_debt_vnd: np.ndarray,
    formal_debt_vnd: np.ndarray,
    short_this_month: np.ndarray,
    abroad_months_left: np.ndarray,
) -> tuple[float, int, int, float, float, float, int, int]:
    """The month's household totals, in one pass over the households.

    Income per person, households at or below the line, ill, savings, informal and formal
    debt, households short of money, households with a member abroad.
    """
    income = savings = informal = formal = 0.0
    below = ill = short = abroad = 0
    for i in range(income_vnd_per_person_month.size):
        income += income_vnd_per_person_month[i]
        below += income_vnd_per_person_month[i] <= list_income_line_vnd[i]
        ill += illness_months_left[i] > 0
        savings += savings_vnd[i]
        informal += informal_debt_vnd[i]
        formal += formal_debt_vnd[i]
        short += short_this_month[i]
        abroad += abroad_months_left[i] > 0
    return income, below, ill, savings, informal, formal, short, abroad


# How `score_deprivations` scores an indicator (see `standards.indicator_deprived`).
RULE_LACKS, RULE_LACKS_WITH_CHILD, RULE_LACKS_WITH_ADULT, RULE_LACKS_WITH_PUPIL = 0, 1, 2, 3
RULE_DEPENDENTS, RULE_EMPLOYMENT, RULE_HOUSING, RULE_FLOOR_AREA = 4, 5, 6, 7


@njit(**COMPILE)
def score_deprivations(
    rules: np.ndarray,
    lacks_columns: np.ndarray,
    lacks: np.ndarray,
    n_under6: np.ndarray,
    n_6_15: np.ndarray,
    n_16_59: np.ndarray,
    n_60plus: np.ndarray,
    jobless: np.ndarray,
    house_type: np.ndarray,
    floor_area_m2: np.ndarray,
    dependents_max_share: float,
    floor_area_min_m2_per_person: float,
    durable_enough_house_type: int,
    out: np.ndarray,
) -> None:
    """Each household's deprivation in each indicator (column j by `rules[j]`), in one call.

    A `RULE_LACKS*` indicator reads column `lacks_columns[j]` of `lacks`, the others the
    members, jobs and house. The numbers are compared as the numpy rules compare them
    (counts against float64 products, float32 floor areas widened).
    """
    households = out.shape[0]
    for j in range(rules.size):
        rule, column = rules[j], lacks_columns[j]
        if rule == RULE_LACKS:
            for i in range(households):
                out[i, j] = lacks[i, column]
        elif rule == RULE_LACKS_WITH_CHILD:
            for i in range(households):
                out[i, j] = lacks[i, column] & (n_under6[i] + n_6_15[i] > 0)
        elif rule == RULE_LACKS_WITH_ADULT:
            for i in range(households):
                out[i, j] = lacks[i, column] & (n_16_59[i] > 0)
        elif rule == RULE_LACKS_WITH_PUPIL:
            for i in range(households):
                out[i, j] = lacks[i, column] & (n_6_15[i] > 0)
        elif rule == RULE_DEPENDENTS:
            for i in range(households):
                dependents = n_under6[i] + n_6_15[i] + n_60plus[i]
                out[i, j] = dependents > dependents_max_share * (dependents + n_16_59[i])
        elif rule == RULE_EMPLOYMENT:
            for i in range(households):
                out[i, j] = jobless[i] > 0
        elif rule == RULE_HOUSING:
            for i in range(households):
                out[i, j] = house_type[i] < durable_enough_house_type
        else:
            for i in range(households):
                size = n_under6[i] + n_6_15[i] + n_16_59[i] + n_60plus[i]
                out[i, j] = floor_area_m2[i] < floor_area_min_m2_per_person * size
