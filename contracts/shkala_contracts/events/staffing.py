"""Staffing and teacher-development facts (кадры, ДПО, наставничество)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, model_validator

from shkala_contracts.base import Fact
from shkala_contracts.vocabulary import AcademicYear, Level, OrgId, Pseudonym, StaffPosition

TOPIC = "shkala.facts.staffing.v1"


class StaffingPositionsReported(Fact):
    """Posts, filled posts and vacancies of one position at a date (штатное расписание)."""

    event_type: ClassVar[str] = "ru.shkala.fact.staffing_positions.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("school_id", "as_of", "position", "subject")

    school_id: OrgId
    academic_year: AcademicYear
    as_of: dt.date
    position: StaffPosition
    subject: str | None = Field(default=None, max_length=64, description="Для учителей: предмет")
    posts: float = Field(ge=0, le=1000, description="Ставок по штату")
    filled: float = Field(ge=0, le=1000, description="Занято ставок")
    vacancies: int = Field(ge=0, le=1000, description="Вакансий")

    @model_validator(mode="after")
    def _filled_within_posts(self) -> StaffingPositionsReported:
        if self.filled > self.posts:
            raise ValueError("filled posts exceed posts")
        return self


class StaffMovementKind(StrEnum):
    HIRED = "принят"
    LEFT = "уволен"


class StaffMovementRecorded(Fact):
    """A hire or a departure (приём, увольнение)."""

    event_type: ClassVar[str] = "ru.shkala.fact.staff_movement.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("teacher", "kind", "on")

    school_id: OrgId
    academic_year: AcademicYear
    teacher: Pseudonym
    position: StaffPosition
    kind: StaffMovementKind
    on: dt.date


class ProfessionalDeficitsDiagnosed(Fact):
    """Diagnostics of a teacher's professional deficits (диагностика профессиональных дефицитов)."""

    event_type: ClassVar[str] = "ru.shkala.fact.professional_deficits.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("teacher", "academic_year")

    school_id: OrgId
    academic_year: AcademicYear
    teacher: Pseudonym
    diagnosed_on: dt.date
    deficits: tuple[str, ...] = Field(default=(), description="Выявленные дефициты (коды/темы)")


class QualificationCourseCompleted(Fact):
    """A completed qualification course (КПК)."""

    event_type: ClassVar[str] = "ru.shkala.fact.qualification_course.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("teacher", "course", "completed_on")

    school_id: OrgId
    academic_year: AcademicYear
    teacher: Pseudonym
    course: str = Field(min_length=1, max_length=200, description="Название или код курса")
    hours: int = Field(ge=1, le=2000)
    completed_on: dt.date
    on_own_request: bool = Field(description="По запросу педагога")
    on_students_at_risk: bool = Field(description="По работе с обучающимися с рисками неуспешности")


class IndividualRouteOpened(Fact):
    """An individual educational route of a teacher (ИОМ)."""

    event_type: ClassVar[str] = "ru.shkala.fact.individual_route.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("teacher", "academic_year")

    school_id: OrgId
    academic_year: AcademicYear
    teacher: Pseudonym
    opened_on: dt.date
    completed: bool = False


class MentoringPairFormed(Fact):
    """A mentoring pair (наставничество); cross-school when the mentor is from another school."""

    event_type: ClassVar[str] = "ru.shkala.fact.mentoring_pair.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("mentor", "mentee", "academic_year")

    school_id: OrgId = Field(description="The mentee's school")
    academic_year: AcademicYear
    mentor: Pseudonym
    mentee: Pseudonym
    mentor_school_id: OrgId | None = Field(
        default=None, description="Школа наставника, если другая"
    )


class PrincipalCompetenceAssessed(Fact):
    """Assessment of a principal's managerial competences (оценка компетенций руководителя)."""

    event_type: ClassVar[str] = "ru.shkala.fact.principal_competence.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("principal", "academic_year")

    school_id: OrgId
    academic_year: AcademicYear
    principal: Pseudonym
    assessed_on: dt.date
    level: Level
    score: float | None = Field(default=None, ge=0, le=100)


class BurnoutDiagnosed(Fact):
    """Burnout diagnostics of a teacher (диагностика эмоционального выгорания)."""

    event_type: ClassVar[str] = "ru.shkala.fact.burnout.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("teacher", "academic_year")

    school_id: OrgId
    academic_year: AcademicYear
    teacher: Pseudonym
    diagnosed_on: dt.date
    level: Level


class ProfessionalContestEntered(Fact):
    """A teacher's participation in a professional contest (профессиональный конкурс)."""

    event_type: ClassVar[str] = "ru.shkala.fact.professional_contest.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("teacher", "contest", "academic_year")

    school_id: OrgId
    academic_year: AcademicYear
    teacher: Pseudonym
    contest: str = Field(min_length=1, max_length=200)
    level: str = Field(min_length=1, max_length=32, description="муниципальный/региональный/...")
    result: str = Field(min_length=1, max_length=32, description="участник/призёр/победитель")
