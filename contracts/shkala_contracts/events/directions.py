"""School reports of the directions the results alone do not show: career guidance
(самоопределение и профессиональная ориентация) and upbringing (воспитание и социализация).

One report per school and academic year each; a later report for the same year corrects it.
Published on the school-context topic: like the context, a handful of rows per school.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import Field, model_validator

from shkala_contracts.base import Fact
from shkala_contracts.vocabulary import AcademicYear, OrgId

TOPIC = "shkala.facts.school_context.v1"


class CareerGuidanceReported(Fact):
    """Profile classes, career diagnostics and where grade-9 graduates went (профильное
    обучение, профдиагностика, поступление выпускников 9 кл. в СПО), one school year."""

    event_type: ClassVar[str] = "ru.shkala.fact.career_guidance.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("school_id", "academic_year")

    school_id: OrgId
    academic_year: AcademicYear
    as_of: dt.date
    profile_classes: int = Field(ge=0, le=100, description="Профильных классов (10–11 кл.)")
    students_10_11: int = Field(ge=0, le=20000, description="Обучающихся 10–11 кл.")
    students_in_profile_classes: int = Field(
        ge=0, le=20000, description="Из них в профильных классах (или изучают предметы углублённо)"
    )
    students_6_11: int = Field(ge=0, le=20000, description="Обучающихся 6–11 кл.")
    career_diagnostics_covered: int = Field(
        ge=0, le=20000, description="Из них прошли профориентационную диагностику"
    )
    grade9_to_college: int | None = Field(
        default=None, ge=0, le=20000, description="Выпускников 9 кл., поступивших в СПО"
    )
    grade9_to_college_profile_gia: int | None = Field(
        default=None,
        ge=0,
        le=20000,
        description="Из них сдавали ГИА по предметам, близким к профилю выбранной ПОО",
    )

    @model_validator(mode="after")
    def _parts_within_wholes(self) -> CareerGuidanceReported:
        if self.students_in_profile_classes > self.students_10_11:
            raise ValueError("students_in_profile_classes exceeds students_10_11")
        if self.career_diagnostics_covered > self.students_6_11:
            raise ValueError("career_diagnostics_covered exceeds students_6_11")
        if (self.grade9_to_college_profile_gia or 0) > (self.grade9_to_college or 0):
            raise ValueError("grade9_to_college_profile_gia exceeds grade9_to_college")
        if self.students_in_profile_classes and not self.profile_classes:
            raise ValueError("students_in_profile_classes without profile_classes")
        return self


class UpbringingReported(Fact):
    """The upbringing programme, additional education and the «Точка роста» / «Кванториум»
    centres of a school for one school year (рабочая программа воспитания, дополнительное
    образование, центры «Точка роста», «Кванториум»)."""

    event_type: ClassVar[str] = "ru.shkala.fact.upbringing.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("school_id", "academic_year")

    school_id: OrgId
    academic_year: AcademicYear
    as_of: dt.date
    students_total: int = Field(ge=0, le=20000, description="Всего обучающихся на дату")
    upbringing_programme: bool = Field(description="Рабочая программа воспитания реализуется")
    students_in_upbringing_programme: int = Field(
        ge=0, le=20000, description="Обучающихся, охваченных мероприятиями программы воспитания"
    )
    students_additional_education: int = Field(
        ge=0, le=20000, description="Обучающихся в программах дополнительного образования"
    )
    students_kvantorium: int = Field(
        default=0, ge=0, le=20000, description="Из них через «Кванториум»"
    )
    tochka_rosta: bool = Field(default=False, description="Есть центр «Точка роста»")
    tochka_rosta_programmes: bool = Field(
        default=False,
        description="База «Точка роста» используется для основных и дополнительных программ",
    )

    @model_validator(mode="after")
    def _parts_within_wholes(self) -> UpbringingReported:
        for name in ("students_in_upbringing_programme", "students_additional_education"):
            if getattr(self, name) > self.students_total:
                raise ValueError(f"{name} exceeds students_total")
        if self.students_kvantorium > self.students_additional_education:
            raise ValueError("students_kvantorium exceeds students_additional_education")
        if self.students_in_upbringing_programme and not self.upbringing_programme:
            raise ValueError("students_in_upbringing_programme without upbringing_programme")
        if self.tochka_rosta_programmes and not self.tochka_rosta:
            raise ValueError("tochka_rosta_programmes without tochka_rosta")
        return self
