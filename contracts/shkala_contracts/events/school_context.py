"""School context: what the social-wellbeing index (ШНСУ) needs beyond results."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import Field, model_validator

from shkala_contracts.base import Fact
from shkala_contracts.vocabulary import (
    AcademicYear,
    AccreditationStatus,
    Grade,
    OrgId,
    Procedure,
)

TOPIC = "shkala.facts.school_context.v1"


class SchoolContextReported(Fact):
    """A school's social and material context for one academic year (контекстные данные ОО).

    Natural key: school and academic year; a later report for the same year corrects it.
    """

    event_type: ClassVar[str] = "ru.shkala.fact.school_context.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("school_id", "academic_year")

    school_id: OrgId
    academic_year: AcademicYear
    as_of: dt.date
    students_total: int = Field(ge=0, le=20000, description="Всего обучающихся")
    on_juvenile_register: int = Field(ge=0, description="На учёте в ОДН/КДН")
    migrant_or_low_russian: int = Field(
        ge=0, description="Из семей мигрантов / слабое владение русским"
    )
    special_needs_confirmed: int = Field(ge=0, description="С подтверждённым ОВЗ (ЗПР, ПМПК)")
    not_attested: int = Field(ge=0, description="Не аттестованы на промежуточной аттестации")
    remote: bool = Field(description="Удалённость, нет транспортной доступности")
    small_school: bool = Field(description="Малокомплектная")
    infrastructure_deficit: bool = Field(description="Дефицит инфраструктуры (интернет, ПК)")
    accreditation: AccreditationStatus = AccreditationStatus.ACTIVE

    @model_validator(mode="after")
    def _counts_within_total(self) -> SchoolContextReported:
        for name in (
            "on_juvenile_register",
            "migrant_or_low_russian",
            "special_needs_confirmed",
            "not_attested",
        ):
            if getattr(self, name) > self.students_total:
                raise ValueError(f"{name} exceeds students_total")
        return self


ROLL_GRADES = tuple(range(1, 12))
"""Parallels whose roll (списочный состав) a context report may carry."""


class SchoolContextReportedV2(SchoolContextReported):
    """v1 plus the denominators seed 002 writes: graduates of grades 9 and 11 («общее
    количество выпускников») and the roll of each parallel («общее количество обучающихся
    в классе»). All optional: a school that does not report them gets no value for the
    indicators that need them (never a silent fallback to test-takers).

    A new type (not an edit of v1): v1's schema forbids extra fields, so a v1 subscriber
    would reject these. Same natural key and stream as v1: a v2 report corrects a v1 one.
    """

    event_type: ClassVar[str] = "ru.shkala.fact.school_context.v2"

    graduates_9: int | None = Field(default=None, ge=0, description="Выпускников 9 кл.")
    graduates_11: int | None = Field(default=None, ge=0, description="Выпускников 11 кл.")
    enrolled_grade_1: int | None = Field(default=None, ge=0, description="Обучающихся в 1 кл.")
    enrolled_grade_2: int | None = Field(default=None, ge=0, description="Обучающихся в 2 кл.")
    enrolled_grade_3: int | None = Field(default=None, ge=0, description="Обучающихся в 3 кл.")
    enrolled_grade_4: int | None = Field(default=None, ge=0, description="Обучающихся в 4 кл.")
    enrolled_grade_5: int | None = Field(default=None, ge=0, description="Обучающихся в 5 кл.")
    enrolled_grade_6: int | None = Field(default=None, ge=0, description="Обучающихся в 6 кл.")
    enrolled_grade_7: int | None = Field(default=None, ge=0, description="Обучающихся в 7 кл.")
    enrolled_grade_8: int | None = Field(default=None, ge=0, description="Обучающихся в 8 кл.")
    enrolled_grade_9: int | None = Field(default=None, ge=0, description="Обучающихся в 9 кл.")
    enrolled_grade_10: int | None = Field(default=None, ge=0, description="Обучающихся в 10 кл.")
    enrolled_grade_11: int | None = Field(default=None, ge=0, description="Обучающихся в 11 кл.")

    @model_validator(mode="after")
    def _rolls_within_total(self) -> SchoolContextReportedV2:
        rolls = [getattr(self, f"enrolled_grade_{g}") for g in ROLL_GRADES]
        if sum(n for n in rolls if n is not None) > self.students_total:
            raise ValueError("the rolls of the parallels add up to more than students_total")
        for g in (9, 11):
            grads, roll = getattr(self, f"graduates_{g}"), getattr(self, f"enrolled_grade_{g}")
            if grads is not None and roll is not None and grads > roll:
                raise ValueError(f"graduates_{g} exceeds enrolled_grade_{g}")
            if grads is not None and grads > self.students_total:
                raise ValueError(f"graduates_{g} exceeds students_total")
        return self


class FederalNonObjectivityListed(Fact):
    """A school on the federal list «с признаками необъективности результатов» (seed 004:
    «список с признаками необъективности при проведении оценочных процедур, формируемый
    Рособрнадзором»), as the region received it for one academic year and procedure.

    Natural key: school, academic year and procedure; a later row for the same key corrects
    it (``listed = false`` takes the school off the list for that year and procedure).
    """

    event_type: ClassVar[str] = "ru.shkala.fact.federal_nonobjectivity_listed.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("school_id", "academic_year", "procedure")

    school_id: OrgId
    academic_year: AcademicYear
    procedure: Procedure = Field(
        default=Procedure.VPR, description="Процедура, по которой выявлены признаки (ВПР…)"
    )
    listed: bool = Field(default=True, description="В перечне (нет — исключена из перечня)")
    subjects: tuple[str, ...] = Field(
        default=(), max_length=32, description="Предметы с признаками необъективности"
    )
    grades: tuple[Grade, ...] = Field(default=(), max_length=11, description="Параллели")
    document: str | None = Field(
        default=None, max_length=200, description="Реквизиты письма / перечня Рособрнадзора"
    )

    @model_validator(mode="after")
    def _subjects_named(self) -> FederalNonObjectivityListed:
        for s in self.subjects:
            if not s.strip() or len(s) > 64:
                raise ValueError(f"subject {s!r:.70}: 1-64 characters")
        return self
