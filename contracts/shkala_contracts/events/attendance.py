"""Attendance facts: missed lessons per student per day or period, with reason."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import Field, model_validator

from shkala_contracts.base import Fact
from shkala_contracts.vocabulary import AbsenceReason, AcademicYear, Grade, OrgId, Pseudonym

TOPIC = "shkala.facts.attendance.v1"


class LessonsMissed(Fact):
    """Lessons a student missed in a period (пропуски уроков), with the reason.

    Natural key: student, period start and end, reason.
    """

    event_type: ClassVar[str] = "ru.shkala.fact.lessons_missed.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("student", "period_start", "period_end", "reason")

    school_id: OrgId
    academic_year: AcademicYear
    student: Pseudonym
    grade: Grade
    class_label: str | None = Field(default=None, max_length=16)
    period_start: dt.date
    period_end: dt.date
    lessons_missed: int = Field(ge=0, le=2000)
    lessons_total: int | None = Field(default=None, ge=0, le=4000)
    reason: AbsenceReason

    @model_validator(mode="after")
    def _period_order(self) -> LessonsMissed:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        if self.lessons_total is not None and self.lessons_missed > self.lessons_total:
            raise ValueError("lessons_missed exceeds lessons_total")
        return self
