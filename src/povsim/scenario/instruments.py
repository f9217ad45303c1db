"""Scenario parameters of the National Target Program's instruments and of targeting.

Every instrument is data: when it runs, who is eligible, what a unit costs, how many take
it up, and its annual budget (absent: an entitlement paid to every eligible unit that takes
it up). Where the seed gives a volume, the default budget is the seed's 2021-2024 total
spread over the three list years 2022-2024; the model then decides who receives it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from povsim.scenario.base import Section, param

Group = Literal[
    "poor",
    "near_poor",
    "newly_escaped",
    "ethnic_minority",
    "remote",
    "ethnic_minority_remote",
    "rural",
    "all",
]
SEED = "seed interview (facts.md s1)"
SEED_YEARS = "; budget = seed total over the 3 list years 2022-2024"
VBSP = "VBSP lending terms (facts.md s5)"
PROGRAM_END = dt.date(2030, 12, 31)


class Instrument(Section):
    """Fields every instrument has; each instrument below sets its own defaults."""

    enabled: bool = param(True, description="whether the instrument runs at all", source="scenario choice")
    start_date: dt.date = param(
        dt.date(2022, 1, 1), description="first day of disbursement", source="program 2021-2025"
    )
    end_date: dt.date = param(
        PROGRAM_END,
        description="last day of disbursement",
        source="assumption: the program continues in 2026-2030 on the same terms",
    )
    eligible_groups: tuple[Group, ...] = param(
        ("poor",),
        description="households on these lists or in these groups are eligible (any of them)",
        source="program rules",
        strict=False,
    )
    newly_escaped_max_years: int = param(
        3,
        ge=1,
        le=20,
        description="a household counts as newly escaped for this many reviews after leaving poverty",
        source="VBSP: households that left poverty within 3 years (facts.md s5)",
    )
    take_up_share: float = param(
        0.5, ge=0.0, le=1.0, description="share of eligible units that apply in a year", source="assumption"
    )
    annual_budget_vnd: float | None = param(
        None,
        ge=0.0,
        le=1e14,
        description="spending cap per calendar year; absent means an entitlement without a cap",
        source="assumption",
    )
    amount_vnd_per_unit: float = param(
        1_000_000.0, ge=0.0, le=1e10, description="what one unit receives", source="assumption"
    )
    disbursement_month: int = param(
        3,
        ge=1,
        le=12,
        description="month of the year in which the year's support is paid",
        source="assumption: after the lists are approved in January-February",
    )


class PreferentialLoans(Instrument):
    """VBSP production loans to poor, near-poor and newly escaped households."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor", "near_poor", "newly_escaped"), description="eligible lists", source=VBSP, strict=False
    )
    take_up_share: float = param(
        0.3,
        ge=0.0,
        le=1.0,
        description="share of eligible households that apply in a year",
        source="assumption",
    )
    annual_budget_vnd: float | None = param(
        209e9 / 3,
        ge=0.0,
        le=1e14,
        description="lending per year",
        source=SEED + ": over VND 209 billion to 3,606 households" + SEED_YEARS,
    )
    amount_vnd_per_unit: float = param(
        58_000_000.0,
        ge=0.0,
        le=100_000_000.0,
        description="loan size (VBSP cap VND 100 million)",
        source=SEED + ": VND 209 billion / 3,606 households",
    )
    poor_rate_per_year: float = param(0.066, ge=0.0, le=0.5, description="interest, poor", source=VBSP)
    near_poor_rate_per_year: float = param(
        0.0792,
        ge=0.0,
        le=0.5,
        description="interest, near-poor (120 % of the poor rate, unverified)",
        source=VBSP,
    )
    newly_escaped_rate_per_year: float = param(
        0.0825, ge=0.0, le=0.5, description="interest, newly escaped (125 % of the poor rate)", source=VBSP
    )
    term_months: int = param(60, ge=1, le=240, description="loan term", source=VBSP)
    livestock_use_share: float = param(
        0.6,
        ge=0.0,
        le=1.0,
        description="share of the loan spent on livestock; the rest expands crops and tea",
        source="assumption: breeding cattle is the typical use (VBSP case story)",
    )
    farm_investment_return_per_year: float = param(
        0.2,
        ge=0.0,
        le=2.0,
        description="yearly net return on the part invested in crops and tea",
        source="assumption",
    )
    default_after_arrears_months: int = param(
        12,
        ge=1,
        le=120,
        description="months of unpaid instalments after which a loan is written off",
        source="assumption",
    )


class StudentLoans(Instrument):
    """VBSP loans for students from poor and near-poor households."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor", "near_poor"), description="eligible lists", source="Decision 157/2007/QD-TTg", strict=False
    )
    take_up_share: float = param(
        0.05,
        ge=0.0,
        le=1.0,
        description="share of eligible households with a member lacking schooling who apply",
        source="assumption",
    )
    annual_budget_vnd: float | None = param(
        2.2e9 / 3,
        ge=0.0,
        le=1e14,
        description="lending per year",
        source=SEED + ": 49 students, VND 2.2 billion" + SEED_YEARS,
    )
    amount_vnd_per_unit: float = param(
        45_000_000.0, ge=0.0, le=1e9, description="loan per student", source=SEED + ": 2.2 billion / 49"
    )
    rate_per_year: float = param(0.066, ge=0.0, le=0.5, description="interest", source=VBSP)
    term_months: int = param(120, ge=1, le=240, description="loan term", source="assumption")


class WaterSanitationLoans(Instrument):
    """VBSP loans to build clean-water and hygienic-latrine works in rural households."""

    eligible_groups: tuple[Group, ...] = param(
        ("rural",),
        description="eligible households (those lacking water or a latrine are served first)",
        source="rural clean water and sanitation program",
        strict=False,
    )
    take_up_share: float = param(0.3, ge=0.0, le=1.0, description="share who apply", source="assumption")
    annual_budget_vnd: float | None = param(
        73e9 / 3,
        ge=0.0,
        le=1e14,
        description="lending per year",
        source=SEED + ": 23,771 households, over VND 73 billion" + SEED_YEARS,
    )
    amount_vnd_per_unit: float = param(
        3_070_000.0,
        ge=0.0,
        le=1e9,
        description="loan per household",
        source=SEED + ": VND 73 billion / 23,771 households",
    )
    rate_per_year: float = param(0.09, ge=0.0, le=0.5, description="interest", source="assumption")
    term_months: int = param(60, ge=1, le=240, description="loan term", source="assumption")


class TuitionExemption(Instrument):
    """Tuition waived for children of poor, near-poor and ethnic-minority households."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor", "near_poor", "ethnic_minority"),
        description="eligible households' children aged 6-15",
        source="Decree 81/2021/ND-CP",
        strict=False,
    )
    take_up_share: float = param(1.0, ge=0.0, le=1.0, description="share claimed", source="assumption")
    amount_vnd_per_unit: float = param(
        134_000.0,
        ge=0.0,
        le=1e9,
        description="tuition waived per student-year",
        source=SEED + ': "7,641 billion" read as VND 7.641 billion / 57,000 student-years',
    )
    disbursement_month: int = param(
        9, ge=1, le=12, description="start of the school year", source="school calendar"
    )


class StudyCostSupport(Instrument):
    """Cash for study costs of children in poor, near-poor, ethnic-minority and remote households."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor", "near_poor", "ethnic_minority", "remote"),
        description="eligible households' children 6-15",
        source="Decree 81/2021/ND-CP (poor, near-poor, ethnic-minority children, disadvantaged communes)",
        strict=False,
    )
    take_up_share: float = param(1.0, ge=0.0, le=1.0, description="share claimed", source="assumption")
    amount_vnd_per_unit: float = param(
        661_000.0,
        ge=0.0,
        le=1e9,
        description="support per student-year",
        source=SEED + ": nearly VND 56 billion / 84,700 student-years",
    )
    disbursement_month: int = param(
        9, ge=1, le=12, description="start of the school year", source="school calendar"
    )


class HealthInsurance(Instrument):
    """State-paid health insurance cards for the poor and for ethnic minorities in remote areas."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor", "ethnic_minority_remote"),
        description=(
            "households whose members get fully state-paid cards: the groups the seed names (poor people, "
            "ethnic minorities in difficult areas); add near_poor for the near-poor cards that the state "
            "(70 %) and Tuyen Quang (30 %) pay for"
        ),
        source="seed; Law on Health Insurance; Tuyen Quang near-poor top-up (facts.md s5)",
        strict=False,
    )
    take_up_share: float = param(
        0.98, ge=0.0, le=1.0, description="share of cards issued and used", source="assumption"
    )
    amount_vnd_per_unit: float = param(
        850_000.0,
        ge=0.0,
        le=1e8,
        description="premium per person-year (4.5 % of the base salary)",
        source="4.5 % x VND 1.49-1.8 million base salary x 12",
    )
    disbursement_month: int = param(
        1, ge=1, le=12, description="cards issued for the calendar year", source="practice"
    )
    poor_card_paid_cost_share: float = param(
        1.0,
        ge=0.0,
        le=1.0,
        description="share of treatment cost paid for poor households' state cards",
        source="Law on Health Insurance: 100 % benefit for poor households",
    )
    voluntary_purchase_prob_per_year: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        description="chance a household dropped from the eligible lists buys cards itself for the year",
        source="assumption: voluntary household insurance",
    )


class ElectricitySupport(Instrument):
    """Electricity bill support for poor households."""

    take_up_share: float = param(1.0, ge=0.0, le=1.0, description="share paid", source="assumption")
    amount_vnd_per_unit: float = param(
        600_000.0,
        ge=0.0,
        le=1e8,
        description="support per household-year (30 kWh a month at tier 1)",
        source="Decision 28/2014/QD-TTg; seed: VND 20 billion / 32,959 households",
    )
    disbursement_month: int = param(
        1, ge=1, le=12, description="paid for the calendar year", source="practice"
    )


class HousingSupport(Instrument):
    """New houses and repairs for poor households in makeshift or non-durable houses."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor",),
        description="eligible lists (only households with a makeshift or non-durable house)",
        source=SEED,
        strict=False,
    )
    take_up_share: float = param(
        0.8, ge=0.0, le=1.0, description="share who build when offered", source="assumption"
    )
    annual_budget_vnd: float | None = param(
        85e9 / 3,
        ge=0.0,
        le=1e14,
        description="spending per year",
        source=SEED + ": 1,565 houses, over VND 85 billion" + SEED_YEARS,
    )
    amount_vnd_per_unit: float = param(
        60_000_000.0,
        ge=0.0,
        le=1e10,
        description="support for a new house (replacing a makeshift one)",
        source="2024-2025 temporary-house campaign, VND 60 million (unverified, facts.md s5)",
    )
    repair_amount_vnd: float = param(
        40_000_000.0,
        ge=0.0,
        le=1e10,
        description="support to repair a non-durable house",
        source="assumption between the campaign's VND 30 million and the seed's average VND 54 million",
    )


class VocationalTraining(Instrument):
    """Short vocational courses for jobless working-age members."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor", "near_poor", "newly_escaped", "ethnic_minority"),
        description="eligible households",
        source=SEED + " (no volume given)",
        strict=False,
    )
    take_up_share: float = param(0.2, ge=0.0, le=1.0, description="share who enrol", source="assumption")
    annual_budget_vnd: float | None = param(
        2e9, ge=0.0, le=1e14, description="spending per year", source="assumption: not in the seed"
    )
    amount_vnd_per_unit: float = param(
        4_000_000.0, ge=0.0, le=1e9, description="cost per trainee", source="assumption"
    )
    job_finding_multiplier: float = param(
        2.0,
        ge=1.0,
        le=20.0,
        description="how much training raises the chance of finding regular work",
        source="assumption",
    )
    wage_premium_share: float = param(
        0.15, ge=0.0, le=2.0, description="higher wage of a trained worker", source="assumption"
    )


class JobPlacement(Instrument):
    """Job fairs and placement for jobless members of poor and near-poor households."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor", "near_poor"),
        description="eligible households",
        source=SEED + " (no volume given)",
        strict=False,
    )
    take_up_share: float = param(0.3, ge=0.0, le=1.0, description="share who register", source="assumption")
    annual_budget_vnd: float | None = param(
        0.5e9, ge=0.0, le=1e14, description="spending per year", source="assumption: not in the seed"
    )
    amount_vnd_per_unit: float = param(
        1_000_000.0, ge=0.0, le=1e9, description="cost per placement attempt", source="assumption"
    )
    success_share: float = param(
        0.5, ge=0.0, le=1.0, description="attempts that end in regular work", source="assumption"
    )


class LabourExport(Instrument):
    """Contract work abroad: fee support, a loan for the rest, delay, remittances, return."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor", "near_poor", "newly_escaped", "ethnic_minority"),
        description="eligible households",
        source="Decision 90/QD-TTg 2022 (sub-project on labour export)",
        strict=False,
    )
    take_up_share: float = param(
        0.01, ge=0.0, le=1.0, description="share who sign a contract", source="assumption"
    )
    annual_budget_vnd: float | None = param(
        1e9, ge=0.0, le=1e14, description="fee support per year", source="assumption: not in the seed"
    )
    amount_vnd_per_unit: float = param(
        15_000_000.0, ge=0.0, le=1e9, description="fee support per worker", source="assumption"
    )
    fee_loan_vnd: float = param(
        100_000_000.0,
        ge=0.0,
        le=1e10,
        description="preferential loan for the rest of the fee",
        source="assumption",
    )
    loan_rate_per_year: float = param(
        0.066, ge=0.0, le=0.5, description="interest on the fee loan", source=VBSP
    )
    loan_term_months: int = param(48, ge=1, le=240, description="fee loan term", source="assumption")
    departure_delay_months: int = param(
        6, ge=0, le=36, description="training and paperwork before leaving", source="assumption"
    )
    remittance_vnd_month: float = param(
        8_000_000.0,
        ge=0.0,
        le=1e9,
        description="money sent home per month while abroad",
        source="assumption: Japan, Korea, Taiwan contracts",
    )
    contract_months: int = param(36, ge=1, le=120, description="length of a contract", source="assumption")


class LivestockSupport(Instrument):
    """Breeding cattle given to poor households (e.g. Dong Tho commune)."""

    take_up_share: float = param(0.3, ge=0.0, le=1.0, description="share who accept", source="assumption")
    annual_budget_vnd: float | None = param(
        2e9, ge=0.0, le=1e14, description="spending per year", source="assumption: not in the seed"
    )
    amount_vnd_per_unit: float = param(
        30_000_000.0,
        ge=0.0,
        le=1e9,
        description="value given per household (two breeding cows)",
        source="VBSP case story: 2 breeding cows (facts.md s4)",
    )


class ValueChainSupport(Instrument):
    """Tea value-chain linkage: inputs, training and a buyer contract raising tea income."""

    eligible_groups: tuple[Group, ...] = param(
        ("poor", "near_poor", "newly_escaped"),
        description="eligible households (tea growers only)",
        source=SEED,
        strict=False,
    )
    take_up_share: float = param(0.3, ge=0.0, le=1.0, description="share who join", source="assumption")
    annual_budget_vnd: float | None = param(
        1e9, ge=0.0, le=1e14, description="spending per year", source="assumption: not in the seed"
    )
    amount_vnd_per_unit: float = param(
        5_000_000.0, ge=0.0, le=1e9, description="cost per household", source="assumption"
    )
    tea_income_gain_share: float = param(
        0.15, ge=0.0, le=5.0, description="lasting rise in tea income", source="assumption"
    )


class FoodAid(Instrument):
    """Rice for poor households that run out of money in the crop gap (e.g. Luong Thien commune)."""

    take_up_share: float = param(1.0, ge=0.0, le=1.0, description="share who receive it", source="assumption")
    amount_vnd_per_unit: float = param(
        180_000.0,
        ge=0.0,
        le=1e8,
        description="value per person-month (15 kg of rice)",
        source="assumption: 15 kg of rice per person-month at VND 12,000 a kg",
    )
    crop_gap_months: tuple[int, ...] = param(
        (2, 3, 4),
        description="months in which households without savings receive rice",
        source="crop gap before the summer harvest; seed: rice in early 2025",
        strict=False,
    )


class Instruments(Section):
    """Every instrument named in the seed; ids match ledger outputs."""

    preferential_loans: PreferentialLoans = PreferentialLoans()
    student_loans: StudentLoans = StudentLoans()
    water_sanitation_loans: WaterSanitationLoans = WaterSanitationLoans()
    tuition_exemption: TuitionExemption = TuitionExemption()
    study_cost_support: StudyCostSupport = StudyCostSupport()
    health_insurance: HealthInsurance = HealthInsurance()
    electricity_support: ElectricitySupport = ElectricitySupport()
    housing_support: HousingSupport = HousingSupport()
    vocational_training: VocationalTraining = VocationalTraining()
    job_placement: JobPlacement = JobPlacement()
    labour_export: LabourExport = LabourExport()
    livestock_support: LivestockSupport = LivestockSupport()
    value_chain_support: ValueChainSupport = ValueChainSupport()
    food_aid: FoodAid = FoodAid()


class Targeting(Section):
    """How commune officials turn the lists into beneficiaries."""

    exclusion_error_share: float = param(
        0.1,
        ge=0.0,
        le=1.0,
        description="eligible households the officials miss",
        source="assumption; VBSP credit is not well targeted (Nguyen Viet Cuong 2008, facts.md s6)",
    )
    inclusion_error_share: float = param(
        0.03,
        ge=0.0,
        le=1.0,
        description="households of average living standard wrongly included, as a share of them",
        source="assumption",
    )
    error_reduction_per_year: float = param(
        0.05,
        ge=0.0,
        le=1.0,
        description="yearly relative fall in both errors as officials' capacity improves",
        source="seed: training of grassroots officials",
    )
    awareness_take_up_gain_share: float = param(
        0.1,
        ge=0.0,
        le=5.0,
        description="relative rise in take-up from awareness campaigns",
        source="seed: awareness campaigns",
    )
    awareness_campaign_start_date: dt.date = param(
        dt.date(2022, 1, 1), description="when awareness campaigns start", source="program 2021-2025"
    )
