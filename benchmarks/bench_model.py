"""Model performance: run time, throughput, the per-agent Mesa reference, scaling and memory.

Prints, on one core:

1. one complete full-district run (population synthesis, January 2022 to the end-2030
   review, every shock and instrument, reviews, data collection): median wall time of
   several after a warm-up, and household-months per second of the whole run and of its
   108 monthly steps alone (synthesis excluded);
2. the monthly household update (illness, loss of a worker, job loss and finding, herd
   disease, earnings, spending, debts, coping) written the usual Mesa way (a
   `Household(mesa.Agent)` with a `step()` method, driven by
   `model.agents.shuffle_do("step")`), and the same update done by povsim's own vectorised
   functions on the same number of households, both measured in this invocation, in
   household-months per second; the ratio between the two (like for like), and the ratio of
   the full run's monthly steps, which do much more, to the per-agent update;
3. time per household-month at 10,000, 100,000 and 1,000,000 households (synthesis
   excluded), over the full calendar (January 2022 to the end-2030 review, the runs the
   model is for) and over its first year alone, and their spread. The first year is not a
   typical year: at 100,000 households and more it costs less per household-month than the
   full calendar, while at 10,000 the two cost about the same (benchmarks/README.md, ninth
   pass);
4. peak memory per household (Python-tracked allocations, numpy included) at the same sizes,
   synthesis and the full calendar.

Usage: uv run python benchmarks/bench_model.py [--repeats K] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import statistics
import time
import tracemalloc
from pathlib import Path

import mesa
import numpy as np

from povsim import PovertyModel, load_scenario
from povsim.economy import CROP_SEASON, TEA_SEASON, earn, settle_month, trend_factor
from povsim.model import replicate_seed
from povsim.normals import standard_normals
from povsim.shocks import apply_month_shocks, count_down, draw_month_shocks


class ReferenceHousehold(mesa.Agent):
    """One household's monthly update (shocks, earnings, spending, debts, coping) in plain Python."""

    def __init__(self, model: ReferenceModel, row: int) -> None:
        super().__init__(model)
        s = model.source.households
        self.crops, self.tea, self.forestry = (
            s.crops_vnd_month[row],
            s.tea_vnd_month[row],
            s.forestry_vnd_month[row],
        )
        self.livestock, self.wage_workers = s.livestock_units[row], int(s.wage_workers[row])
        self.wage, self.jobless = s.wage_vnd_per_worker_month[row], int(s.jobless[row])
        self.remittance, self.size = s.remittance_vnd_month[row], int(s.size[row])
        self.working_age, self.children = int(s.n_16_59[row]), int(s.n_6_15[row])
        self.insured = not s.lacks[row, s.condition("health_insurance")]
        self.persistent, self.ill_months = float(s.income_persistent[row]), 0
        self.savings, self.informal_debt = float(s.savings_vnd[row]), 0.0
        self.formal_debt, self.rate, self.instalment = 0.0, 0.0, 0.0
        self.usual_income = float(s.usual_income_vnd_month[row])
        self.income_since_review = 0.0

    def step(self) -> None:
        m, p, rnd = self.model, self.model.params, self.random
        if self.ill_months == 0 and rnd.random() < p.shocks.illness_prob_per_month:
            self.ill_months = p.shocks.illness_duration_months
            cost = math.exp(m.cost_mean_log + 0.8 * rnd.gauss(0.0, 1.0))
            health_cost = cost * (1.0 - (p.shocks.insurance_paid_cost_share if self.insured else 0.0))
        else:
            health_cost = 0.0
        if self.working_age and rnd.random() < 1.0 - (1.0 - m.worker_loss) ** self.working_age:
            if self.wage_workers:
                self.wage_workers -= 1
            else:
                self.crops *= 0.5
        if self.wage_workers and rnd.random() < p.shocks.job_loss_prob_per_month:
            self.wage_workers, self.jobless = self.wage_workers - 1, self.jobless + 1
        elif self.jobless and rnd.random() < p.economy.job_finding_prob_per_month:
            self.wage_workers, self.jobless = self.wage_workers + 1, self.jobless - 1
        if self.livestock > 0 and rnd.random() < p.shocks.livestock_disease_prob_per_month:
            self.livestock *= 1.0 - p.shocks.livestock_disease_loss_share

        self.persistent = m.phi * self.persistent + m.innovation_sd * rnd.gauss(0.0, 1.0)
        luck = math.exp(self.persistent + m.noise_sd * rnd.gauss(0.0, 1.0) - 0.5 * m.noise_sd**2)
        farm = (
            self.crops * m.crop_season
            + self.tea * m.tea_season
            + self.forestry
            + self.livestock * m.livestock_return
        )
        earned = (farm + self.wage_workers * self.wage) * luck * m.trend
        if self.ill_months > 0:
            earned *= 1.0 - p.shocks.illness_income_loss_share
            self.ill_months -= 1
        income = earned + self.remittance * m.trend
        self.income_since_review += income / self.size

        c = p.coping
        interest = (
            self.formal_debt * self.rate / 12.0
            + self.informal_debt * c.informal_interest_rate_per_year / 12.0
        )
        principal = min(self.instalment, self.formal_debt)
        floor = c.subsistence_vnd_per_person_month * self.size
        consumption = floor + c.consumption_share_of_income_above_subsistence * max(
            income - interest - principal - floor, 0.0
        )
        school = self.children * c.school_cost_vnd_per_child_month
        self.savings += income - consumption - school - interest - health_cost
        paid = min(max(self.savings, 0.0), principal)
        self.savings -= paid
        self.formal_debt -= paid
        repay = min(max(self.savings, 0.0), self.informal_debt * c.informal_repayment_share_per_month)
        self.savings -= repay
        self.informal_debt -= repay
        if self.savings < 0.0:
            short = -self.savings
            self.savings = 0.0
            borrowed = min(
                short,
                max(
                    c.informal_borrowing_limit_months_of_income * self.usual_income - self.informal_debt, 0.0
                ),
            )
            self.informal_debt += borrowed
            short -= borrowed
            sold = min(self.livestock, short / m.livestock_price)
            self.livestock -= sold
        self.usual_income += (income - self.usual_income) / 12.0
        self.savings = min(self.savings, c.savings_buffer_months_of_income * max(self.usual_income, 0.0))


class ReferenceModel(mesa.Model):
    """Households as Mesa agents, each updated by a Python `step()` every month."""

    def __init__(self, households: int, rng: int = 1) -> None:
        super().__init__(rng=rng)
        self.params = p = load_scenario(None, {"run.household_count": households})
        self.source = PovertyModel(scenario=p, rng=rng)
        self.phi = p.economy.persistent_income_autocorrelation_per_year ** (1 / 12)
        self.innovation_sd = math.sqrt(1 - self.phi**2) * p.population.persistent_income_log_sd
        self.noise_sd = p.economy.monthly_income_noise_log_sd
        self.worker_loss = 1.0 - (1.0 - p.shocks.worker_loss_prob_per_year) ** (1 / 12)
        self.cost_mean_log = math.log(p.shocks.illness_treatment_cost_vnd) - 0.32
        self.livestock_return = p.livelihoods.livestock_net_return_vnd_per_unit_month
        self.livestock_price = p.livelihoods.livestock_unit_price_vnd
        self.month, self.trend = 0, 1.0
        for row in range(households):
            ReferenceHousehold(self, row)

    def step(self) -> None:
        self.month += 1
        self.trend = (1 + self.params.economy.nominal_income_growth_per_year) ** (self.month / 12)
        self.crop_season = CROP_SEASON[(self.month - 1) % 12]
        self.tea_season = TEA_SEASON[(self.month - 1) % 12]
        self.agents.shuffle_do("step")


def time_full_run(scenario, seed: int) -> tuple[float, float, int]:
    """Seconds for the whole run, seconds for its monthly steps alone, and the months."""
    started = time.perf_counter()
    model = PovertyModel(scenario=scenario, rng=replicate_seed(seed, 0))
    built = time.perf_counter()
    model.run()
    ended = time.perf_counter()
    return ended - started, ended - built, model.months_elapsed


def time_vectorised_update(households: int, months: int, seed: int = 1) -> float:
    """The reference's household update, month by month, done by povsim's own functions.

    Same mechanisms as `ReferenceHousehold.step`, on a synthesised population, through the
    functions `PovertyModel.step` calls for them (instruments, disasters, migration, the
    review and data collection are left out, as in the reference).
    """
    scenario = load_scenario(None, {"run.household_count": households})
    model = PovertyModel(scenario=scenario, rng=seed)
    state, p, streams = model.households, model.params, model.streams
    started = time.perf_counter()
    for elapsed in range(1, months + 1):
        normals = standard_normals(streams["economy"], (2, households), np.float32)
        # The step's shocks of the month (migrants' included, which the reference lacks).
        shocks = draw_month_shocks(households, p, model.market, streams, 1.0)
        illness_normals = streams["illness"].standard_normal(shocks.illness.size)
        wage = p.livelihoods.district_wage_vnd_per_worker_month
        health_cost = apply_month_shocks(state, p, shocks, illness_normals, wage, 0.0)[0]
        income = earn(state, p, model.market, (elapsed - 1) % 12 + 1, elapsed, normals)
        price = p.livelihoods.livestock_unit_price_vnd * trend_factor(p, elapsed)
        settle_month(state, p, income, health_cost, shocks.school_withdrawal, price)
        count_down(state)
    return time.perf_counter() - started


def time_reference(households: int, months: int) -> float:
    model = ReferenceModel(households)
    started = time.perf_counter()
    for _ in range(months):
        model.step()
    return time.perf_counter() - started


def time_per_household_month(households: int, seed: int = 1, first_year_only: bool = False) -> float:
    """Seconds per household-month of the full calendar, or of its first year (synthesis excluded)."""
    overrides: dict[str, object] = {"run.household_count": households}
    if first_year_only:
        overrides["calendar.end_date"] = dt.date(2022, 12, 31)
    model = PovertyModel(scenario=load_scenario(None, overrides), rng=seed)
    started = time.perf_counter()
    model.run()
    return (time.perf_counter() - started) / (households * model.months_elapsed)


def print_scaling(sizes: tuple[int, ...], repeats: int) -> None:
    """Section 3: median time per household-month at each size, full calendar and first year."""
    windows = {"full calendar": False, "first year": True}
    times = {window: {n: [] for n in sizes} for window in windows}
    # Sizes alternated round by round, so a slow spell of the machine falls on all of them.
    for seed in range(1, repeats + 1):
        for n in sizes:
            for window, first_year_only in windows.items():
                times[window][n].append(time_per_household_month(n, seed, first_year_only))
    medians = {w: {n: statistics.median(t) for n, t in by_size.items()} for w, by_size in times.items()}
    print(f"3. time per household-month, synthesis excluded (median of {repeats}, sizes alternated)")
    print(f"   {'':22s}{'full calendar':>14s}{'first year':>14s}")
    for n in sizes:
        row = "".join(f"{medians[w][n] * 1e9:11.1f} ns" for w in windows)
        print(f"   {n:>9,} households:{row}")
    spread = "".join(f"{max(m.values()) / min(m.values()):14.2f}" for m in medians.values())
    print(f"   largest / smallest:  {spread}")


def peak_bytes_per_household(households: int) -> float:
    """Peak traced allocation of building a model and running its full calendar, per household."""
    scenario = load_scenario(None, {"run.household_count": households})
    tracemalloc.start()
    model = PovertyModel(scenario=scenario, rng=1)
    model.run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del model
    return peak / households


def processor_name() -> str:
    """The CPU's model name (Linux), so that recorded figures say which machine gave them."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks that it runs")
    args = parser.parse_args()
    full = 5_000 if args.quick else 58_000
    sizes = (2_000, 10_000) if args.quick else (10_000, 100_000, 1_000_000)
    scenario = load_scenario(None, {"run.household_count": full})

    time_full_run(scenario, 0)
    runs = [time_full_run(scenario, seed) for seed in range(1, args.repeats + 1)]
    seconds = statistics.median(r[0] for r in runs)
    step_seconds = statistics.median(r[1] for r in runs)
    months = runs[0][2]
    fast = full * months / seconds
    fast_steps = full * months / step_seconds
    # Like for like at the full district's size; the per-agent loop is short, being slow.
    reference_size, reference_months = full, 2
    vectorised_months = 12
    time_reference(1_000, 1)
    time_vectorised_update(1_000, 1)
    slow, same = [], []
    for _ in range(3):  # alternated, so both see the same state of a noisy machine
        slow.append(reference_size * reference_months / time_reference(reference_size, reference_months))
        same.append(
            reference_size * vectorised_months / time_vectorised_update(reference_size, vectorised_months)
        )
    slow_rate, same_rate = statistics.median(slow), statistics.median(same)
    fastest, slowest = min(r[0] for r in runs), max(r[0] for r in runs)
    print(f"1. full run, {full:,} households, {months} months, all mechanisms and data")
    print(f"   median {seconds:.3f} s of {args.repeats} (min {fastest:.3f}, max {slowest:.3f})")
    print(f"   throughput {fast / 1e6:.2f} million household-months/s (synthesis included)")
    print(
        f"   monthly steps alone: median {step_seconds:.3f} s, "
        f"{fast_steps / 1e6:.2f} million household-months/s"
    )
    print(f"2. the household update, {reference_size:,} households (median of 3, alternated)")
    print(f"   per-agent Mesa (shuffle_do, {reference_months} months): {slow_rate / 1e6:.4f} million/s")
    print(f"   povsim vectorised ({vectorised_months} months):      {same_rate / 1e6:.2f} million/s")
    print(f"   ratio, like for like: {same_rate / slow_rate:,.0f}x")
    print(f"   ratio, full run's monthly steps to the per-agent update: {fast_steps / slow_rate:,.0f}x")
    print_scaling(sizes, args.repeats)
    print("4. peak traced memory per household (synthesis and the full calendar)")
    for n in sizes:
        print(f"   {n:>9,} households: {peak_bytes_per_household(n):7.0f} bytes")
    print(f"numpy {np.__version__}, mesa {mesa.__version__}, {processor_name()}")


if __name__ == "__main__":
    main()
