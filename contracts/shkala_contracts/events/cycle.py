"""Events of the management cycle as people run it: monitoring periods with their bottom-up
approval, the municipality's coordinators and executors, and the lifecycles of
recommendations and measures. Owned by services/plans; published on the plans topic.

Aggregate ids: ``period:<school>:<YYYY-YY>`` (one school's monitoring period, a school year),
``roster:<municipality>`` (who owns which direction), and the ``recommendation:…`` /
``measure:…`` ids of :mod:`shkala_contracts.events.plans`.

Who acted is recorded by role and org unit (``actor_role``, ``actor_unit``), never by a
person's name.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.plans import TOPIC
from shkala_contracts.vocabulary import AcademicYear, Direction


class PeriodState(StrEnum):
    """Where a school's monitoring period (период мониторинга) stands."""

    OPEN = "open"  # the school collects and uploads its data
    SUBMITTED = "submitted"  # the school says its data is complete (представлен)
    RETURNED = "returned"  # the municipality sent it back with a reason (возвращён)
    APPROVED = "approved"  # the municipality checked and approved it (утверждён)
    LOCKED = "locked"  # the region consolidated it: no more changes (закрыт)


class _PeriodEvent(DomainEvent):
    topic: ClassVar[str] = TOPIC

    period: AcademicYear
    actor_role: str = Field(description="Role of the token that acted: school, municipality…")
    actor_unit: str = Field(description="Org unit of the actor (school, municipality or region)")


class MonitoringPeriodOpened(_PeriodEvent):
    """A school's monitoring period began (opened at its first submission)."""

    event_type: ClassVar[str] = "ru.shkala.plans.monitoring_period_opened.v1"


class MonitoringPeriodSubmitted(_PeriodEvent):
    """The school submitted its period's data for checking."""

    event_type: ClassVar[str] = "ru.shkala.plans.monitoring_period_submitted.v1"

    note: str | None = Field(default=None, max_length=4000)
    resubmission: bool = Field(default=False, description="Submitted again after a return")


class MonitoringPeriodReturned(_PeriodEvent):
    """The municipality returned the period to the school for correction, saying why."""

    event_type: ClassVar[str] = "ru.shkala.plans.monitoring_period_returned.v1"

    reason: str = Field(min_length=1, max_length=4000)


class MonitoringPeriodApproved(_PeriodEvent):
    """The municipality checked and approved the school's period."""

    event_type: ClassVar[str] = "ru.shkala.plans.monitoring_period_approved.v1"

    note: str | None = Field(default=None, max_length=4000)


class MonitoringPeriodLocked(_PeriodEvent):
    """The region locked (closed) the period: uploads that would change it are refused.
    This is "monitoring period closed" for subscribers."""

    event_type: ClassVar[str] = "ru.shkala.plans.monitoring_period_locked.v1"


class MonitoringPeriodReopened(_PeriodEvent):
    """The region reopened a locked period, with the reason; it is open again."""

    event_type: ClassVar[str] = "ru.shkala.plans.monitoring_period_reopened.v1"

    reason: str = Field(min_length=1, max_length=4000)


# --------------------------------------------------------------------------- roster


class Duty(StrEnum):
    """A person's part in a direction (seed 002's order)."""

    COORDINATOR = "coordinator"  # координатор направления
    EXECUTOR = "executor"  # ответственный исполнитель


class ResponsibleAssigned(DomainEvent):
    """A municipal official was made coordinator or executor of some directions.
    ``person_id`` is the official's account id (the ``sub`` of their token), not a name."""

    event_type: ClassVar[str] = "ru.shkala.plans.responsible_assigned.v1"
    topic: ClassVar[str] = TOPIC

    person_id: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.@\-]+$")
    duty: Duty
    directions: tuple[Direction, ...] = Field(min_length=1)
    position: str | None = Field(
        default=None, max_length=400, description="Должность, e.g. главный специалист"
    )


class ResponsibleRemoved(DomainEvent):
    event_type: ClassVar[str] = "ru.shkala.plans.responsible_removed.v1"
    topic: ClassVar[str] = TOPIC

    person_id: str = Field(min_length=1, max_length=120)


# --------------------------------------------------------------------------- lifecycles


class RecommendationStatus(StrEnum):
    ISSUED = "issued"  # выдана
    ACCEPTED = "accepted"  # принята к исполнению
    IN_PROGRESS = "in_progress"  # выполняется
    DONE = "done"  # выполнена
    WITHDRAWN = "withdrawn"  # отозвана


class RecommendationStatusChanged(DomainEvent):
    """A recommendation moved on in its lifecycle, with the report that says how."""

    event_type: ClassVar[str] = "ru.shkala.plans.recommendation_status_changed.v1"
    topic: ClassVar[str] = TOPIC

    status: RecommendationStatus
    report: str | None = Field(default=None, max_length=20000)
    actor_role: str
    actor_unit: str


class MeasureStatus(StrEnum):
    PLANNED = "planned"  # запланирована
    RUNNING = "running"  # реализуется
    FINISHED = "finished"  # завершена
    EVALUATED = "evaluated"  # эффективность оценена


class MeasureStatusChanged(DomainEvent):
    """A measure moved on in its lifecycle (evaluated follows its effectiveness evaluation)."""

    event_type: ClassVar[str] = "ru.shkala.plans.measure_status_changed.v1"
    topic: ClassVar[str] = TOPIC

    status: MeasureStatus
    report: str | None = Field(default=None, max_length=20000)
    actor_role: str
    actor_unit: str


__all__ = [
    "Duty",
    "MeasureStatus",
    "MeasureStatusChanged",
    "MonitoringPeriodApproved",
    "MonitoringPeriodLocked",
    "MonitoringPeriodOpened",
    "MonitoringPeriodReopened",
    "MonitoringPeriodReturned",
    "MonitoringPeriodSubmitted",
    "PeriodState",
    "RecommendationStatus",
    "RecommendationStatusChanged",
    "ResponsibleAssigned",
    "ResponsibleRemoved",
]
