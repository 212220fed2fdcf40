"""Controlled vocabularies of the domain (see shared/domain.md)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

ACADEMIC_YEAR_RE = re.compile(r"^(\d{4})/(\d{2})$")


def _check_academic_year(value: str) -> str:
    m = ACADEMIC_YEAR_RE.match(value)
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError("academic year must look like 2025/26 (two consecutive years)")
    return value


AcademicYear = Annotated[
    str,
    AfterValidator(_check_academic_year),
    Field(description="Учебный год, e.g. 2025/26", examples=["2025/26"]),
]
Pseudonym = Annotated[
    str,
    Field(
        pattern=r"^p[0-9a-f]{24}$",
        description="Keyed pseudonym (HMAC) of a student or teacher source id; never the id itself",
    ),
]
ORG_ID_PATTERN = r"^[A-Za-z0-9_.\-]+$"
OrgId = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=ORG_ID_PATTERN, description="Org-unit id"),
]
Grade = Annotated[int, Field(ge=1, le=11, description="Класс (параллель), 1-11")]
Mark = Annotated[int, Field(ge=2, le=5, description="Отметка 2-5")]


class Procedure(StrEnum):
    """Assessment procedure (оценочная процедура)."""

    VPR = "ВПР"
    OGE = "ОГЭ"
    EGE = "ЕГЭ"
    GVE = "ГВЭ"
    RKR = "РКР"
    RDR = "РДР"
    DR10 = "ДР-10"
    NIKO = "НИКО"
    INTERNATIONAL = "МСИ"
    OLYMPIAD = "ВсОШ"
    CONTEST = "Конкурс"


EGE_MATHS_PROFILE = "математика профильная"
"""ЕГЭ по математике профильного уровня: a test score 0-100, like every other ЕГЭ subject."""
EGE_MATHS_BASE = "математика базовая"
"""ЕГЭ по математике базового уровня: a mark 2-5 and no test score."""


class OlympiadStage(StrEnum):
    SCHOOL = "школьный"
    MUNICIPAL = "муниципальный"
    REGIONAL = "региональный"
    FINAL = "заключительный"


class OlympiadStatus(StrEnum):
    PARTICIPANT = "участник"
    PRIZE_WINNER = "призёр"
    WINNER = "победитель"


class AbsenceReason(StrEnum):
    VALID = "уважительная"
    UNEXCUSED = "неуважительная"


class Direction(StrEnum):
    """The nine directions of the federal methodology (направления, ФИОКО)."""

    ASSESSMENT = "assessment"  # оценка качества подготовки обучающихся
    LOW_RESULTS = "low_results"  # работа со ШНОР / ШНСУ
    TALENTS = "talents"  # выявление и поддержка способностей и талантов
    CAREER = "career"  # самоопределение и профессиональная ориентация
    OBJECTIVITY = "objectivity"  # объективность процедур оценки
    PRINCIPALS = "principals"  # эффективность руководителей
    TEACHER_DEVELOPMENT = "teacher_development"  # ДПО педагогических работников
    METHODICAL_WORK = "methodical_work"  # методическая работа
    UPBRINGING = "upbringing"  # воспитание и социализация


class AccreditationStatus(StrEnum):
    ACTIVE = "действует"
    SUSPENDED = "приостановлена"
    REVOKED = "лишена"


class StaffPosition(StrEnum):
    TEACHER = "учитель"
    PSYCHOLOGIST = "педагог-психолог"
    SPEECH_THERAPIST = "учитель-логопед"
    DEFECTOLOGIST = "учитель-дефектолог"
    SOCIAL_PEDAGOGUE = "социальный педагог"
    ADDITIONAL_EDUCATION = "педагог доп. образования"
    PRINCIPAL = "руководитель"
    DEPUTY_PRINCIPAL = "заместитель руководителя"


class Level(StrEnum):
    LOW = "низкий"
    MEDIUM = "средний"
    HIGH = "высокий"
