"""The scenario schema: every model parameter, its unit, default, valid range and source.

A scenario file (TOML) is validated against these classes. Each parameter's name carries
its unit (`_vnd_per_person_month`, `_per_year`, `_share`, `_count`, `_log_sd`, ...), and each
field records where its default comes from in `json_schema_extra["source"]`. Defaults are
the baseline; a scenario file only states what it changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from povsim.scenario.base import Section, param
from povsim.scenario.economy import Coping, Economy, Livelihoods
from povsim.scenario.instruments import Instruments, Targeting
from povsim.scenario.shocks import Disasters, Shocks

SEED = "seed interview, Tuyen Quang newspaper 2025 (shared/seed)"
DECREE_07 = "Decree 07/2021/ND-CP (facts.md section 3)"
DECREE_351 = "Decree 351/2025/ND-CP as reported by huengaynay.vn and vietnamnet (facts.md section 3)"


class Calendar(Section):
    """When the simulation stops. It always starts in January 2022, after the end-2021 review."""

    end_date: dt.date = param(
        dt.date(2030, 12, 31),
        description="last simulated day; the last review is the last December review on or before it",
        source="projection horizon of the National Target Program 2026-2030",
    )


class Run(Section):
    """Size of the synthetic district and of the replicate ensemble."""

    household_count: int = param(
        58_000,
        ge=100,
        le=2_000_000,
        description="households in the synthetic district",
        source="assumption: population 215,610 (2022) / 3.6-3.8 persons per household (facts.md s4)",
    )
    district_household_count: int = param(
        58_000,
        ge=100,
        le=2_000_000,
        description=(
            "households the simulated ones stand for: instrument budgets and scheduled disaster counts, "
            "given for the whole district, are scaled by household_count / district_household_count"
        ),
        source="assumption: population 215,610 (2022) / 3.6-3.8 persons per household (facts.md s4)",
    )
    replicate_count: int = param(
        20,
        ge=1,
        le=10_000,
        description="stochastic replicates, each with its own random stream",
        source="choice: enough for stable 5-95 % bands at district scale",
    )
    master_seed: int = param(
        20211231,
        ge=0,
        le=2**63 - 1,
        description="master seed from which every replicate's stream is spawned",
        source="choice",
    )


class Targets(Section):
    """What the end-2021 review showed; the synthetic population is built to reproduce it."""

    measure: Literal["poor_or_near_poor", "poor"] = param(
        "poor_or_near_poor",
        description="which official rate the seed's 21.97 % and 7 % refer to",
        source="inference, facts.md section 2: the district figure is most likely poor + near-poor",
    )
    initial_rate_share: float = param(
        0.2197,
        ge=0.001,
        le=0.9,
        description="rate of the measure at the end-2021 review",
        source=SEED,
    )
    observed_2024_rate_share: float = param(
        0.07,
        ge=0.0,
        le=0.9,
        description="rate of the measure at the end-2024 review (calibration target, not an input)",
        source=SEED + ': "7 % at the beginning of 2025"',
    )
    ethnic_minority_rate_ratio: float = param(
        1.59,
        ge=0.5,
        le=5.0,
        description="ethnic-minority rate divided by the all-household rate, end-2021",
        source="Tuyen Quang province, 37.31 % vs 23.45 % end-2021 (thieunien.vn, facts.md s2)",
    )
    poor_among_poor_or_near_poor_share: float = param(
        0.54,
        ge=0.05,
        le=0.95,
        description="poor households as a share of poor plus near-poor, end-2021",
        source="assumption: national 2022 review, 4.03 % poor of 7.52 % combined (facts.md s7)",
    )


class Population(Section):
    """Distributions of the synthetic households (end of 2021)."""

    mean_household_size_persons: float = param(
        3.7,
        ge=1.5,
        le=8.0,
        description="mean household size",
        source="assumption: 215,610 people / ~58,000 households (facts.md s4)",
    )
    ethnic_minority_household_share: float = param(
        0.5,
        ge=0.0,
        le=0.95,
        description="district share of ethnic-minority households; commune shares are rescaled to it",
        source="assumption: not published for the district; the province is over 50 % ethnic minority",
    )
    under6_member_share: float = param(
        0.08,
        ge=0.0,
        le=0.3,
        description="share of members aged 0-5",
        source="assumption: Vietnam 2019 census age pyramid, northern midlands",
    )
    age6_15_member_share: float = param(
        0.15,
        ge=0.0,
        le=0.4,
        description="share of members aged 6-15",
        source="assumption: Vietnam 2019 census age pyramid, northern midlands",
    )
    age60plus_member_share: float = param(
        0.13,
        ge=0.0,
        le=0.4,
        description="share of members aged 60 and over",
        source="assumption: Vietnam 2019 census age pyramid, northern midlands",
    )
    permanent_income_log_sd: float = param(
        0.45,
        ge=0.0,
        le=1.5,
        description="spread of log permanent income per person between households",
        source="assumption: typical of VHLSS rural income distributions",
    )
    persistent_income_log_sd: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        description="stationary spread of the persistent (multi-year) income component",
        source="assumption: about half the poor are transient (VHLSS 2010, facts.md s6)",
    )
    remote_log_income_offset: float = param(
        -0.2,
        ge=-1.5,
        le=0.5,
        description="log income difference of remote communes against others of the same group",
        source="assumption: seed names remote communes as least resourced",
    )
    urban_log_income_offset: float = param(
        0.3,
        ge=-0.5,
        le=1.5,
        description="log income difference of the town against rural communes",
        source="assumption",
    )
    poor_extra_deprivations_mean_count: float = param(
        0.9,
        ge=0.0,
        le=8.0,
        description="mean number of deprivations above 3 among poor households",
        source="assumption",
    )
    near_poor_deprivations_mean_count: float = param(
        0.9,
        ge=0.0,
        le=2.0,
        description="mean number of deprivations (0-2) among near-poor households",
        source="assumption",
    )
    deprivation_income_gradient_log_sd: float = param(
        0.3,
        ge=0.01,
        le=5.0,
        description=(
            "above the line, the chance of deprivations like those below it falls by 1/e per this "
            "log-income distance from the line"
        ),
        source="assumption: deprivations change gradually with income, not at the line",
    )
    non_poor_deprivations_mean_count: float = param(
        0.5,
        ge=0.0,
        le=6.0,
        description="mean number of deprivations among households above the income line",
        source="assumption",
    )


class DeprivationWeights(Section):
    """Relative prevalence of each indicator among deprived households at synthesis.

    Only ratios matter: an indicator with weight 2 is picked twice as often as one with
    weight 1 when a household's deprivations are drawn.
    """

    employment: float = param(0.6, ge=0.0, le=100.0, description="relative weight", source="assumption")
    nutrition: float = param(0.6, ge=0.0, le=100.0, description="relative weight", source="assumption")
    health_insurance: float = param(
        0.3,
        ge=0.0,
        le=100.0,
        description="relative weight (low: cards are state-paid for the poor and ethnic minorities)",
        source="assumption; facts.md s5",
    )
    adult_education: float = param(0.6, ge=0.0, le=100.0, description="relative weight", source="assumption")
    child_school_attendance: float = param(
        0.3, ge=0.0, le=100.0, description="relative weight", source="assumption"
    )
    housing_quality: float = param(1.5, ge=0.0, le=100.0, description="relative weight", source="assumption")
    floor_area: float = param(0.8, ge=0.0, le=100.0, description="relative weight", source="assumption")
    domestic_water: float = param(1.5, ge=0.0, le=100.0, description="relative weight", source="assumption")
    hygienic_latrine: float = param(1.8, ge=0.0, le=100.0, description="relative weight", source="assumption")
    telecom_use: float = param(0.5, ge=0.0, le=100.0, description="relative weight", source="assumption")
    information_means: float = param(
        1.2, ge=0.0, le=100.0, description="relative weight", source="assumption"
    )


class NewIndicators(Section):
    """Initial prevalence of the indicators that Decree 351/2025 adds (scored from its first review)."""

    digital_services_unused_share: float = param(
        0.35,
        ge=0.0,
        le=1.0,
        description="households using no digital public or payment service, end-2021",
        source="assumption",
    )
    no_internet_share: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        description="households without internet access, end-2021",
        source="assumption",
    )
    no_waste_handling_share: float = param(
        0.4,
        ge=0.0,
        le=1.0,
        description="households whose waste is not collected or treated hygienically, end-2021",
        source="assumption",
    )
    poor_prevalence_multiplier: float = param(
        2.0,
        ge=1.0,
        le=10.0,
        description="how many times more common these deprivations are below the income line",
        source="assumption",
    )


class Demography(Section):
    """Births, ageing and deaths, applied once a year."""

    birth_prob_per_year: float = param(
        0.055,
        ge=0.0,
        le=0.5,
        description="chance a household with a working-age member has a child in a year",
        source="assumption: crude birth rate ~15 per 1,000 x 3.7 persons per household",
    )
    elderly_death_prob_per_year: float = param(
        0.04,
        ge=0.0,
        le=0.5,
        description="annual death probability of a member aged 60 and over",
        source="assumption: Vietnam life tables, ages 60-85 averaged",
    )


class LivingConditions(Section):
    """Year-to-year change in the state behind the non-demographic indicators."""

    improve_prob_per_year: float = param(
        0.12,
        ge=0.0,
        le=1.0,
        description="chance a year that a household above 1.5 x the line remedies each condition it lacks",
        source="assumption",
    )
    low_income_improve_multiplier: float = param(
        0.4,
        ge=0.0,
        le=1.0,
        description="improvement chance below 1.5 x the line, relative to households above it",
        source="assumption",
    )
    worsen_prob_per_year: float = param(
        0.005,
        ge=0.0,
        le=0.5,
        description="chance a non-deprived condition lapses in a year (house decays, card expires)",
        source="assumption",
    )


class Review(Section):
    """The annual December review of poor and near-poor households."""

    income_measurement_error_log_sd: float = param(
        0.15,
        ge=0.0,
        le=1.0,
        description="log error of the review's income estimate (survey plus village meeting)",
        source="assumption; Circular 07/2021/TT-BLDTBXH scoring is a proxy (facts.md s3)",
    )
    indicator_misscoring_prob_per_review: float = param(
        0.02,
        ge=0.0,
        le=0.5,
        description="chance the review scores any one indicator wrongly",
        source="assumption",
    )


class Standards(Section):
    """The national poverty standards; see `povsim.standards` for the indicator rules."""

    decree_351_first_review_date: dt.date = param(
        dt.date(2026, 12, 31),
        description="first review classified under Decree 351/2025 (sets the 2027 lists)",
        source="inference by analogy with the end-2021 review (facts.md s3)",
    )
    decree_07_rural_line_vnd_per_person_month: float = param(
        1_500_000.0,
        ge=100_000.0,
        le=50_000_000.0,
        description="Decree 07 income line, rural",
        source=DECREE_07,
    )
    decree_07_urban_line_vnd_per_person_month: float = param(
        2_000_000.0,
        ge=100_000.0,
        le=50_000_000.0,
        description="Decree 07 income line, urban",
        source=DECREE_07,
    )
    decree_351_rural_line_vnd_per_person_month: float = param(
        2_200_000.0,
        ge=100_000.0,
        le=50_000_000.0,
        description="Decree 351 income line, rural",
        source=DECREE_351,
    )
    decree_351_urban_line_vnd_per_person_month: float = param(
        2_800_000.0,
        ge=100_000.0,
        le=50_000_000.0,
        description="Decree 351 income line, urban",
        source=DECREE_351,
    )
    average_living_line_multiple: float = param(
        1.5,
        ge=1.0,
        le=5.0,
        description="average-living-standard households: income above the line up to this multiple",
        source="Decree 07 (rural VND 2.25 million, secondary source); assumed unchanged in 351",
    )
    poor_min_deprivation_count: int = param(
        3,
        ge=1,
        le=14,
        description="deprivations that, with income at or below the line, make a household poor",
        source=DECREE_07 + "; unchanged in Decree 351",
    )
    floor_area_min_m2_per_person: float = param(
        8.0,
        ge=1.0,
        le=50.0,
        description="floor area per person below which a household is deprived (UNVERIFIED threshold)",
        source="reported, not verified against the Decree 07 appendix (facts.md s3)",
    )
    dependents_max_share: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        description="share of dependent members above which a household is deprived (UNVERIFIED)",
        source="reported, not verified against the Decree 07 appendix (facts.md s3)",
    )


class Posterior(Section):
    """Parameter uncertainty from a calibration: each replicate draws a parameter set from a posterior."""

    file: str = param(
        "",
        description=(
            "posterior sample written by `povsim calibrate` (Parquet), relative to the scenario file that "
            "names it; each replicate runs with a parameter set drawn from it by weight; empty: none"
        ),
        source="povsim calibrate (experiments/calibration.toml, docs/calibration.md)",
    )


class Scenario(BaseModel):
    """A complete, validated scenario: everything one run of the model depends on."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field("baseline", description="short name used in outputs and plots")
    description: str = Field("", description="what question the scenario answers")
    calendar: Calendar = Calendar()
    run: Run = Run()
    targets: Targets = Targets()
    population: Population = Population()
    deprivation_weights: DeprivationWeights = DeprivationWeights()
    new_indicators: NewIndicators = NewIndicators()
    livelihoods: Livelihoods = Livelihoods()
    economy: Economy = Economy()
    coping: Coping = Coping()
    shocks: Shocks = Shocks()
    disasters: Disasters = Disasters()
    targeting: Targeting = Targeting()
    instruments: Instruments = Instruments()
    demography: Demography = Demography()
    living_conditions: LivingConditions = LivingConditions()
    review: Review = Review()
    standards: Standards = Standards()
    posterior: Posterior = Posterior()

    @property
    def district_scale(self) -> float:
        """Simulated households per household of the district (scales district-wide totals)."""
        return self.run.household_count / self.run.district_household_count

    def initial_below_line_shares(self) -> tuple[float, float]:
        """Shares of ethnic-minority and other households at or below the line, end-2021.

        The end-2021 rate of the target measure and the ethnic-minority ratio fix both:
        for the poor-only measure, the below-line share is the rate divided by the poor
        share of poor plus near-poor households.
        """
        t = self.targets
        below = t.initial_rate_share
        if t.measure == "poor":
            below /= t.poor_among_poor_or_near_poor_share
        minority_share = self.population.ethnic_minority_household_share
        minority = t.ethnic_minority_rate_ratio * below
        if minority_share >= 1.0:
            return minority, below
        others = (below - minority_share * minority) / (1.0 - minority_share)
        return minority, others
