"""Scenario parameters of the household economy: livelihoods, earnings, spending and coping."""

from __future__ import annotations

from povsim.scenario.base import Section, param

ASSUMED_MIX = "assumption: northern midlands farm households (VHLSS income structure), to calibrate"


class Livelihoods(Section):
    """How households earned their income at the end of 2021 (shares of total income)."""

    crops_income_share: float = param(
        0.30, ge=0.0, le=1.0, description="rice, maize and other crops, rural households", source=ASSUMED_MIX
    )
    tea_income_share: float = param(
        0.10, ge=0.0, le=1.0, description="tea, rural households", source=ASSUMED_MIX
    )
    forestry_income_share: float = param(
        0.10, ge=0.0, le=1.0, description="acacia and other forestry, rural households", source=ASSUMED_MIX
    )
    livestock_income_share: float = param(
        0.15,
        ge=0.0,
        le=1.0,
        description="cattle, buffalo, pigs, poultry, rural households",
        source=ASSUMED_MIX,
    )
    wages_income_share: float = param(
        0.30, ge=0.0, le=1.0, description="wage work, rural households", source=ASSUMED_MIX
    )
    remittances_income_share: float = param(
        0.05,
        ge=0.0,
        le=1.0,
        description="money sent by members working elsewhere, rural households",
        source=ASSUMED_MIX,
    )
    urban_wages_income_share: float = param(
        0.75,
        ge=0.0,
        le=1.0,
        description="wage share in the town; the other sources share the rest in rural proportions",
        source="assumption",
    )
    income_mix_concentration_count: float = param(
        4.0,
        ge=0.1,
        le=1000.0,
        description="Dirichlet concentration of income mixes around the shares (higher: more alike)",
        source="assumption",
    )
    district_wage_vnd_per_worker_month: float = param(
        4_500_000.0,
        ge=100_000.0,
        le=100_000_000.0,
        description="monthly earnings of a regular wage job, end-2021",
        source="assumption: GSO labour force survey, northern midlands, 2021",
    )
    livestock_unit_price_vnd: float = param(
        15_000_000.0,
        ge=100_000.0,
        le=500_000_000.0,
        description="price of one cattle-equivalent livestock unit (a breeding cow)",
        source="assumption: VND 30 million for 2 breeding cows (VBSP case story, facts.md s4)",
    )
    livestock_net_return_vnd_per_unit_month: float = param(
        500_000.0,
        ge=1.0,
        le=10_000_000.0,
        description="net monthly income of one livestock unit (sales and value of young stock, draught)",
        source=(
            "VBSP case story: 2 cows grew to 5 and bring over VND 30 million a year (facts.md s4); "
            "calves kept counted as income, net of costs (assumption)"
        ),
    )
    initial_savings_months_of_income: float = param(
        1.0,
        ge=0.0,
        le=60.0,
        description="mean savings at the end of 2021, in months of household income (exponential spread)",
        source="assumption",
    )


class Economy(Section):
    """Earnings over time: common trend, household persistence and monthly noise."""

    nominal_income_growth_per_year: float = param(
        0.09,
        ge=-0.3,
        le=0.5,
        description="trend growth of nominal earnings and farm-gate prices (real growth plus inflation)",
        source="assumption: GSO average income per person +6-9 % a year 2022-2024",
    )
    persistent_income_autocorrelation_per_year: float = param(
        0.6,
        ge=0.0,
        le=1.0,
        description="year-on-year autocorrelation of a household's persistent earnings component",
        source="assumption",
    )
    monthly_income_noise_log_sd: float = param(
        0.15,
        ge=0.0,
        le=1.0,
        description="month-to-month transitory noise in log earnings",
        source="assumption",
    )
    job_finding_prob_per_month: float = param(
        0.03,
        ge=0.0,
        le=1.0,
        description="chance a jobless working-age member finds regular work in a month",
        source="assumption",
    )


class Coping(Section):
    """Spending and what households do when money runs short."""

    subsistence_vnd_per_person_month: float = param(
        900_000.0,
        ge=0.0,
        le=20_000_000.0,
        description="spending a household keeps up whatever its income (food and essentials)",
        source="assumption: about 60 % of the Decree 07 rural line",
    )
    consumption_share_of_income_above_subsistence: float = param(
        0.8,
        ge=0.0,
        le=1.0,
        description="share of income above subsistence that is spent rather than saved",
        source="assumption",
    )
    school_cost_vnd_per_child_month: float = param(
        150_000.0,
        ge=0.0,
        le=10_000_000.0,
        description=(
            "school costs of a child aged 6-15 (tuition, books, uniforms, travel); the tuition part is "
            "instruments.tuition_exemption.amount_vnd_per_unit a year"
        ),
        source="assumption",
    )
    savings_buffer_months_of_income: float = param(
        3.0,
        ge=0.0,
        le=120.0,
        description="savings kept as a buffer; anything above is spent on durables, building and events",
        source="assumption: precautionary saving of rural households",
    )
    informal_borrowing_limit_months_of_income: float = param(
        3.0,
        ge=0.0,
        le=60.0,
        description="how much a household can borrow from relatives and lenders, in months of income",
        source="assumption",
    )
    informal_interest_rate_per_year: float = param(
        0.24,
        ge=0.0,
        le=2.0,
        description="interest on informal debt",
        source="assumption: typical rural moneylender rates",
    )
    informal_repayment_share_per_month: float = param(
        0.1,
        ge=0.0,
        le=1.0,
        description="share of informal debt repaid each month from savings when savings allow",
        source="assumption",
    )
    child_withdrawal_prob_per_short_month: float = param(
        0.05,
        ge=0.0,
        le=1.0,
        description="chance a household that cannot cover its spending takes a child out of school",
        source="assumption: health shocks cut education spending (Mitra et al. 2016, facts.md s6)",
    )
