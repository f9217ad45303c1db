"""Scenario parameters of shocks: illness, work, livestock, prices, epidemics and disasters."""

from __future__ import annotations

import datetime as dt

from povsim.scenario.base import Section, param

ILLNESS_EVIDENCE = "assumption; illness is the cause of relapse the ministry names most (vietnamplus 2024)"


class Shocks(Section):
    """Idiosyncratic and covariate shocks other than natural disasters."""

    illness_prob_per_month: float = param(
        0.008,
        ge=0.0,
        le=0.5,
        description="chance a household has a member fall seriously ill in a month",
        source=ILLNESS_EVIDENCE,
    )
    illness_duration_months: int = param(
        3, ge=1, le=36, description="months of lost work after a serious illness", source="assumption"
    )
    illness_income_loss_share: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        description="share of household earnings lost while a member is ill",
        source="assumption",
    )
    illness_treatment_cost_vnd: float = param(
        8_000_000.0,
        ge=0.0,
        le=2_000_000_000.0,
        description="mean cost of treating a serious illness (log-normal, log sd 0.8)",
        source="assumption: VHLSS inpatient spending in rural northern Vietnam",
    )
    insurance_paid_cost_share: float = param(
        0.8,
        ge=0.0,
        le=1.0,
        description="share of treatment cost paid by health insurance for a card holder",
        source="Law on Health Insurance: 80 % standard benefit (100 % for poor households)",
    )
    worker_loss_prob_per_year: float = param(
        0.004,
        ge=0.0,
        le=0.5,
        description="chance a working-age member dies or is disabled in a year (earnings lost for good)",
        source="assumption: Vietnam adult mortality and disability rates",
    )
    job_loss_prob_per_month: float = param(
        0.006,
        ge=0.0,
        le=0.5,
        description="chance a wage worker loses regular work in a month",
        source="assumption",
    )
    migrant_job_loss_prob_per_month: float = param(
        0.005,
        ge=0.0,
        le=0.5,
        description="chance a member working abroad loses the job and returns early, per month",
        source="assumption",
    )
    livestock_disease_prob_per_month: float = param(
        0.004,
        ge=0.0,
        le=0.5,
        description="chance a household's herd is hit by disease in a month (outside outbreaks)",
        source="assumption; loss of livestock is a leading named cause of relapse (vietnamplus 2024)",
    )
    livestock_disease_loss_share: float = param(
        0.5, ge=0.0, le=1.0, description="share of the herd lost to a disease", source="assumption"
    )
    livestock_outbreak_prob_per_year: float = param(
        0.1,
        ge=0.0,
        le=1.0,
        description="chance of a district-wide outbreak (swine fever, lumpy skin) in a year",
        source="assumption: outbreaks in Tuyen Quang 2019-2021",
    )
    livestock_outbreak_risk_multiplier: float = param(
        5.0,
        ge=1.0,
        le=100.0,
        description="how many times the monthly herd-disease chance rises during an outbreak (3 months)",
        source="assumption",
    )
    epidemic_prob_per_year: float = param(
        0.04,
        ge=0.0,
        le=1.0,
        description="chance a human epidemic disrupts work and trade in a year (lasting 6 months)",
        source="assumption",
    )
    epidemic_wage_loss_share: float = param(
        0.2, ge=0.0, le=1.0, description="wages lost during an epidemic", source="assumption"
    )
    epidemic_remittance_loss_share: float = param(
        0.3, ge=0.0, le=1.0, description="remittances lost during an epidemic", source="assumption"
    )
    epidemic_price_fall_share: float = param(
        0.1, ge=0.0, le=1.0, description="farm-gate price fall during an epidemic", source="assumption"
    )
    price_fall_prob_per_year: float = param(
        0.1,
        ge=0.0,
        le=1.0,
        description="chance, for each product group (crops, tea, livestock), of a price fall in a year",
        source="assumption",
    )
    price_fall_share: float = param(
        0.25, ge=0.0, le=0.95, description="size of a price fall", source="assumption"
    )
    price_recovery_per_month: float = param(
        0.1,
        ge=0.0,
        le=1.0,
        description="share of a price fall recovered each month",
        source="assumption",
    )


class ScheduledDisaster(Section):
    """A historical or hypothetical disaster on a given date in named communes."""

    name: str = param("Typhoon Yagi", description="label", source="")
    event_date: dt.date = param(
        dt.date(2024, 9, 10),
        description="day of the event; it strikes in that month",
        source="Typhoon Yagi flood, 10 September 2024 (tuyenquang.gov.vn, facts.md s4)",
    )
    communes: tuple[str, ...] = param(
        (
            "Quyet Thang",
            "Cap Tien",
            "Dong Tho",
            "Vinh Loi",
            "Dong Quy",
            "Hong Son",
            "Truong Sinh",
        ),
        description="communes hit (names as in the communes table)",
        strict=False,
        source="Lo river communes (communes table); dyke breach at Quyet Thang",
    )
    damaged_houses_count: int = param(
        857,
        ge=0,
        le=1_000_000,
        description="houses damaged or flooded in the district (scaled to the simulated household count)",
        source="857 houses in Son Duong damaged or flooded (tuyenquang.gov.vn, facts.md s4)",
    )
    crop_loss_share: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        description="share of crop income lost for the following months by households hit",
        source="assumption: over 7,000 ha of crops damaged in the province",
    )


class Disasters(Section):
    """Floods, landslides and storms by commune and season, plus scheduled events."""

    flood_prob_per_month: float = param(
        0.02,
        ge=0.0,
        le=1.0,
        description="chance of a flood in a Lo-river commune in a rainy-season month (June-September)",
        source="assumption",
    )
    landslide_prob_per_month: float = param(
        0.015,
        ge=0.0,
        le=1.0,
        description="chance of landslides in a remote upland commune in a rainy-season month",
        source="assumption",
    )
    storm_prob_per_month: float = param(
        0.01,
        ge=0.0,
        le=1.0,
        description="chance of a damaging storm in any commune in a storm-season month (July-October)",
        source="assumption",
    )
    affected_household_share: float = param(
        0.2,
        ge=0.0,
        le=1.0,
        description="share of a commune's households hit when a disaster strikes it",
        source="assumption",
    )
    makeshift_house_damage_share: float = param(
        0.6, ge=0.0, le=1.0, description="chance a hit makeshift house is damaged", source="assumption"
    )
    non_durable_house_damage_share: float = param(
        0.35, ge=0.0, le=1.0, description="chance a hit non-durable house is damaged", source="assumption"
    )
    semi_durable_house_damage_share: float = param(
        0.12, ge=0.0, le=1.0, description="chance a hit semi-durable house is damaged", source="assumption"
    )
    durable_house_damage_share: float = param(
        0.03, ge=0.0, le=1.0, description="chance a hit durable house is damaged", source="assumption"
    )
    crop_loss_share: float = param(
        0.4,
        ge=0.0,
        le=1.0,
        description="share of crop income lost for the following months by households hit",
        source="riverine floods cut welfare by up to 23 % (World Bank PRWP 5491, facts.md s6)",
    )
    crop_loss_months: int = param(
        4, ge=1, le=24, description="months a harvest loss lasts", source="assumption"
    )
    livestock_loss_share: float = param(
        0.2, ge=0.0, le=1.0, description="share of the herd lost by households hit", source="assumption"
    )
    house_repair_cost_vnd: float = param(
        10_000_000.0,
        ge=0.0,
        le=1_000_000_000.0,
        description="what a household spends on emergency repairs after damage",
        source="assumption",
    )
    scheduled: tuple[ScheduledDisaster, ...] = param(
        (ScheduledDisaster(),),
        description="disasters on fixed dates ([[disasters.scheduled]] tables)",
        strict=False,
        source="historical events",
    )
