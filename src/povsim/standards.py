"""Vietnam's national multidimensional poverty standards, as data and rules.

Two standards matter for 2021-2030:

- Decree 07/2021/ND-CP (period 2022-2025; the end-2021 review already used it),
- Decree 351/2025/ND-CP (period 2026-2030; lines from 2027, so by default first applied at
  the end-2026 review, an inference made by analogy with 2021).

A household is *poor* if its income per person is at or below the line and it is deprived
in at least 3 indicators; *near-poor* if its income is at or below the line with fewer
deprivations; of *average living standard* if its income is above the line but at most
1.5 times it. Each indicator below records its rule as the decree states it, whether that
wording has been checked against the decree's own text (`verified`), and its source. The
unverified numeric thresholds (floor area, dependent share) are scenario parameters.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from povsim.household_loops import (
    RULE_DEPENDENTS,
    RULE_EMPLOYMENT,
    RULE_FLOOR_AREA,
    RULE_HOUSING,
    RULE_LACKS,
    RULE_LACKS_WITH_ADULT,
    RULE_LACKS_WITH_CHILD,
    RULE_LACKS_WITH_PUPIL,
    classify_households,
    score_deprivations,
)
from povsim.households import HouseholdState
from povsim.scenario.schema import Scenario

PUBLIC_TEXT = "Decree 07/2021/ND-CP public text (luatvietnam.vn), facts.md section 3"
REPORTED = "reported by secondary sources; to be verified against the decree appendix"
DECREE_351_NEWS = "huengaynay.vn and vietnamnet reports on Decree 351/2025 (facts.md section 3)"


class Status(IntEnum):
    """Official status of a household at a review, from worst to best off."""

    POOR = 0
    NEAR_POOR = 1
    AVERAGE = 2
    ABOVE_AVERAGE = 3


@dataclass(frozen=True)
class Indicator:
    """One deprivation indicator of a standard."""

    name: str
    dimension: str
    rule: str
    verified: bool
    source: str


INDICATORS: dict[str, Indicator] = {
    i.name: i
    for i in (
        Indicator(
            "employment",
            "employment",
            "at least one working-age member without regular work",
            False,
            REPORTED,
        ),
        Indicator(
            "dependents",
            "employment",
            "dependents are more than half the members (threshold: a parameter)",
            False,
            REPORTED,
        ),
        Indicator("nutrition", "health", "a child under 16 is stunted or underweight", True, PUBLIC_TEXT),
        Indicator(
            "health_insurance",
            "health",
            "a member aged 6 or more has no health insurance",
            True,
            PUBLIC_TEXT,
        ),
        Indicator(
            "adult_education",
            "education",
            "a member aged 16-30 lacks the schooling expected for their age",
            False,
            REPORTED,
        ),
        Indicator(
            "child_school_attendance",
            "education",
            "a child aged 3-15 is not in school at the right level",
            False,
            REPORTED,
        ),
        Indicator(
            "housing_quality",
            "housing",
            "the household lives in a makeshift or non-durable house",
            False,
            REPORTED,
        ),
        Indicator(
            "floor_area",
            "housing",
            "floor area per person is under 8 m2 (threshold: a parameter)",
            False,
            REPORTED,
        ),
        Indicator(
            "domestic_water",
            "water and sanitation",
            "no safe domestic water source",
            False,
            REPORTED,
        ),
        Indicator("hygienic_latrine", "water and sanitation", "no hygienic latrine", False, REPORTED),
        Indicator(
            "telecom_use",
            "information",
            "no member uses telecommunication or internet services",
            False,
            REPORTED,
        ),
        Indicator("information_means", "information", "no means of access to information", False, REPORTED),
        Indicator(
            "digital_services",
            "information",
            "no member uses digital services (added by Decree 351)",
            False,
            DECREE_351_NEWS,
        ),
        Indicator(
            "internet_access",
            "information",
            "no internet access (added by Decree 351)",
            False,
            DECREE_351_NEWS,
        ),
        Indicator(
            "waste_handling",
            "water and sanitation",
            "household waste not handled hygienically (added by Decree 351)",
            False,
            DECREE_351_NEWS,
        ),
    )
}

DECREE_07_INDICATORS = (
    "employment",
    "dependents",
    "nutrition",
    "health_insurance",
    "adult_education",
    "child_school_attendance",
    "housing_quality",
    "floor_area",
    "domestic_water",
    "hygienic_latrine",
    "telecom_use",
    "information_means",
)
DECREE_351_INDICATORS = (
    *(name for name in DECREE_07_INDICATORS if name != "information_means"),
    "digital_services",
    "internet_access",
    "waste_handling",
)

# Houses below this type are makeshift or non-durable: 0 makeshift, 1 non-durable,
# 2 semi-durable, 3 durable (the Circular 07 housing scale).
DURABLE_ENOUGH_HOUSE_TYPE = 2


@dataclass(frozen=True)
class PovertyStandard:
    """A national poverty standard: income lines, indicators and the classification rule."""

    decree: str
    rural_line_vnd_per_person_month: float
    urban_line_vnd_per_person_month: float
    indicators: tuple[str, ...]
    poor_min_deprivation_count: int
    average_living_line_multiple: float
    floor_area_min_m2_per_person: float
    dependents_max_share: float

    def income_line(self, urban: np.ndarray) -> np.ndarray:
        """The income line (VND per person per month) that applies to each household."""
        return np.where(urban, self.urban_line_vnd_per_person_month, self.rural_line_vnd_per_person_month)

    def deprivations(self, state: HouseholdState) -> np.ndarray:
        """A (households x indicators) boolean matrix of deprivations under this standard.

        Column j is `indicator_deprived(self.indicators[j], ...)`, scored in one compiled
        pass over the households rather than a dozen numpy expressions.
        """
        rules, lacks_columns = scoring_rules(self.indicators)
        deprived = np.empty((state.count, len(self.indicators)), dtype=bool)
        score_deprivations(
            rules,
            lacks_columns,
            state.lacks,
            state.n_under6,
            state.n_6_15,
            state.n_16_59,
            state.n_60plus,
            state.jobless,
            state.house_type,
            state.floor_area_m2,
            self.dependents_max_share,
            self.floor_area_min_m2_per_person,
            DURABLE_ENOUGH_HOUSE_TYPE,
            deprived,
        )
        return deprived

    def applicability(self, state: HouseholdState) -> np.ndarray:
        """A (households x indicators) boolean matrix: which indicators can apply to whom."""
        return np.column_stack(
            [np.broadcast_to(indicator_applicable(name, state), (state.count,)) for name in self.indicators]
        )

    def applicable_cells(
        self, state: HouseholdState, households: np.ndarray, indicators: np.ndarray
    ) -> np.ndarray:
        """`applicability(state)[households, indicators]`, computed for those cells only."""
        rules = [MEMBERS_NEEDED.get(name, ()) for name in self.indicators]
        kinds = list(dict.fromkeys(rules))  # distinct rules; () applies everywhere
        present = np.ones((len(kinds), households.size), bool)
        for k, needed in enumerate(kinds):
            if needed:
                present[k] = sum(getattr(state, members)[households] for members in needed) > 0
        kind_of_indicator = np.array([kinds.index(rule) for rule in rules])
        return present[kind_of_indicator[indicators], np.arange(households.size)]

    def classify(
        self,
        income_vnd_per_person_month: np.ndarray,
        deprivation_count: np.ndarray,
        urban: np.ndarray,
    ) -> np.ndarray:
        """Each household's `Status` code (int8) from measured income and deprivation count.

        At or below its income line a household is poor if it has at least
        `poor_min_deprivation_count` deprivations, else near-poor; above the line it is of
        average living standard up to `average_living_line_multiple` times the line, and
        above average beyond.
        """
        if not len(income_vnd_per_person_month) == len(deprivation_count) == len(urban):
            raise ValueError("incomes, deprivation counts and urban flags differ in length")
        status = np.empty(len(urban), dtype=np.int8)
        classify_households(
            income_vnd_per_person_month,
            deprivation_count,
            urban,
            self.rural_line_vnd_per_person_month,
            self.urban_line_vnd_per_person_month,
            self.average_living_line_multiple,
            self.poor_min_deprivation_count,
            int(Status.POOR),
            int(Status.NEAR_POOR),
            int(Status.AVERAGE),
            int(Status.ABOVE_AVERAGE),
            status,
        )
        return status


# The members an indicator needs in the household to apply at all (e.g. nutrition is
# scored only with a child); indicators not listed apply to every household.
MEMBERS_NEEDED = {
    "nutrition": ("n_under6", "n_6_15"),
    "employment": ("n_16_59",),
    "adult_education": ("n_16_59",),
    "child_school_attendance": ("n_6_15",),
}


def indicator_applicable(name: str, state: HouseholdState) -> np.ndarray | bool:
    """Whether the named indicator can apply to each household at all (e.g. needs a child)."""
    needed = MEMBERS_NEEDED.get(name)
    if needed is None:
        return True
    return sum(getattr(state, members) for members in needed) > 0


# The indicators `score_deprivations` scores by a rule of their own; the rest read their
# condition's column of `HouseholdState.lacks` as it is.
SCORING_RULES = {
    "nutrition": RULE_LACKS_WITH_CHILD,
    "adult_education": RULE_LACKS_WITH_ADULT,
    "child_school_attendance": RULE_LACKS_WITH_PUPIL,
    "dependents": RULE_DEPENDENTS,
    "employment": RULE_EMPLOYMENT,
    "housing_quality": RULE_HOUSING,
    "floor_area": RULE_FLOOR_AREA,
}


@functools.cache
def scoring_rules(indicators: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each indicator's rule for `score_deprivations`, and its column of `lacks` (-1: none)."""
    rules = [SCORING_RULES.get(name, RULE_LACKS) for name in indicators]
    reads_lacks = (RULE_LACKS, RULE_LACKS_WITH_CHILD, RULE_LACKS_WITH_ADULT, RULE_LACKS_WITH_PUPIL)
    columns = [
        HouseholdState.condition(name) if rule in reads_lacks else -1
        for name, rule in zip(indicators, rules, strict=True)
    ]
    return np.array(rules, dtype=np.int64), np.array(columns, dtype=np.int64)


def indicator_deprived(name: str, state: HouseholdState, standard: PovertyStandard) -> np.ndarray:
    """Whether each household is deprived in the named indicator, from its current state."""
    lacks = state.lacks
    match name:
        case "dependents":
            dependents = state.n_under16 + state.n_60plus
            return dependents > standard.dependents_max_share * state.size
        case "nutrition":
            return lacks[:, state.condition("nutrition")] & (state.n_under16 > 0)
        case "employment":
            return state.jobless > 0
        case "adult_education":
            return lacks[:, state.condition("adult_education")] & (state.n_16_59 > 0)
        case "child_school_attendance":
            return lacks[:, state.condition("child_school_attendance")] & (state.n_6_15 > 0)
        case "housing_quality":
            return state.house_type < DURABLE_ENOUGH_HOUSE_TYPE
        case "floor_area":
            return state.floor_area_m2 < standard.floor_area_min_m2_per_person * state.size
        case _:
            return lacks[:, state.condition(name)].copy()


def decree_07(scenario: Scenario) -> PovertyStandard:
    """Decree 07/2021/ND-CP with the scenario's values for its parameters."""
    s = scenario.standards
    return _standard(
        scenario,
        "Decree 07/2021/ND-CP",
        DECREE_07_INDICATORS,
        s.decree_07_rural_line_vnd_per_person_month,
        s.decree_07_urban_line_vnd_per_person_month,
    )


def decree_351(scenario: Scenario) -> PovertyStandard:
    """Decree 351/2025/ND-CP with the scenario's values for its parameters."""
    s = scenario.standards
    return _standard(
        scenario,
        "Decree 351/2025/ND-CP",
        DECREE_351_INDICATORS,
        s.decree_351_rural_line_vnd_per_person_month,
        s.decree_351_urban_line_vnd_per_person_month,
    )


def _standard(
    scenario: Scenario, decree: str, indicators: tuple[str, ...], rural_line: float, urban_line: float
) -> PovertyStandard:
    s = scenario.standards
    return PovertyStandard(
        decree=decree,
        rural_line_vnd_per_person_month=rural_line,
        urban_line_vnd_per_person_month=urban_line,
        indicators=indicators,
        poor_min_deprivation_count=s.poor_min_deprivation_count,
        average_living_line_multiple=s.average_living_line_multiple,
        floor_area_min_m2_per_person=s.floor_area_min_m2_per_person,
        dependents_max_share=s.dependents_max_share,
    )


def standard_in_force(review_date: dt.date, scenario: Scenario) -> PovertyStandard:
    """The standard a review held on `review_date` classifies households under."""
    if review_date >= scenario.standards.decree_351_first_review_date:
        return decree_351(scenario)
    return decree_07(scenario)
