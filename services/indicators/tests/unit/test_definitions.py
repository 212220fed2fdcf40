"""Every indicator's published numerator and denominator hold together with what the code
counts: one case per indicator, facts chosen to hit the inclusions and exclusions the text
names, the expected numerator and denominator worked out by hand from the seed's wording,
and the phrases of the text that promise those inclusions and exclusions.

A catalogue indicator without a case fails ``test_every_indicator_has_a_case``: a new
indicator comes with its case here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from indicators_testkit import spearman

from shkala_indicators.domain import catalogue as cat
from shkala_indicators.domain.compute import (
    ASSESSMENT,
    COURSE,
    DEFICITS,
    LESSONS,
    MENTORING,
    ROUTE,
    STAFFING,
    compute_school,
)
from shkala_indicators.domain.directions import CAREER, PRINCIPAL, UPBRINGING
from shkala_indicators.domain.objectivity import FEDERAL_LIST
from shkala_indicators.domain.seed_formulas import CONTEXT_V2

CAT = cat.load()
MATH, RUS = "математика", "русский язык"
Fact = dict[str, Any]


def ctx(**kw: Any) -> Fact:
    """A v2 school context: 100 students, graduates 10 (grade 9) and 8 (grade 11), rolls."""
    base: Fact = dict(
        type=CONTEXT_V2,
        as_of="2025-09-20",
        students_total=100,
        on_juvenile_register=3,
        migrant_or_low_russian=7,
        special_needs_confirmed=11,
        not_attested=2,
        remote=False,
        small_school=False,
        infrastructure_deficit=False,
        accreditation="действует",
        graduates_9=10,
        graduates_11=8,
        enrolled_grade_5=20,
        enrolled_grade_7=30,
        enrolled_grade_8=25,
    )
    return base | kw


def res(procedure: str, subject: str, student: str, grade: int, **kw: Any) -> Fact:
    return (
        dict(type=ASSESSMENT, procedure=procedure, subject=subject, student=student, grade=grade)
        | kw
    )


def staffing(as_of: str, position: str, posts: float, filled: float, vacancies: int) -> Fact:
    return dict(
        type=STAFFING, as_of=as_of, position=position, posts=posts, filled=filled,
        vacancies=vacancies,
    )  # fmt: skip


STAFF = [
    staffing("2025-09-01", "учитель", 5.0, 5.0, 0),  # the earlier report does not count
    staffing("2026-01-15", "учитель", 4.0, 3.0, 1),
    staffing("2026-01-15", "педагог-психолог", 1.0, 1.0, 0),
]


@dataclass
class Case:
    facts: list[Fact]
    numerator: float
    denominator: float
    in_numerator: tuple[str, ...] = ()
    in_denominator: tuple[str, ...] = ()
    earlier: list[list[Fact]] | None = None
    value: float | None = None  # when the value is not numerator / denominator × scale


def _vpr_year(subject: str) -> list[Fact]:
    # grade 5: "2" and "3"; grade 8: one "2"; grade 6 is not among seed 002's 5 and 8
    return [
        res("ВПР", subject, "a", 5, mark=2),
        res("ВПР", subject, "b", 5, mark=3),
        res("ВПР", subject, "c", 8, mark=2),
        res("ВПР", subject, "d", 6, mark=2),
    ]


def _two_year(subject: str) -> Case:
    # this year: 2 students with "2" in grades 5 and 8, rolls 20 + 25; the previous year:
    # grade 5 only (one "2"), roll 18 — grade 8 wrote nothing then, so its roll is not counted
    earlier = [ctx(enrolled_grade_5=18, enrolled_grade_8=22), res("ВПР", subject, "e", 5, mark=2)]
    return Case(
        [ctx(), *_vpr_year(subject), res("ВПР", "физика", "f", 5, mark=2)],
        2 + 1,
        20 + 25 + 18,
        ("«2»", "предыдущий учебный год", "vpr_grades"),
        ("в которых в этом году писали", "Обучающихся в N кл.", "нет значения"),
        earlier=[earlier],
    )


def _one_year(subject: str) -> Case:
    return Case(
        [ctx(), *_vpr_year(subject)],
        2,
        3,
        ("с отметкой «2»", "vpr_grades"),
        ("написавшие работу", "vpr_grades"),
    )


def _correlation(subject: str) -> Case:
    pairs = [(2, 3), (3, 3), (3, 4), (4, 4), (4, 5), (5, 5), (5, 4), (3, 2), (4, 3), (2, 2)]
    facts = [ctx()] + [
        res("ВПР", subject, f"s{i}", 5 + i % 3, mark=m, journal_mark=j)
        for i, (m, j) in enumerate(pairs)
    ]
    facts.append(res("ВПР", subject, "nojournal", 5, mark=5))  # no journal mark: not a pair
    facts.append(res("ВПР", "физика", "other", 5, mark=2, journal_mark=5))  # another subject
    rho = spearman(pairs)
    assert rho is not None
    return Case(
        facts,
        rho * len(pairs),
        len(pairs),
        ("Спирмена", "× n", "взвешенное по n"),
        ("известной отметкой по журналу", "correlation_min_pairs", "все классы"),
        value=rho,
    )


def _context_share(field: str, n: int) -> Case:
    return Case([ctx(**{field: n})], n, 100, (), ("всего обучающихся", "students_total"))


def _flag(field: str) -> Case:
    return Case([ctx(**{field: True})], 1, 1, ("1",), ())


def _teacher_share(fact: Fact, n: int) -> Case:
    # filled teacher posts of the latest report: 3 (the psychologist is not a teacher)
    return Case([*STAFF, *([fact] * 2)], n, 3, (), ("учитель", "последний отчёт"))


def _oge_vs_journal() -> list[Fact]:
    # ОГЭ in every subject with a journal mark counts; no journal mark or another procedure not
    return [
        res("ОГЭ", MATH, "a", 9, mark=3, journal_mark=4),  # lowered
        res("ОГЭ", RUS, "a", 9, mark=4, journal_mark=4),  # confirmed
        res("ОГЭ", MATH, "b", 9, mark=5, journal_mark=4),  # raised
        res("ОГЭ", "физика", "b", 9, mark=2, journal_mark=3),  # lowered, another subject
        res("ОГЭ", MATH, "c", 9, mark=4),  # no journal mark
        res("ВПР", MATH, "d", 8, mark=2, journal_mark=4),  # not ОГЭ
    ]


def _quality(procedure: str, grade: int) -> Case:
    return Case(
        [
            res(procedure, MATH, "a", grade, mark=4),
            res(procedure, RUS, "a", grade, mark=3),
            res(procedure, RUS, "b", grade, mark=5),
            res(procedure, "физика", "b", grade, mark=5),  # another subject
            res(procedure, MATH, "c", grade - 1, mark=5),  # another grade
            res("РДР", MATH, "d", grade, mark=5),  # another procedure
        ],
        2,
        3,
        ("«4» или «5»", "математике и русскому языку"),
        ("математике и русскому языку",),
    )


# ------------------------------------------------- the four directions (domain/directions.py)
def _levels(grades: tuple[int, ...], outside: int, at_least: int) -> Case:
    # marks 2, 3, 5 in the level's grades (two subjects, any subject counts); a result of
    # another grade, of another procedure and one without a mark are not counted
    facts = [
        res("ВПР", MATH, "a", grades[0], mark=2),
        res("ВПР", RUS, "b", grades[-1], mark=3),
        res("ВПР", "окружающий мир", "c", grades[0], mark=5),
        res("ВПР", MATH, "d", outside, mark=5),
        res("РДР", MATH, "e", grades[0], mark=5),
        res("ВПР", MATH, "f", grades[0]),
    ]
    return Case(
        facts,
        2 if at_least == 3 else 1,
        3,
        ("все предметы", "«4» или «5»"),
        ("с отметкой (написавшие работу)",),
    )


FL = [  # functional literacy in three procedures, and a ВПР that is not one
    res("РКР", "читательская грамотность", "a", 8, mark=2),
    res("РДР", "математическая грамотность", "b", 7, mark=4),
    res("МСИ", "финансовая грамотность", "c", 9, mark=3),
    res("ВПР", MATH, "d", 8, mark=5),
]
FL_BEFORE = [  # the previous year: 1 of 2 at «3» or above (50 %) → this year's 2 of 3 is up
    res("РКР", "читательская грамотность", "a", 7, mark=2),
    res("РКР", "читательская грамотность", "b", 6, mark=3),
]


def report(kind: str, as_of: str, **kw: Any) -> Fact:
    return dict(type={"career": CAREER, "upbringing": UPBRINGING}[kind], as_of=as_of) | kw


CAREER_OLD = report("career", "2026-01-10", profile_classes=0, students_10_11=40,
                    students_in_profile_classes=0, students_6_11=300,
                    career_diagnostics_covered=10, grade9_to_college=1,
                    grade9_to_college_profile_gia=0)  # fmt: skip
CAREER_NEW = report("career", "2026-06-01", profile_classes=2, students_10_11=48,
                    students_in_profile_classes=40, students_6_11=310,
                    career_diagnostics_covered=250, grade9_to_college=4,
                    grade9_to_college_profile_gia=3)  # fmt: skip
UPBRINGING_NEW = report("upbringing", "2026-06-01", students_total=640,
                        upbringing_programme=True, students_in_upbringing_programme=600,
                        students_additional_education=410, students_kvantorium=35,
                        tochka_rosta=True, tochka_rosta_programmes=True)  # fmt: skip
UPBRINGING_OLD = UPBRINGING_NEW | dict(
    as_of="2025-12-01", students_total=600, upbringing_programme=False,
    students_in_upbringing_programme=0, students_additional_education=100,
    students_kvantorium=0, tochka_rosta_programmes=False,
)  # fmt: skip


def principal(who: str, on: str, level: str, score: float | None) -> Fact:
    return dict(type=PRINCIPAL, principal=who, assessed_on=on, level=level, score=score)


PRINCIPALS = [
    principal("p1", "2025-10-01", "низкий", 50),  # p1's later assessment replaces this one
    principal("p1", "2026-03-10", "высокий", 80),
    principal("p2", "2026-03-10", "низкий", 60),
    principal("p3", "2026-03-11", "средний", None),  # no score: not in the mean
]


CASES: dict[str, Callable[[], Case]] = {
    "ege_high_scorers_share": lambda: Case(
        [
            ctx(),
            res("ЕГЭ", MATH, "a", 11, test_score=85),  # a high scorer (one subject suffices)
            res("ЕГЭ", RUS, "a", 11, test_score=70),
            res("ЕГЭ", MATH, "b", 11, test_score=20),
            res("ЕГЭ", "математика базовая", "z", 11, mark=5),  # a mark, no score
        ],
        1,
        8,  # «общее количество выпускников»: 8 graduates of grade 11 in the context
        ("хотя бы по одному предмету", "базовая математика"),
        ("Выпускников 11 кл.", "нет значения"),
    ),
    "gia_below_minimum_share": lambda: Case(
        [
            ctx(),
            res("ЕГЭ", MATH, "b", 11, test_score=20),  # below the maths minimum
            res("ОГЭ", MATH, "c", 9, mark=2),  # "2" at ОГЭ
            res("ОГЭ", RUS, "c", 9, mark=2),  # the same student: once
            res("ОГЭ", RUS, "d", 9, mark=4),
            res("ЕГЭ", "физика", "e", 11, test_score=10),  # not maths or Russian
            res("ГВЭ", MATH, "f", 9),  # ГВЭ without a mark: not counted as failed
            res("ЕГЭ", "математика базовая", "g", 11, mark=2),  # base level: "2" fails
            res("ЕГЭ", "математика базовая", "h", 11, mark=3),
            res("ЕГЭ", "математика профильная", "i", 11, test_score=26),  # below 27
        ],
        4,
        10 + 8,
        ("профильной и базовой", "ГВЭ без отметки", "без минимума", "базовая математика"),
        ("Выпускников 9 кл.", "Выпускников 11 кл."),
    ),
    "vpr_mark2_share_2y_math": lambda: _two_year(MATH),
    "vpr_mark2_share_2y_rus": lambda: _two_year(RUS),
    "vpr_mark2_share_math": lambda: _one_year(MATH),
    "vpr_mark2_share_rus": lambda: _one_year(RUS),
    "rdr_mark2_share": lambda: Case(
        [
            ctx(),
            res("РДР", MATH, "a", 7, mark=2),
            res("РДР", RUS, "a", 7, mark=2),  # two "2"s, one student
            res("РДР", RUS, "b", 7, mark=4),
            res("РДР", MATH, "c", 7),  # no mark: not counted
        ],
        1,
        30,  # the roll of grade 7, once
        ("обучающиеся", "хотя бы в одной РДР"),
        ("каждая параллель один раз", "Обучающихся в N кл."),
    ),
    "vpr_journal_correlation_math": lambda: _correlation(MATH),
    "vpr_journal_correlation_rus": lambda: _correlation(RUS),
    "accreditation_problem": lambda: Case(
        [ctx(accreditation="приостановлена")], 1, 1, ("приостановлена или лишена",), ()
    ),
    "vpr_lowered_share": lambda: Case(
        [
            res("ВПР", MATH, "a", 5, mark=3, journal_mark=4),
            res("ВПР", "история", "b", 11, mark=4, journal_mark=5),  # any subject and grade
            res("ВПР", RUS, "c", 6, mark=4, journal_mark=4),
            res("ВПР", RUS, "d", 6, mark=4),  # no journal mark: left out
        ],
        2,
        3,
        ("ниже отметки по журналу", "все предметы и классы"),
        ("известной отметкой по журналу", "все предметы и классы"),
    ),
    "vpr_confirmed_share": lambda: Case(
        [
            res("ВПР", MATH, "a", 5, mark=3, journal_mark=3),
            res("ВПР", RUS, "b", 7, mark=4, journal_mark=5),
            res("ВПР", RUS, "c", 7, mark=4),
        ],
        1,
        2,
        ("равной отметке по журналу",),
        ("известной отметкой по журналу",),
    ),
    "vpr_raised_share": lambda: Case(
        [
            res("ВПР", MATH, "a", 5, mark=5, journal_mark=3),
            res("ВПР", RUS, "b", 8, mark=4, journal_mark=5),
            res("ВПР", RUS, "c", 8, mark=4),
        ],
        1,
        2,
        ("выше отметки по журналу",),
        ("известной отметкой по журналу",),
    ),
    "medalists_not_confirming_share": lambda: Case(
        [
            res("ЕГЭ", MATH, "m1", 11, test_score=90, medalist=True),
            res("ЕГЭ", RUS, "m1", 11, test_score=60, medalist=True),  # one score below 70
            res("ЕГЭ", MATH, "m2", 11, test_score=80, medalist=True),
            res("ЕГЭ", "математика базовая", "m2", 11, mark=4, medalist=True),  # not checked
            res("ЕГЭ", MATH, "x", 11, test_score=20),  # not a medalist
        ],
        1,
        2,
        ("хотя бы один тестовый балл ЕГЭ", "базовая математика"),
        ("медалисты, сдававшие ЕГЭ",),
    ),
    "observed_procedures_share": lambda: Case(
        [
            res("ВПР", MATH, "a", 5, mark=4, public_observer=True),
            res("ВПР", MATH, "b", 5, mark=3),  # the same sitting
            res("НИКО", MATH, "c", 4, public_observer=True),  # sample studies count too
            res("МСИ", RUS, "d", 8),
            res(
                "ВсОШ",
                MATH,
                "e",
                10,
                olympiad_stage="школьный",
                olympiad_status="участник",
                public_observer=True,
            ),
            res("Конкурс", MATH, "f", 10, olympiad_status="участник"),
        ],
        2,
        3,
        ("НИКО", "МСИ", "олимпиады и конкурсы не считаются"),
        ("НИКО", "МСИ", "олимпиады и конкурсы не считаются"),
    ),
    "juvenile_register_share": lambda: _context_share("on_juvenile_register", 4),
    "migrant_share": lambda: _context_share("migrant_or_low_russian", 9),
    "not_attested_share": lambda: _context_share("not_attested", 5),
    "special_needs_share": lambda: _context_share("special_needs_confirmed", 12),
    "systematic_absence_share": lambda: Case(
        [
            ctx(),
            dict(type=LESSONS, student="s1", reason="неуважительная", lessons_missed=25),
            dict(type=LESSONS, student="s1", reason="неуважительная", lessons_missed=20),
            dict(type=LESSONS, student="s2", reason="уважительная", lessons_missed=60),
            dict(type=LESSONS, student="s3", reason="неуважительная", lessons_missed=39),
        ],
        1,  # s1: 45 unexcused lessons over the periods; s2 excused; s3 under the line
        100,
        ("без уважительной причины", "сумма всех периодов", "не больше числа обучающихся"),
        ("всего обучающихся",),
    ),
    "remote_school": lambda: _flag("remote"),
    "small_school": lambda: _flag("small_school"),
    "infrastructure_deficit": lambda: _flag("infrastructure_deficit"),
    "staffing_fill_share": lambda: Case(
        list(STAFF), 4, 5, ("все должности", "последний отчёт"), ("все должности",)
    ),
    "understaffed": lambda: Case(
        list(STAFF), 1, 1, ("есть вакансии", "в т.ч. специалисты"), ("штатное расписание",)
    ),
    "wellbeing_index": lambda: Case(
        [
            ctx(
                remote=True,
                on_juvenile_register=0,
                migrant_or_low_russian=0,
                special_needs_confirmed=0,
                not_attested=0,
            )
        ],
        90,  # one criterion fired: remote (weight 10, a regional setting)
        100,
        ("100 минус сумма весов",),
        ("100",),
    ),
    "deficits_diagnosed_share": lambda: _teacher_share(dict(type=DEFICITS, teacher="t1"), 1),
    "kpk_own_request_share": lambda: _teacher_share(
        dict(type=COURSE, teacher="t1", on_own_request=True, on_students_at_risk=False), 1
    ),
    "kpk_at_risk_share": lambda: _teacher_share(
        dict(type=COURSE, teacher="t2", on_own_request=False, on_students_at_risk=True), 1
    ),
    "mentoring_share": lambda: _teacher_share(dict(type=MENTORING, mentor="m", mentee="t3"), 1),
    "individual_routes_share": lambda: _teacher_share(dict(type=ROUTE, teacher="t4"), 1),
    "olympiad_participation_share": lambda: Case(
        [
            ctx(),
            res("ВсОШ", MATH, "a", 10, olympiad_stage="школьный", olympiad_status="участник"),
            res("ВсОШ", MATH, "a", 10, olympiad_stage="муниципальный", olympiad_status="призёр"),
            res("ВсОШ", RUS, "b", 9, olympiad_stage="школьный", olympiad_status="победитель"),
            res("Конкурс", MATH, "c", 9, olympiad_status="участник"),  # contests not counted
        ],
        2,
        100,
        ("любого этапа", "конкурсы не считаются"),
        ("всего обучающихся",),
    ),
    "olympiad_prize_share": lambda: Case(
        [
            ctx(),
            res("ВсОШ", MATH, "a", 10, olympiad_stage="школьный", olympiad_status="участник"),
            res("ВсОШ", RUS, "b", 9, olympiad_stage="школьный", olympiad_status="победитель"),
            res("Конкурс", MATH, "c", 9, olympiad_status="призёр"),
        ],
        1,
        100,
        ("призёры или победители", "конкурсы не считаются"),
        ("всего обучающихся",),
    ),
    "oge_lowered_share": lambda: Case(
        _oge_vs_journal(),
        2,
        4,
        ("ниже отметки по журналу", "все предметы"),
        ("известной отметкой по журналу", "все предметы"),
    ),
    "oge_confirmed_share": lambda: Case(
        _oge_vs_journal(),
        1,
        4,
        ("равной отметке по журналу",),
        ("известной отметкой",),
    ),
    "oge_raised_share": lambda: Case(
        _oge_vs_journal(),
        1,
        4,
        ("выше отметки по журналу",),
        ("известной отметкой",),
    ),
    "vpr_quality_share_g8": lambda: _quality("ВПР", 8),
    "oge_quality_share": lambda: _quality("ОГЭ", 9),
    # the «3» line: maths 8, Russian 15 (ФИПИ 2024); band 3 — scores from the line − 3 to the
    # line + 2 are near it, from the line to the line + 2 at or above it
    "oge_boundary_band_share": lambda: Case(
        [
            *(res("ОГЭ", MATH, f"m{x}", 9, primary_score=x) for x in (4, 5, 7, 8, 10, 11)),
            *(res("ОГЭ", RUS, f"r{x}", 9, primary_score=x) for x in (12, 15, 17, 18)),
            res("ОГЭ", "физика", "p", 9, primary_score=8),  # another subject
        ],
        2 + 2,  # maths 8, 10; Russian 15, 17
        4 + 3,  # maths 5, 7, 8, 10; Russian 12, 15, 17 (4 and 11, 18 are outside)
        ("от границы «3» до границы + 2",),
        ("от границы «3» − 3 до границы + 2",),
    ),
    "federal_nonobjectivity_list": lambda: Case(
        [dict(type=FEDERAL_LIST, procedure="ВПР", listed=True)],
        1,
        1,
        ("«В перечне» = да",),
        ("загружена строка перечня",),
    ),
    # ------------------------------------------------ the four directions
    "vpr_success_share_noo": lambda: _levels((4,), 5, 3),
    "vpr_quality_share_noo": lambda: _levels((4,), 5, 4),
    "vpr_success_share_ooo": lambda: _levels((5, 8), 4, 3),
    "vpr_quality_share_ooo": lambda: _levels((5, 8), 9, 4),
    "oge_success_share": lambda: Case(
        [
            res("ОГЭ", MATH, "a", 9, mark=2),
            res("ОГЭ", RUS, "a", 9, mark=3),
            res("ОГЭ", "физика", "b", 9, mark=4),
            res("ГВЭ", MATH, "c", 9, mark=3),  # ГВЭ is not ОГЭ
            res("ОГЭ", MATH, "d", 9),  # no mark
        ],
        2,
        3,
        ("«3», «4» или «5»", "все предметы"),
        ("ГВЭ не считается",),
    ),
    "ege_mean_test_score": lambda: Case(
        [
            res("ЕГЭ", MATH, "a", 11, test_score=70),
            res("ЕГЭ", RUS, "a", 11, test_score=80),
            res("ЕГЭ", "физика", "b", 11, test_score=45),
            res("ЕГЭ", "математика базовая", "c", 11, mark=5),  # a mark, no score
            res("ОГЭ", MATH, "d", 9, mark=5, primary_score=30),
        ],
        70 + 80 + 45,
        3,
        ("ЕГЭ базовая математика",),
        ("с тестовым баллом",),
        value=65.0,
    ),
    "gia_below_minimum_share_sat": lambda: Case(
        [
            ctx(),  # 10 + 8 graduates: seed 003 divides by those who sat, not by them
            res("ОГЭ", MATH, "a", 9, mark=2),  # failed
            res("ОГЭ", RUS, "a", 9, mark=4),
            res("ОГЭ", MATH, "b", 9, mark=3),
            res("ЕГЭ", RUS, "c", 11, test_score=20),  # below 24: failed
            res("ЕГЭ", MATH, "d", 11, test_score=50),
            res("ЕГЭ", "математика базовая", "e", 11, mark=2),  # failed
            res("ОГЭ", "физика", "f", 9, mark=2),  # not a compulsory subject
        ],
        3,
        5,
        ("«2»", "ниже ege_minimum"),
        ("прошедшие ГИА", "разные обучающиеся"),
    ),
    "functional_literacy_share": lambda: Case(
        FL, 2, 3, ("любая процедура", "functional_literacy_subjects"), ("с отметкой",)
    ),
    "functional_literacy_dynamics": lambda: Case(
        FL,
        1,
        1,
        ("выше, чем в предыдущем",),
        ("нет значения без результатов предыдущего года",),
        earlier=[FL_BEFORE],
    ),
    "vpr_quality_dynamics_ooo": lambda: Case(
        [
            res("ВПР", MATH, "a", 5, mark=4),
            res("ВПР", RUS, "b", 8, mark=5),
            res("ВПР", MATH, "c", 6, mark=3),
            res("ВПР", MATH, "z", 4, mark=2),
        ],
        1,
        1,
        ("выше, чем в предыдущем",),
        ("и в этом, и в предыдущем",),
        earlier=[
            [
                res("ВПР", MATH, "a", 5, mark=4),
                res("ВПР", MATH, "b", 7, mark=2),
                res("ВПР", RUS, "c", 7, mark=2),
                res("ВПР", RUS, "d", 6, mark=3),
            ]
        ],
    ),
    "ege_three_subjects_passed_share": lambda: Case(
        [
            ctx(),  # 8 graduates of grade 11
            *(
                res("ЕГЭ", s, "a", 11, test_score=x)
                for s, x in ((RUS, 40), (MATH, 30), ("физика", 40))
            ),
            # b: физика 30 is below its 36 — two subjects passed
            *(
                res("ЕГЭ", s, "b", 11, test_score=x)
                for s, x in ((RUS, 40), ("физика", 30), ("химия", 50))
            ),
            # c: exactly at the minimums; базовая математика (a mark) does not count
            *(
                res("ЕГЭ", s, "c", 11, test_score=x)
                for s, x in ((RUS, 36), ("обществознание", 42), ("история", 32))
            ),
            res("ЕГЭ", "математика базовая", "c", 11, mark=5),
            # d: астрономия has no minimum in the parameter — two subjects passed
            *(
                res("ЕГЭ", s, "d", 11, test_score=x)
                for s, x in ((RUS, 50), ("астрономия", 90), (MATH, 60))
            ),
        ],
        2,
        8,
        ("трём и более разным предметам", "без минимума", "базовая математика"),
        ("Выпускников 11 кл.", "нет значения"),
    ),
    "profile_classes_school": lambda: Case(
        [CAREER_OLD, CAREER_NEW], 1, 1, ("больше 0",), ("представившая отчёт",)
    ),
    "profile_students_share": lambda: Case(
        [CAREER_NEW, CAREER_OLD],
        40,
        48,
        ("профильных классах", "последний за год"),
        ("10–11 кл.",),
    ),
    "career_diagnostics_share": lambda: Case(
        [CAREER_OLD, CAREER_NEW], 250, 310, ("профориентационную диагностику",), ("6–11 кл.",)
    ),
    "grade9_to_college_share": lambda: Case(
        [ctx(), CAREER_OLD, CAREER_NEW], 4, 10, ("поступившие в ПОО",), ("Выпускников 9 кл.",)
    ),
    "grade9_college_profile_gia_share": lambda: Case(
        [CAREER_NEW], 3, 4, ("близким к профилю ПОО",), ("поступившие в ПОО",)
    ),
    "principal_assessed": lambda: Case(
        [ctx(), PRINCIPALS[0]], 1, 1, ("оценка компетенций",), ("ОО с контекстными данными",)
    ),
    "principal_high_level_share": lambda: Case(
        PRINCIPALS, 1, 3, ("последняя за год", "«высокий»"), ("последняя оценка каждого",)
    ),
    "principal_low_level_share": lambda: Case(
        PRINCIPALS, 1, 3, ("последняя за год", "«низкий»"), ("последняя оценка каждого",)
    ),
    "principal_mean_score": lambda: Case(
        PRINCIPALS,
        80 + 60,
        2,
        ("последних за год", "без балла не считается"),
        ("с баллом",),
        value=70.0,
    ),
    "upbringing_programme_school": lambda: Case(
        [UPBRINGING_OLD, UPBRINGING_NEW],
        1,
        1,
        ("«Программа воспитания» = да",),
        ("представившая отчёт upbringing",),
    ),
    "upbringing_coverage_share": lambda: Case(
        [UPBRINGING_NEW, UPBRINGING_OLD],
        600,
        640,
        ("программы воспитания", "последний за год"),
        ("отчёту upbringing",),
    ),
    "additional_education_share": lambda: Case(
        [UPBRINGING_OLD, UPBRINGING_NEW],
        410,
        640,
        ("«Кванториум»", "организациях ДО"),
        ("отчёту upbringing",),
    ),
    "kvantorium_share": lambda: Case(
        [UPBRINGING_NEW], 35, 640, ("«Кванториум»",), ("отчёту upbringing",)
    ),
    "tochka_rosta_school": lambda: Case(
        [UPBRINGING_OLD, UPBRINGING_NEW],
        1,
        1,
        ("для основных и дополнительных программ",),
        ("с центром или без",),
    ),
}


def test_every_indicator_has_a_case() -> None:
    assert {i.id for i in CAT.indicators} <= set(CASES), "add a case for each new indicator"


@pytest.mark.parametrize("ind_id", sorted(CASES))
def test_text_and_computation_hold_together(ind_id: str) -> None:
    if ind_id not in CAT.by_id():
        pytest.fail(f"{ind_id} has a case but is not in the catalogue")
    ind = CAT.get(ind_id)
    case = CASES[ind_id]()
    v = compute_school(CAT, case.facts, case.earlier)[ind_id]
    assert (v.numerator, v.denominator) == pytest.approx((case.numerator, case.denominator))
    want = (
        case.value
        if case.value is not None
        else case.numerator / case.denominator * (1 if ind.unit in ("flag", "coefficient") else 100)
    )
    assert v.value == pytest.approx(want, abs=1e-6)
    for phrase in case.in_numerator:
        assert phrase in ind.numerator, (ind_id, "numerator", phrase)
    for phrase in case.in_denominator:
        assert phrase in ind.denominator, (ind_id, "denominator", phrase)


def test_seed_denominators_missing_give_no_value_not_a_fallback() -> None:
    """Without graduates or rolls in the context the seed's shares are absent."""
    bare = ctx(graduates_9=None, graduates_11=None, enrolled_grade_5=None, enrolled_grade_8=None)
    facts = [
        bare,
        res("ЕГЭ", MATH, "a", 11, test_score=90),
        res("ОГЭ", MATH, "b", 9, mark=2),
        *_vpr_year(MATH),
    ]
    v = compute_school(CAT, facts, [[bare, *_vpr_year(MATH)]])
    for ind in ("ege_high_scorers_share", "gia_below_minimum_share", "vpr_mark2_share_2y_math"):
        assert ind not in v, ind
    assert v["vpr_mark2_share_math"].denominator == 3  # the participants' share stays
    # the two-year share needs the previous year's results, not only its context
    v = compute_school(CAT, [ctx(), *_vpr_year(MATH)], [[ctx()]])
    assert "vpr_mark2_share_2y_math" not in v


def test_correlation_needs_enough_pairs() -> None:
    pairs = [(2, 3), (3, 3), (3, 4), (4, 4), (4, 5), (5, 5), (5, 4), (3, 2), (4, 3)]  # 9
    facts = [res("ВПР", MATH, f"s{i}", 5, mark=m, journal_mark=j) for i, (m, j) in enumerate(pairs)]
    assert "vpr_journal_correlation_math" not in compute_school(CAT, facts)
    same = [res("ВПР", MATH, f"s{i}", 5, mark=4, journal_mark=3 + i % 2) for i in range(12)]
    assert "vpr_journal_correlation_math" not in compute_school(CAT, same)  # ВПР never varies
