"""Events of the plans service's aggregates (roadmaps, recommendations, measures,
effectiveness evaluations). Owned by services/plans.

Every event's ``originator_id`` is its aggregate id (``roadmap:…``, ``recommendation:…``,
``measure:…``, ``evaluation:…``) and ``originator_version`` its position in that aggregate's
stream, so a subscriber can drop a redelivered event by (originator_id, originator_version).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.vocabulary import AcademicYear, Direction, OrgId

TOPIC = "shkala.plans.v1"


class DeadlineKind(StrEnum):
    """The shapes a roadmap deadline takes in the seeds (domain.md, "Roadmaps")."""

    DATE = "date"  # "до 12.07.2021"
    MONTH = "month"  # "Апрель 2021"
    MONTHS = "months"  # "Январь, июль 2021", "Январь-февраль 2021"
    YEARLY = "yearly"  # "до 01.09 ежегодно", "01.01, 01.07", "ежегодно", "август"
    MONTHLY = "monthly"  # "ежемесячно"
    QUARTERLY = "quarterly"  # "ежеквартально"
    SCHOOL_YEAR = "school_year"  # "в течение учебного года", "в течение года"
    CONSTANTLY = "constantly"  # "постоянно"
    FEDERAL_SCHEDULE = "federal_schedule"  # "в соответствии с графиком проведения …"
    PER_PLAN = "per_plan"  # "согласно плану", "в сроки, установленные ОО"
    PERIOD = "period"  # "2021-2025 гг.", "в течение всего периода реализации Программы"
    UNPARSED = "unparsed"  # kept as text, flagged for review


class Deadline(BaseModel):
    """A deadline: the original text plus its structure. Components combine
    ("до 12.04.2021 до 01.10 ежегодно" = a date and a yearly date)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(max_length=2000, description="The deadline exactly as written")
    kind: DeadlineKind
    dates: tuple[dt.date, ...] = Field(default=(), description="One-off dates (due by)")
    months: tuple[str, ...] = Field(default=(), description="Calendar months, YYYY-MM")
    yearly_dates: tuple[str, ...] = Field(default=(), description="Every year on MM-DD")
    yearly_months: tuple[int, ...] = Field(default=(), description="Every year in month 1-12")
    school_year: str | None = Field(default=None, description="A named school year, 2020/21")
    from_year: int | None = None
    to_year: int | None = None
    needs_review: bool = Field(default=False, description="Not understood: a person must look")
    unrecognised: str | None = Field(
        default=None, description="Words left over after parsing (e.g. an audience qualifier)"
    )


class RowStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Better(StrEnum):
    """Which way an indicator improves."""

    HIGHER = "higher"
    LOWER = "lower"


class LinkedIndicator(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    indicator_id: str = Field(min_length=1, max_length=80)
    better: Better


# --------------------------------------------------------------------------- roadmap


class RoadmapCreated(DomainEvent):
    """A municipality's or a school's roadmap (дорожная карта) was started."""

    event_type: ClassVar[str] = "ru.shkala.plans.roadmap_created.v1"
    topic: ClassVar[str] = TOPIC

    title: str = Field(min_length=1, max_length=2000)
    from_year: int | None = None
    to_year: int | None = None
    starts_on: dt.date
    template_id: str | None = None


class RoadmapSectionAdded(DomainEvent):
    """A section (a direction or a programme task) with its coordinator and executors."""

    event_type: ClassVar[str] = "ru.shkala.plans.roadmap_section_added.v1"
    topic: ClassVar[str] = TOPIC

    section_id: str
    title: str = Field(max_length=4000)
    direction: Direction | None = None
    coordinator: str | None = None
    executors: tuple[str, ...] = ()


class RoadmapRowAdded(DomainEvent):
    event_type: ClassVar[str] = "ru.shkala.plans.roadmap_row_added.v1"
    topic: ClassVar[str] = TOPIC

    row_id: str
    section_id: str | None = None
    number: str | None = None
    activity: str = Field(max_length=20000)
    deadline: Deadline
    responsible: tuple[str, ...] = ()
    expected_result: str | None = None
    indicator_ids: tuple[str, ...] = ()
    target_schools: tuple[OrgId, ...] = ()


class RoadmapRowRevised(DomainEvent):
    """Fields of a row changed; a field left null did not change."""

    event_type: ClassVar[str] = "ru.shkala.plans.roadmap_row_revised.v1"
    topic: ClassVar[str] = TOPIC

    row_id: str
    activity: str | None = None
    deadline: Deadline | None = None
    responsible: tuple[str, ...] | None = None
    expected_result: str | None = None
    indicator_ids: tuple[str, ...] | None = None
    target_schools: tuple[OrgId, ...] | None = None


class RoadmapRowStatusChanged(DomainEvent):
    """A row's status changed, with the executor's report and evidence (links, documents)."""

    event_type: ClassVar[str] = "ru.shkala.plans.roadmap_row_status_changed.v1"
    topic: ClassVar[str] = TOPIC

    row_id: str
    status: RowStatus
    report: str | None = None
    evidence: tuple[str, ...] = ()
    occurrence: dt.date | None = Field(
        default=None, description="For a recurring row: the due date this report covers"
    )


class RoadmapRowDue(DomainEvent):
    """A row's deadline is near (the scheduler's lead time)."""

    event_type: ClassVar[str] = "ru.shkala.plans.roadmap_row_due.v1"
    topic: ClassVar[str] = TOPIC

    row_id: str
    number: str | None = None
    due_on: dt.date


class RoadmapRowOverdue(DomainEvent):
    """A row's deadline passed and the row was not done for it."""

    event_type: ClassVar[str] = "ru.shkala.plans.roadmap_row_overdue.v1"
    topic: ClassVar[str] = TOPIC

    row_id: str
    number: str | None = None
    due_on: dt.date


# --------------------------------------------------------------------------- recommendation


class RecommendationIssued(DomainEvent):
    """A targeted recommendation (адресная рекомендация) to a school, answering an
    indicator gap found by the analysis."""

    event_type: ClassVar[str] = "ru.shkala.plans.recommendation_issued.v1"
    topic: ClassVar[str] = TOPIC

    direction: Direction
    period: AcademicYear
    indicator_id: str | None = None
    indicator_value: float | None = None
    target_value: float | None = None
    text: str = Field(min_length=1, max_length=20000)


# --------------------------------------------------------------------------- measure


class MeasureTaken(DomainEvent):
    """A measure / management decision (мера, управленческое решение)."""

    event_type: ClassVar[str] = "ru.shkala.plans.measure_taken.v1"
    topic: ClassVar[str] = TOPIC

    title: str = Field(min_length=1, max_length=4000)
    direction: Direction
    recommendation_ids: tuple[str, ...] = ()
    roadmap_row: str | None = Field(default=None, description="roadmap id/row id it implements")
    target_schools: tuple[OrgId, ...] = Field(min_length=1)
    indicators: tuple[LinkedIndicator, ...] = Field(min_length=1)
    baseline_period: AcademicYear
    evaluation_period: AcademicYear


# --------------------------------------------------------------------------- effectiveness


class Verdict(StrEnum):
    EFFECTIVE = "effective"
    PARTIALLY_EFFECTIVE = "partially_effective"
    NOT_EFFECTIVE = "not_effective"


class IndicatorChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    school_id: OrgId
    indicator_id: str
    better: Better
    baseline: float
    evaluation: float
    change: float
    improved: bool
    worsened: bool


class EffectivenessEvaluated(DomainEvent):
    """A measure's effectiveness: its indicators for its target schools, baseline vs
    evaluation period, each in its better direction, plus schools leaving ШНОР/ШНСУ."""

    event_type: ClassVar[str] = "ru.shkala.plans.effectiveness_evaluated.v1"
    topic: ClassVar[str] = TOPIC

    measure_id: str
    baseline_period: AcademicYear
    evaluation_period: AcademicYear
    verdict: Verdict
    improved: int
    worsened: int
    unchanged: int
    changes: tuple[IndicatorChange, ...]
    listed_at_baseline: tuple[OrgId, ...] = Field(
        default=(), description="Target schools on ШНОР/ШНСУ at baseline"
    )
    left_lists: tuple[OrgId, ...] = Field(
        default=(), description="Target schools that left ШНОР/ШНСУ by the evaluation period"
    )
    trigger: str = Field(description="indicator_events or request")


# --------------------------------------------------------------------------- proposals
# Proposals of targeted recommendations (предложения адресных рекомендаций) are derived on
# read from the indicator values; only the decision on one is stored (docs/adr/0013), as the
# stream ``proposal:<school>~<period>~<hash>`` with one event.


class CitedValue(BaseModel):
    """A value that made Shkala propose a measure, as it stood when the decision was taken."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(description="indicator, vpr_task or risk_list")
    indicator_id: str | None = None
    label: str = Field(max_length=2000, description="What the value is, in Russian")
    period: AcademicYear
    value: float | None = None
    threshold: float | None = None
    risk_if: str | None = Field(default=None, description="above or below the threshold")
    numerator: float | None = None
    denominator: float | None = None
    definition_version: str | None = None


class ProposalDecided(DomainEvent):
    """What both decisions on a proposal record: the proposal as it was generated."""

    period: AcademicYear
    direction: Direction
    level: str = Field(description="school or municipality: who carries the measure out")
    problem_kind: str = Field(description="indicator, vpr_task or risk_list")
    problem_key: str = Field(max_length=400)
    measure_key: str = Field(max_length=120)
    measure_source: str = Field(max_length=2000, description="Seed file and item of the measure")
    risk_groups: tuple[str, ...] = ()
    indicator_id: str | None = None
    proposed_text: str = Field(min_length=1, max_length=20000)
    cited: tuple[CitedValue, ...] = ()
    actor_role: str
    actor_unit: str


class ProposalAccepted(ProposalDecided):
    """A coordinator accepted the proposal (its text and deadline possibly edited): it became
    the recommendation ``recommendation_id``."""

    event_type: ClassVar[str] = "ru.shkala.plans.proposal_accepted.v1"
    topic: ClassVar[str] = TOPIC

    text: str = Field(min_length=1, max_length=20000, description="The text as accepted")
    deadline: Deadline | None = None
    recommendation_id: str


class ProposalDismissed(ProposalDecided):
    """A coordinator dismissed the proposal, saying why."""

    event_type: ClassVar[str] = "ru.shkala.plans.proposal_dismissed.v1"
    topic: ClassVar[str] = TOPIC

    reason: str = Field(min_length=1, max_length=4000)
