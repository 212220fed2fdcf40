"""Assessment facts: ВПР, ОГЭ, ЕГЭ, ГВЭ, РКР, РДР, ДР-10, НИКО, international studies,
olympiads and contests."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shkala_contracts.base import Fact
from shkala_contracts.vocabulary import (
    EGE_MATHS_BASE,
    AcademicYear,
    Grade,
    Mark,
    OlympiadStage,
    OlympiadStatus,
    OrgId,
    Procedure,
    Pseudonym,
)

TOPIC = "shkala.facts.assessment.v1"


class TaskScore(BaseModel):
    """Points for one task of a ВПР protocol (задание N)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str = Field(min_length=1, max_length=16, description="Номер задания, e.g. 1, 2, 9.1")
    points: float = Field(ge=0)
    max_points: float = Field(gt=0)

    @model_validator(mode="after")
    def _points_within_max(self) -> TaskScore:
        if self.points > self.max_points:
            raise ValueError(f"task {self.task}: points {self.points} above max {self.max_points}")
        return self


class AssessmentResultRecorded(Fact):
    """One student's result in one procedure and subject (результат оценочной процедуры).

    Natural key: procedure, subject, academic year, grade, student and olympiad stage —
    a resubmission with the same key corrects the earlier result.
    """

    event_type: ClassVar[str] = "ru.shkala.fact.assessment_result.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = (
        "procedure",
        "subject",
        "academic_year",
        "grade",
        "student",
        "olympiad_stage",
    )

    school_id: OrgId
    academic_year: AcademicYear
    procedure: Procedure
    subject: str = Field(min_length=1, max_length=64, description="Предмет, e.g. математика")
    grade: Grade
    class_label: str | None = Field(default=None, max_length=16, description="Класс, e.g. 5А")
    student: Pseudonym
    held_on: dt.date | None = Field(default=None, description="Дата проведения")
    mark: Mark | None = None
    primary_score: float | None = Field(default=None, ge=0, description="Первичный балл")
    test_score: int | None = Field(default=None, ge=0, le=100, description="Тестовый балл ЕГЭ")
    tasks: tuple[TaskScore, ...] = Field(default=(), description="Баллы по заданиям (ВПР)")
    journal_mark: Mark | None = Field(default=None, description="Отметка по журналу")
    medalist: bool | None = Field(default=None, description="Претендент на медаль")
    public_observer: bool | None = Field(default=None, description="Общественное наблюдение")
    olympiad_stage: OlympiadStage | None = None
    olympiad_status: OlympiadStatus | None = None
    teacher: Pseudonym | None = Field(
        default=None, description="Teacher of the class; used only with the teacher's consent"
    )

    @model_validator(mode="after")
    def _procedure_shape(self) -> AssessmentResultRecorded:
        olympiad = self.procedure in (Procedure.OLYMPIAD, Procedure.CONTEST)
        if olympiad and self.olympiad_status is None:
            raise ValueError("olympiad_status is required for olympiads and contests")
        if self.procedure is Procedure.OLYMPIAD and self.olympiad_stage is None:
            raise ValueError("olympiad_stage is required for ВсОШ")
        if not olympiad and (self.olympiad_stage or self.olympiad_status):
            raise ValueError("olympiad_stage/status only apply to olympiads and contests")
        if self.procedure is Procedure.EGE and self.subject == EGE_MATHS_BASE:
            # the base level is marked 2-5 and has no test score (ЕГЭ базовая математика)
            if self.mark is None or self.test_score is not None:
                raise ValueError(f"ЕГЭ «{EGE_MATHS_BASE}» takes a mark (2-5) and no test_score")
        elif self.procedure is Procedure.EGE and self.test_score is None:
            raise ValueError("ЕГЭ needs test_score (0-100)")
        if self.procedure in (Procedure.VPR, Procedure.OGE, Procedure.GVE) and self.mark is None:
            raise ValueError(f"{self.procedure.value} needs a mark (2-5)")
        return self


class TeacherResultsConsentRecorded(Fact):
    """A teacher's own wish that students' results may be used to assess them (seed 001)."""

    event_type: ClassVar[str] = "ru.shkala.fact.teacher_results_consent.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("teacher", "academic_year")

    school_id: OrgId
    academic_year: AcademicYear
    teacher: Pseudonym
    granted: bool
