"""Events the indicators service derives from facts."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.vocabulary import AcademicYear, Direction

TOPIC = "shkala.indicators.v1"


class Scope(StrEnum):
    SCHOOL = "school"
    MUNICIPALITY = "municipality"
    REGION = "region"


class ThresholdCrossing(StrEnum):
    INTO_RISK = "into_risk"
    OUT_OF_RISK = "out_of_risk"


class IndicatorValueChanged(DomainEvent):
    """An indicator's value for a school (or roll-up) and period changed."""

    event_type: ClassVar[str] = "ru.shkala.indicators.value_changed.v1"
    topic: ClassVar[str] = TOPIC

    indicator_id: str = Field(min_length=1, max_length=80)
    direction: Direction
    scope: Scope
    period: AcademicYear
    definition_version: str
    old_value: float | None
    new_value: float | None
    numerator: float
    denominator: float
    threshold_crossed: ThresholdCrossing | None = None


class RiskList(StrEnum):
    LOW_RESULTS = "ШНОР"
    UNFAVOURABLE_CONDITIONS = "ШНСУ"
    NON_OBJECTIVE = "признаки необъективности"


class MembershipChange(StrEnum):
    ENTERED = "entered"
    LEFT = "left"


class ListMembershipChanged(DomainEvent):
    """A school entered or left a list (ШНОР, ШНСУ, признаки необъективности) for a period."""

    event_type: ClassVar[str] = "ru.shkala.indicators.list_membership_changed.v1"
    topic: ClassVar[str] = TOPIC

    risk_list: RiskList
    period: AcademicYear
    change: MembershipChange
    definition_version: str
    reasons: tuple[str, ...] = Field(default=(), description="Indicator ids that decided it")


class ObjectivityFlagRaised(DomainEvent):
    """A school's results show a sign of non-objectivity (признак необъективности)."""

    event_type: ClassVar[str] = "ru.shkala.indicators.objectivity_flag_raised.v1"
    topic: ClassVar[str] = TOPIC

    indicator_id: str
    period: AcademicYear
    procedure: str
    subject: str | None = None
    value: float
    threshold: float
    definition_version: str
