"""Upload formats: the spreadsheets officials export, column by column.

A format maps the Russian column headers of a CSV/XLSX file (and the fields of the JSON batch
API) to the fields of one fact. Raw personal ids (``student_id``, ``teacher_id``…) exist only
in uploads: ingest replaces them with keyed pseudonyms before anything leaves it.
The same table drives the parser (ingest), the blank templates, the docs in
``docs/formats/`` and the demo region's files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from shkala_contracts.base import Fact
from shkala_contracts.events.assessment import (
    AssessmentResultRecorded,
    TeacherResultsConsentRecorded,
)
from shkala_contracts.events.attendance import LessonsMissed
from shkala_contracts.events.directions import CareerGuidanceReported, UpbringingReported
from shkala_contracts.events.org_units import NetworkPairFormed, SchoolRegistered
from shkala_contracts.events.reference import VprTaskPlannedResult
from shkala_contracts.events.school_context import (
    ROLL_GRADES,
    FederalNonObjectivityListed,
    SchoolContextReportedV2,
)
from shkala_contracts.events.staffing import (
    BurnoutDiagnosed,
    IndividualRouteOpened,
    MentoringPairFormed,
    PrincipalCompetenceAssessed,
    ProfessionalContestEntered,
    ProfessionalDeficitsDiagnosed,
    QualificationCourseCompleted,
    StaffingPositionsReported,
    StaffMovementRecorded,
)

PERSONAL_IDS: dict[str, str] = {
    "student_id": "student",
    "teacher_id": "teacher",
    "mentor_id": "mentor",
    "mentee_id": "mentee",
    "principal_id": "principal",
}
"""Raw id field in an upload → pseudonym field in the fact."""

TASK_HEADER_RE = re.compile(
    r"^Задание\s+(?P<task>[0-9]+(?:\.[0-9]+)?)\s*\(макс\.?\s*(?P<max>[0-9]+(?:[.,][0-9]+)?)\)$"
)
"""ВПР protocols carry one column per task: ``Задание 3 (макс 2)``."""


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    field: str
    required: bool = True
    example: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UploadFormat:
    kind: str
    title: str
    fact: type[Fact]
    columns: tuple[Column, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    """Fields every row of this format has (e.g. procedure=ВПР)."""
    task_columns: bool = False
    """Extra ``Задание N (макс M)`` columns become the ``tasks`` field."""
    extra_fields: tuple[str, ...] = ()
    """Fields not in the fact that ingest uses otherwise (names of new org units)."""
    school_refs: tuple[str, ...] = ()
    """Fields naming further schools (besides ``school_id``): ingest checks that each is
    registered and in the caller's tenant, like the row's own school."""

    def column(self, header: str) -> Column | None:
        norm = normalise_header(header)
        for c in self.columns:
            if norm == normalise_header(c.header) or norm in map(normalise_header, c.aliases):
                return c
        return None


def normalise_header(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").lower().replace("ё", "е").split())


SCHOOL = Column(
    "Код ОО", "school_id", example="sch-0001", aliases=("Код образовательной организации", "ОО")
)
YEAR = Column("Учебный год", "academic_year", example="2025/26")
SUBJECT = Column("Предмет", "subject", example="математика")
GRADE = Column("Параллель", "grade", example="5")
CLASS = Column("Класс", "class_label", required=False, example="5А")
STUDENT = Column("Код участника", "student_id", example="123456", aliases=("Код обучающегося",))
TEACHER = Column("Код педагога", "teacher_id", example="T-0042")
CLASS_TEACHER = Column(
    "Код педагога", "teacher_id", required=False, example="T-0042", aliases=("Учитель (код)",)
)
"""The class's teacher on a result: pseudonymised; used only with the teacher's consent."""
DATE = Column("Дата", "held_on", required=False, example="15.04.2026")


def _fmt(kind: str, title: str, fact: type[Fact], *columns: Column, **kw: Any) -> UploadFormat:
    return UploadFormat(kind, title, fact, columns, **kw)


FORMATS: dict[str, UploadFormat] = {
    f.kind: f
    for f in (
        _fmt(
            "org-units",
            "Реестр образовательных организаций",
            SchoolRegistered,
            Column("Код региона", "region_id", example="demo"),  # SHKALA_REGION_ID
            Column("Регион", "region_name", example="Тульская область"),
            Column("Код МО", "municipality_id", example="mo-01"),
            Column("Муниципалитет", "municipality_name", example="г. Тула"),
            SCHOOL,
            Column("Наименование ОО", "name", example="МБОУ «Центр образования № 5»"),
            Column("Тип ОО", "kind", required=False, example="СОШ"),
            Column("Сельская", "rural", required=False, example="нет"),
            Column("Ресурсный центр", "resource_centre_id", required=False),
            Column("Ведущая школа", "network_leader_id", required=False),
            extra_fields=("region_name", "municipality_name"),
        ),
        _fmt(
            "vpr",
            "Протокол ВПР (ФИС ОКО)",
            AssessmentResultRecorded,
            SCHOOL,
            YEAR,
            SUBJECT,
            GRADE,
            CLASS,
            STUDENT,
            DATE,
            Column("Первичный балл", "primary_score", required=False, example="9"),
            Column("Отметка", "mark", example="4"),
            Column("Отметка по журналу", "journal_mark", required=False, example="4"),
            Column("Общественное наблюдение", "public_observer", required=False, example="да"),
            CLASS_TEACHER,
            fixed={"procedure": "ВПР"},
            task_columns=True,
        ),
        _fmt(
            "gia",
            "Результаты ГИА: ОГЭ, ЕГЭ, ГВЭ (РИС ГИА)",
            AssessmentResultRecorded,
            SCHOOL,
            YEAR,
            Column("Экзамен", "procedure", example="ЕГЭ"),
            SUBJECT,
            GRADE,
            CLASS,
            STUDENT,
            DATE,
            Column("Первичный балл", "primary_score", required=False, example="21"),
            Column("Тестовый балл", "test_score", required=False, example="72"),
            Column("Отметка", "mark", required=False, example="4"),
            Column(
                "Отметка по журналу",
                "journal_mark",
                required=False,
                example="4",
                aliases=("Годовая отметка",),
            ),
            Column("Медалист", "medalist", required=False, example="нет"),
            Column("Общественное наблюдение", "public_observer", required=False, example="да"),
        ),
        _fmt(
            "results",
            "Результаты РДР, РКР, ДР-10, НИКО, МСИ",
            AssessmentResultRecorded,
            SCHOOL,
            YEAR,
            Column("Процедура", "procedure", example="РДР"),
            SUBJECT,
            GRADE,
            CLASS,
            STUDENT,
            DATE,
            Column("Первичный балл", "primary_score", required=False, example="12"),
            Column("Отметка", "mark", required=False, example="3"),
            Column("Отметка по журналу", "journal_mark", required=False, example="4"),
            Column("Общественное наблюдение", "public_observer", required=False, example="нет"),
            CLASS_TEACHER,
        ),
        _fmt(
            "olympiads",
            "Участники олимпиад и конкурсов",
            AssessmentResultRecorded,
            SCHOOL,
            YEAR,
            Column("Олимпиада", "procedure", example="ВсОШ"),
            Column("Этап", "olympiad_stage", required=False, example="муниципальный"),
            SUBJECT,
            GRADE,
            STUDENT,
            DATE,
            Column("Статус", "olympiad_status", example="призёр"),
            Column("Балл", "primary_score", required=False, example="37"),
        ),
        _fmt(
            "attendance",
            "Пропуски уроков",
            LessonsMissed,
            SCHOOL,
            YEAR,
            STUDENT,
            GRADE,
            CLASS,
            Column("Начало периода", "period_start", example="01.09.2025"),
            Column("Конец периода", "period_end", example="30.09.2025"),
            Column("Пропущено уроков", "lessons_missed", example="12"),
            Column("Всего уроков", "lessons_total", required=False, example="120"),
            Column("Причина", "reason", example="неуважительная"),
        ),
        _fmt(
            "school-context",
            "Контекстные данные ОО (ШНСУ; выпускники и обучающиеся по параллелям)",
            SchoolContextReportedV2,
            SCHOOL,
            YEAR,
            Column("Дата", "as_of", example="01.09.2025"),
            Column("Всего обучающихся", "students_total", example="640"),
            Column("На учёте ОДН/КДН", "on_juvenile_register", example="4"),
            Column("Мигранты / слабое владение русским", "migrant_or_low_russian", example="12"),
            Column("ОВЗ подтверждено ПМПК", "special_needs_confirmed", example="20"),
            Column("Не аттестованы", "not_attested", example="3"),
            Column("Удалённость", "remote", example="нет"),
            Column("Малокомплектная", "small_school", example="нет"),
            Column("Дефицит инфраструктуры", "infrastructure_deficit", example="нет"),
            Column("Аккредитация", "accreditation", required=False, example="действует"),
            # seed 002's denominators: «общее количество выпускников», «… обучающихся в классе»
            Column("Выпускников 9 кл.", "graduates_9", required=False, example="52"),
            Column("Выпускников 11 кл.", "graduates_11", required=False, example="24"),
            *(
                Column(
                    f"Обучающихся в {g} кл.",
                    f"enrolled_grade_{g}",
                    required=False,
                    example=str(50 + g),
                    aliases=(f"Обучающихся {g} кл.", f"Списочный состав {g} кл."),
                )
                for g in ROLL_GRADES
            ),
        ),
        _fmt(
            "federal-objectivity-list",
            "Перечень ОО с признаками необъективности результатов (Рособрнадзор)",
            FederalNonObjectivityListed,
            SCHOOL,
            YEAR,
            Column("Процедура", "procedure", required=False, example="ВПР"),
            Column("В перечне", "listed", required=False, example="да"),
            Column("Предметы", "subjects", required=False, example="математика; русский язык"),
            Column("Параллели", "grades", required=False, example="5; 8"),
            Column(
                "Документ",
                "document",
                required=False,
                example="письмо Рособрнадзора от 01.10.2025",
                aliases=("Реквизиты", "Основание"),
            ),
        ),
        _fmt(
            "staffing-positions",
            "Штатное расписание и вакансии",
            StaffingPositionsReported,
            SCHOOL,
            YEAR,
            Column("Дата", "as_of", example="01.09.2025"),
            Column("Должность", "position", example="учитель"),
            Column("Предмет", "subject", required=False, example="математика"),
            Column("Ставок по штату", "posts", example="4,5"),
            Column("Занято ставок", "filled", example="3,5"),
            Column("Вакансий", "vacancies", example="1"),
        ),
        _fmt(
            "staff-movements",
            "Приём и увольнение работников",
            StaffMovementRecorded,
            SCHOOL,
            YEAR,
            TEACHER,
            Column("Должность", "position", example="учитель"),
            Column("Движение", "kind", example="принят"),
            Column("Дата", "on", example="01.09.2025"),
        ),
        _fmt(
            "deficit-diagnostics",
            "Диагностика профессиональных дефицитов",
            ProfessionalDeficitsDiagnosed,
            SCHOOL,
            YEAR,
            TEACHER,
            Column("Дата диагностики", "diagnosed_on", example="15.10.2025"),
            Column(
                "Дефициты",
                "deficits",
                required=False,
                example="оценивание; функциональная грамотность",
            ),
        ),
        _fmt(
            "courses",
            "Курсы повышения квалификации (КПК)",
            QualificationCourseCompleted,
            SCHOOL,
            YEAR,
            TEACHER,
            Column("Курс", "course", example="Работа с обучающимися с рисками"),
            Column("Часов", "hours", example="36"),
            Column("Дата окончания", "completed_on", example="20.11.2025"),
            Column("По запросу педагога", "on_own_request", example="да"),
            Column("По работе с обучающимися с рисками", "on_students_at_risk", example="да"),
        ),
        _fmt(
            "routes",
            "Индивидуальные образовательные маршруты (ИОМ)",
            IndividualRouteOpened,
            SCHOOL,
            YEAR,
            TEACHER,
            Column("Дата открытия", "opened_on", example="01.10.2025"),
            Column("Завершён", "completed", required=False, example="нет"),
        ),
        _fmt(
            "mentoring",
            "Наставнические пары",
            MentoringPairFormed,
            SCHOOL,
            YEAR,
            Column("Код наставника", "mentor_id", example="T-0007"),
            Column("Код наставляемого", "mentee_id", example="T-0042"),
            Column("Школа наставника", "mentor_school_id", required=False, example="sch-0002"),
            school_refs=("mentor_school_id",),  # the mentor's school is tenant-checked too
        ),
        _fmt(
            "principals",
            "Оценка компетенций руководителей",
            PrincipalCompetenceAssessed,
            SCHOOL,
            YEAR,
            Column("Код руководителя", "principal_id", example="D-0001"),
            Column("Дата оценки", "assessed_on", example="10.03.2026"),
            Column("Уровень", "level", example="средний"),
            Column("Балл", "score", required=False, example="64"),
        ),
        _fmt(
            "burnout",
            "Диагностика эмоционального выгорания",
            BurnoutDiagnosed,
            SCHOOL,
            YEAR,
            TEACHER,
            Column("Дата диагностики", "diagnosed_on", example="12.02.2026"),
            Column("Уровень", "level", example="низкий"),
        ),
        _fmt(
            "contests",
            "Профессиональные конкурсы",
            ProfessionalContestEntered,
            SCHOOL,
            YEAR,
            TEACHER,
            Column("Конкурс", "contest", example="Учитель года"),
            Column("Уровень", "level", example="муниципальный"),
            Column("Результат", "result", example="участник"),
        ),
        _fmt(
            "consents",
            "Согласие педагога на использование результатов обучающихся",
            TeacherResultsConsentRecorded,
            SCHOOL,
            YEAR,
            TEACHER,
            Column("Согласие", "granted", example="да"),
        ),
        # network pairs (seed 004 §4, seed 002): a leading school and the school it supports
        _fmt(
            "network-pairs",
            "Сетевые пары: ведущая школа и школа с низкими результатами (ШНОР)",
            NetworkPairFormed,
            Column(
                "Код ОО",
                "school_id",
                example="sch-0001",
                aliases=("Код ОО (ШНОР)", "Школа ШНОР", "Код образовательной организации"),
            ),
            Column(
                "Код ведущей ОО",
                "leading_school_id",
                example="sch-0002",
                aliases=("Ведущая школа", "Школа-лидер", "Код ведущей школы"),
            ),
            YEAR,
            Column("Действует", "active", required=False, example="да"),
            Column("Дата соглашения", "since", required=False, example="15.09.2025"),
            Column(
                "Форма взаимодействия",
                "form",
                required=False,
                example="уроки педагогов ведущей школы",
            ),
            school_refs=("leading_school_id",),
        ),
        # directions 4 and 9 (самоопределение и профориентация; воспитание и социализация)
        _fmt(
            "career-guidance",
            "Профильное обучение, профориентационная диагностика, поступление в СПО",
            CareerGuidanceReported,
            SCHOOL,
            YEAR,
            Column("Дата", "as_of", example="01.06.2026"),
            Column("Профильных классов", "profile_classes", example="2"),
            Column(
                "Обучающихся 10–11 кл.",
                "students_10_11",
                example="48",
                aliases=("Обучающихся 10-11 кл.",),
            ),
            Column("В профильных классах", "students_in_profile_classes", example="40"),
            Column(
                "Обучающихся 6–11 кл.",
                "students_6_11",
                example="310",
                aliases=("Обучающихся 6-11 кл.",),
            ),
            Column(
                "Прошли профдиагностику",
                "career_diagnostics_covered",
                example="250",
                aliases=("Охвачены профориентационной диагностикой",),
            ),
            Column(
                "Выпускников 9 кл. поступили в СПО",
                "grade9_to_college",
                required=False,
                example="21",
                aliases=("Поступили в СПО (9 кл.)",),
            ),
            Column(
                "Из них сдавали ГИА по профилю ПОО",
                "grade9_to_college_profile_gia",
                required=False,
                example="15",
                aliases=("ГИА по предметам профиля ПОО",),
            ),
        ),
        _fmt(
            "upbringing",
            "Воспитание: программа воспитания, доп. образование, «Точка роста», «Кванториум»",
            UpbringingReported,
            SCHOOL,
            YEAR,
            Column("Дата", "as_of", example="01.06.2026"),
            Column("Всего обучающихся", "students_total", example="640"),
            Column("Программа воспитания", "upbringing_programme", example="да"),
            Column(
                "Охвачены программой воспитания", "students_in_upbringing_programme", example="600"
            ),
            Column(
                "В дополнительном образовании",
                "students_additional_education",
                example="410",
                aliases=("Охвачены дополнительным образованием",),
            ),
            Column(
                "Из них в «Кванториуме»",
                "students_kvantorium",
                required=False,
                example="35",
                aliases=("В Кванториуме", "Кванториум"),
            ),
            Column(
                "Центр «Точка роста»",
                "tochka_rosta",
                required=False,
                example="да",
                aliases=("Точка роста",),
            ),
            Column(
                "«Точка роста» для основных и доп. программ",
                "tochka_rosta_programmes",
                required=False,
                example="да",
                aliases=("Точка роста используется",),
            ),
        ),
        _fmt(
            "vpr-planned-results",
            "Задания ВПР и проверяемые планируемые результаты (описание КИМ)",
            VprTaskPlannedResult,
            YEAR,
            SUBJECT,
            GRADE,
            Column("Номер задания", "task", example="9.1", aliases=("Задание", "№ задания")),
            Column(
                "Код планируемого результата",
                "planned_result_code",
                example="1.2",
                aliases=("Код ПР", "Код проверяемого умения", "КПУ"),
            ),
            Column(
                "Планируемый результат",
                "planned_result",
                example="Умение выполнять арифметические действия с дробями",
                aliases=("Проверяемое умение", "Проверяемые требования (умения)"),
            ),
        ),
    )
}


def format_cell(value: Any) -> str:
    """A value as officials' spreadsheets show it: dd.mm.yyyy, да/нет, decimal comma."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float):
        return (f"{value:.2f}".rstrip("0").rstrip(".")).replace(".", ",")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return "; ".join(map(format_cell, value))
    return str(value)


def task_header(task: str, max_points: float) -> str:
    return f"Задание {task} (макс {format_cell(float(max_points))})"


def names_no_school(fmt: UploadFormat) -> bool:
    """Reference data (e.g. ``vpr-planned-results``): rows name no school, so they belong
    to the uploader's region or municipality and the school role may not upload them."""
    return "school_id" not in fmt.fact.model_fields
