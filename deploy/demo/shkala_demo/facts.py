"""The rows of every upload format, drawn from the region.

``native_rows(region, kind)`` yields dicts keyed by the format's field names with Python
values (``datetime.date``, ``bool``, ``int``, tuples); :func:`rows` turns them into JSON-API
rows (ISO dates, lists). Each (kind, school) pair draws from its own generator seeded from
the region seed, so a file never depends on which other files were produced, or in what order.
Rows carry raw source ids (``S-000123``, ``T-0042``, ``D-0001``); ingest pseudonymises them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from shkala_contracts.formats import FORMATS
from shkala_contracts.vocabulary import EGE_MATHS_BASE
from shkala_demo.network import network_pairs
from shkala_demo.planned_results import vpr_planned_results
from shkala_demo.protocols import (
    EGE_ELECTIVES,
    EGE_MATHS,
    EGE_SCALE,
    MATHS,
    OGE,
    OLYMPIAD_SUBJECTS,
    RDR_GRADES,
    RDR_MAX,
    RDR_SUBJECTS,
    RUSSIAN,
    VPR_GRADES,
    vpr_protocols,
)
from shkala_demo.world import Region, School, Student, Teacher, derive_seed

Row = dict[str, Any]
LETTERS = "АБВГДЕЖИКЛМНОПРСТУФХЦЧШЭЮЯ"
SCHOOL_MONTHS = (9, 10, 11, 12, 1, 2, 3, 4, 5)
# Lessons a week by grade, and teaching weeks per month (holidays taken out).
_WEEKLY_LESSONS = {1: 21, 2: 23, 3: 23, 4: 23, 5: 29, 6: 30, 7: 32, 8: 33, 9: 33, 10: 34, 11: 34}
_WEEKS = {9: 4.2, 10: 3.8, 11: 3.8, 12: 4.0, 1: 2.8, 2: 4.0, 3: 3.4, 4: 4.2, 5: 3.2}


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def class_label(grade: int, student: Student) -> str:
    return f"{grade}{LETTERS[student.class_index % len(LETTERS)]}"


def start_year(academic_year: str) -> int:
    return int(academic_year[:4])


def _rng(region: Region, kind: str, school: School) -> random.Random:
    return random.Random(derive_seed(region.spec.seed, kind, school.id))


def _u(region: Region, *parts: object) -> float:
    """A uniform [0, 1) number fixed by the seed and ``parts`` (shared by several files)."""
    return derive_seed(region.spec.seed, *parts) / 2**64


def _by_grade(school: School, year: int) -> dict[int, list[Student]]:
    out: dict[int, list[Student]] = defaultdict(list)
    for student, grade in school.roster(year):
        out[grade].append(student)
    return out


def _active(teacher: Teacher, year: int) -> bool:
    return teacher.first_year <= year <= teacher.last_year


def _journal_mark(rng: random.Random, school: School, ability: float) -> int:
    """The student's term mark: teachers rarely give 2; lenient schools give much more."""
    latent = 3.7 + 0.85 * ability + rng.gauss(0.0, 0.45)
    if school.nonobjective_journal:
        latent += 1.4
    mark = min(5, max(2, round(latent)))
    if mark == 2 and rng.random() < 0.6:
        mark = 3
    return mark


def _subject_ability(student: Student, subject: str) -> float:
    if subject.startswith(MATHS):
        return student.ability + student.tilt / 2
    if subject == RUSSIAN:
        return student.ability - student.tilt / 2
    return student.ability


def _medalist(region: Region, school: School, student: Student) -> bool:
    """Claims a medal: top term marks; lenient schools hand them out far more generously."""
    cut = 0.35 if school.nonobjective_journal else 1.25
    return student.ability + 0.3 * (_u(region, "medal", student.id) - 0.5) >= cut


# --------------------------------------------------------------------------------- org units


def _org_units(region: Region) -> Iterator[Row]:
    for s in region.schools:
        m = region.municipalities[s.municipality]
        yield {
            "region_id": region.id,
            "region_name": region.name,
            "municipality_id": m.id,
            "municipality_name": m.name,
            "school_id": s.id,
            "name": s.name,
            "kind": s.kind,
            "rural": s.rural,
            "resource_centre_id": s.resource_centre_id,
            "network_leader_id": s.network_leader_id,
        }


# --------------------------------------------------------------------------------- assessment


_BIN = 0.05
_BINS = 241  # ability -6 .. +6 in steps of 0.05


@functools.cache
def _task_cdfs(subject: str, grade: int) -> tuple[tuple[tuple[float, ...], ...], ...]:
    """Per ability bin, per task: the binomial CDF of the points (all but the last value).

    A student of ability ``a`` scores each of a task's points with probability
    ``sigmoid(a - difficulty + 0.6)``; tabulating it keeps 300 000 protocols fast.
    """
    protocol = next(p for p in vpr_protocols(grade) if p.subject == subject)
    table = []
    for b in range(_BINS):
        a = (b - _BINS // 2) * _BIN
        per_task = []
        for t in protocol.tasks:
            p = sigmoid(a - t.difficulty + 0.6)
            n = t.max_points
            cdf, acc = [], 0.0
            for k in range(n):
                acc += math.comb(n, k) * p**k * (1 - p) ** (n - k)
                cdf.append(acc)
            per_task.append(tuple(cdf))
        table.append(tuple(per_task))
    return tuple(table)


def _ability_bin(a: float) -> int:
    return min(_BINS - 1, max(0, round(a / _BIN) + _BINS // 2))


def _vpr(region: Region) -> Iterator[Row]:
    for s in region.schools:
        rng = _rng(region, "vpr", s)
        random_ = rng.random
        for y, year in enumerate(region.years):
            spring = start_year(year) + 1
            grades = _by_grade(s, y)
            for grade in VPR_GRADES:
                if grade not in grades:
                    continue
                for pi, protocol in enumerate(vpr_protocols(grade)):
                    held = dt.date(spring, 4, 1) + dt.timedelta(
                        days=3 * pi + grade % 3 + rng.randrange(0, 12)
                    )
                    observer = False if s.nonobjective_vpr else random_() < 0.6
                    inflate = 1.4 if s.nonobjective_vpr else 0.0
                    cdfs = _task_cdfs(protocol.subject, grade)
                    numbers = [(t.number, t.max_points) for t in protocol.tasks]
                    # the class's teacher of the subject (used only with the teacher's consent)
                    subject_teachers = sorted(
                        t.id for t in _teachers_of(s, y) if t.subject == protocol.subject
                    )
                    for st in grades[grade]:
                        if random_() < 0.06:  # absent on the day
                            continue
                        a = _subject_ability(st, protocol.subject) + rng.gauss(0.0, 0.3)
                        tasks = []
                        total = 0
                        for (number, max_points), cdf in zip(
                            numbers, cdfs[_ability_bin(a + inflate)], strict=True
                        ):
                            u = random_()
                            points = 0
                            for c in cdf:
                                if u < c:
                                    break
                                points += 1
                            total += points
                            tasks.append((number, points, max_points))
                        yield {
                            "school_id": s.id,
                            "academic_year": year,
                            "subject": protocol.subject,
                            "grade": grade,
                            "class_label": class_label(grade, st),
                            "student_id": st.id,
                            "held_on": held,
                            "primary_score": total,
                            "mark": protocol.mark(total),
                            "journal_mark": _journal_mark(rng, s, a),
                            "public_observer": observer,
                            "tasks": tuple(tasks),
                            "teacher_id": subject_teachers[st.class_index % len(subject_teachers)]
                            if subject_teachers
                            else None,
                        }


_OGE_DAYS = {RUSSIAN: (5, 27), MATHS: (6, 3)}
_OGE_ELECTIVE_WEIGHTS = {
    "обществознание": 0.34,
    "информатика": 0.2,
    "география": 0.16,
    "биология": 0.12,
    "английский язык": 0.08,
    "химия": 0.05,
    "физика": 0.05,
}
_EGE_DAYS = {RUSSIAN: (5, 30), EGE_MATHS: (5, 26)}
_EGE_ELECTIVE_WEIGHTS = dict.fromkeys(EGE_ELECTIVES, 1.0) | {
    "обществознание": 4.0,
    "биология": 2.0,
    "информатика": 2.0,
    "физика": 1.6,
    "история": 1.6,
    "химия": 1.4,
}


def _gia(region: Region) -> Iterator[Row]:
    electives_oge = list(_OGE_ELECTIVE_WEIGHTS)
    oge_weights = list(_OGE_ELECTIVE_WEIGHTS.values())
    electives_ege = list(_EGE_ELECTIVE_WEIGHTS)
    ege_weights = list(_EGE_ELECTIVE_WEIGHTS.values())
    for s in region.schools:
        rng = _rng(region, "gia", s)
        base_rng = _rng(region, "gia-base-maths", s)
        journal = _rng(region, "gia-journal", s)  # own stream: the exam draws stay as they were
        for y, year in enumerate(region.years):
            summer = start_year(year) + 1
            grades = _by_grade(s, y)
            for st in grades.get(9, ()):
                elective = rng.choices(electives_oge, oge_weights)[0]
                for subject in (RUSSIAN, MATHS, elective):
                    scale = OGE[subject]
                    a = _subject_ability(st, subject)
                    share = sigmoid(scale.logit_share(a) + rng.gauss(0.0, 0.3))
                    score = min(scale.max_score, max(0, round(scale.max_score * share)))
                    three = scale.cuts[0]
                    if s.boundary_anomaly and subject in _OGE_DAYS and three - 3 <= score < three:
                        score = three  # pulled up to the mark-3 line
                    month, day = (
                        _OGE_DAYS[subject]
                        if subject in _OGE_DAYS
                        else (6, 10 + electives_oge.index(subject))
                    )
                    yield {
                        "school_id": s.id,
                        "academic_year": year,
                        "procedure": "ОГЭ",
                        "subject": subject,
                        "grade": 9,
                        "class_label": class_label(9, st),
                        "student_id": st.id,
                        "held_on": dt.date(summer, month, day),
                        "primary_score": score,
                        "mark": scale.mark(score),
                        "journal_mark": _journal_mark(journal, s, a),
                        "public_observer": rng.random() < 0.9,
                    }
            for st in grades.get(11, ()):
                medalist = _medalist(region, s, st)
                subjects = [RUSSIAN]
                if rng.random() < sigmoid(1.2 * st.ability + 0.3):
                    subjects.append(EGE_MATHS)
                picked: set[str] = set()
                for _ in range(1 if rng.random() < 0.6 else 2):
                    picked.add(rng.choices(electives_ege, ege_weights)[0])
                subjects += sorted(picked)
                for subject in subjects:
                    a = _subject_ability(st, subject)
                    mean, slope = EGE_SCALE[subject]
                    score = min(100, max(0, round(mean + slope * a + rng.gauss(0.0, 7.0))))
                    month, day = (
                        _EGE_DAYS[subject]
                        if subject in _EGE_DAYS
                        else (6, 3 + electives_ege.index(subject))
                    )
                    yield {
                        "school_id": s.id,
                        "academic_year": year,
                        "procedure": "ЕГЭ",
                        "subject": subject,
                        "grade": 11,
                        "class_label": class_label(11, st),
                        "student_id": st.id,
                        "held_on": dt.date(summer, month, day),
                        "test_score": score,
                        "medalist": medalist,
                        "public_observer": True,
                    }
                if EGE_MATHS not in subjects:
                    # ЕГЭ базовая математика: a mark 2-5, no test score (its own draws, so
                    # the other rows stay as they were)
                    a = _subject_ability(st, MATHS) + base_rng.gauss(0.0, 0.5)
                    yield {
                        "school_id": s.id,
                        "academic_year": year,
                        "procedure": "ЕГЭ",
                        "subject": EGE_MATHS_BASE,
                        "grade": 11,
                        "class_label": class_label(11, st),
                        "student_id": st.id,
                        "held_on": dt.date(summer, 6, 1),
                        "mark": 2 if a < -1.4 else 3 if a < -0.3 else 4 if a < 0.7 else 5,
                        "medalist": medalist,
                        "public_observer": True,
                    }


def _results(region: Region) -> Iterator[Row]:
    """РДР: regional diagnostic works in maths and Russian, grades 6 and 9, in December."""
    for s in region.schools:
        rng = _rng(region, "results", s)
        for y, year in enumerate(region.years):
            grades = _by_grade(s, y)
            for grade in RDR_GRADES:
                for si, subject in enumerate(RDR_SUBJECTS):
                    observer = False if s.nonobjective_vpr else rng.random() < 0.3
                    held = dt.date(start_year(year), 12, 9 + 2 * si + (grade == 9))
                    for st in grades.get(grade, ()):
                        if rng.random() < 0.05:
                            continue
                        a = _subject_ability(st, subject) + rng.gauss(0.0, 0.3)
                        score = round(RDR_MAX * sigmoid(1.1 * a + 0.8 + rng.gauss(0.0, 0.3)))
                        share = score / RDR_MAX
                        mark = 2 if share < 0.3 else 3 if share < 0.6 else 4 if share < 0.8 else 5
                        yield {
                            "school_id": s.id,
                            "academic_year": year,
                            "procedure": "РДР",
                            "subject": subject,
                            "grade": grade,
                            "class_label": class_label(grade, st),
                            "student_id": st.id,
                            "held_on": held,
                            "primary_score": score,
                            "mark": mark,
                            "journal_mark": _journal_mark(rng, s, a),
                            "public_observer": observer,
                        }


_OLYMPIAD_CUTS = {"школьный": (88, 70), "муниципальный": (94, 80), "региональный": (97, 86)}
"""Scores (0-100) a winner and a prize-winner need at each stage."""


def _olympiads(region: Region) -> Iterator[Row]:
    """ВсОШ: school stage (grades 4-11), municipal (7-11) and regional (9-11)."""
    for s in region.schools:
        rng = _rng(region, "olympiads", s)
        for y, year in enumerate(region.years):
            autumn = start_year(year)
            base = 0.22 if not s.low_results else 0.1
            for st, grade in s.roster(y):
                if grade < 4 or rng.random() > base + 0.15 * sigmoid(st.ability):
                    continue
                n = 1 + (rng.random() < 0.4) + (rng.random() < 0.2)
                pool = OLYMPIAD_SUBJECTS if grade >= 5 else (MATHS, RUSSIAN)
                subjects = rng.sample(pool, min(n, len(pool)))
                for subject in sorted(subjects):
                    a = _subject_ability(st, subject)
                    stages = (
                        ("школьный", dt.date(autumn, 10, 1 + OLYMPIAD_SUBJECTS.index(subject))),
                        ("муниципальный", dt.date(autumn, 11, 10 + grade)),
                        ("региональный", dt.date(autumn + 1, 1, 15 + grade)),
                    )
                    for stage, held in stages:
                        if stage == "муниципальный" and grade < 7:
                            break
                        if stage == "региональный" and grade < 9:
                            break
                        score = min(100, max(0, round(50 + 20 * a + rng.gauss(0.0, 12.0))))
                        winner, prize = _OLYMPIAD_CUTS[stage]
                        status = (
                            "победитель"
                            if score >= winner
                            else "призёр"
                            if score >= prize
                            else "участник"
                        )
                        yield {
                            "school_id": s.id,
                            "academic_year": year,
                            "procedure": "ВсОШ",
                            "olympiad_stage": stage,
                            "subject": subject,
                            "grade": grade,
                            "student_id": st.id,
                            "held_on": held,
                            "olympiad_status": status,
                            "primary_score": score,
                        }
                        if status == "участник" or rng.random() < 0.3:
                            break  # only winners and prize-winners go on, and not all


# --------------------------------------------------------------------------------- attendance


def month_period(academic_year: str, month: int) -> tuple[dt.date, dt.date]:
    year = start_year(academic_year) + (month < 9)
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _attendance(region: Region) -> Iterator[Row]:
    for s in region.schools:
        rng = _rng(region, "attendance", s)
        for year in region.years:
            y = region.years.index(year)
            periods = [month_period(year, m) for m in SCHOOL_MONTHS]
            roster = list(s.roster(y))
            for (start, end), month in zip(periods, SCHOOL_MONTHS, strict=True):
                for st, grade in roster:
                    total = round(_WEEKLY_LESSONS[grade] * _WEEKS[month])
                    valid = 0
                    if rng.random() < 0.3:  # ill for a few days
                        valid = min(total, rng.randint(1, 8) * (4 + grade // 3))
                    unexcused = 0
                    if st.absentee:
                        unexcused = round(total * rng.uniform(0.12, 0.35))
                    elif rng.random() < 0.05:
                        unexcused = rng.randint(1, 4)
                    unexcused = min(unexcused, total - valid)
                    for reason, missed in (("уважительная", valid), ("неуважительная", unexcused)):
                        if missed:
                            yield {
                                "school_id": s.id,
                                "academic_year": year,
                                "student_id": st.id,
                                "grade": grade,
                                "class_label": class_label(grade, st),
                                "period_start": start,
                                "period_end": end,
                                "lessons_missed": missed,
                                "lessons_total": total,
                                "reason": reason,
                            }


# --------------------------------------------------------------------------------- context


def _school_context(region: Region) -> Iterator[Row]:
    suspended = region.designed_accreditation_suspended
    last = len(region.years) - 1
    for s in region.schools:
        rng = _rng(region, "school-context", s)
        poor = s.poor_context
        remote = rng.random() < (0.85 if poor else 0.15 if s.rural else 0.0)
        infra = rng.random() < (0.8 if poor else 0.15 if s.rural else 0.03)
        for y, year in enumerate(region.years):
            total = s.enrolled(y)
            rolls = _by_grade(s, y)  # seed 002's denominators: graduates, rolls per parallel

            def count(rate: float, total: int = total, rng: random.Random = rng) -> int:
                return min(total, round(total * rate * rng.uniform(0.5, 1.5)))

            yield {
                "school_id": s.id,
                "academic_year": year,
                "as_of": dt.date(start_year(year), 9, 20),
                "students_total": total,
                "on_juvenile_register": count(0.035 if poor else 0.004),
                "migrant_or_low_russian": count(0.14 if poor else 0.015),
                "special_needs_confirmed": count(0.1 if poor else 0.04),
                "not_attested": count(0.035 if poor else 0.004),
                "remote": remote,
                "small_school": s.small,
                "infrastructure_deficit": infra,
                "accreditation": "приостановлена"
                if s.id in suspended and y == last
                else "действует",
                "graduates_9": len(rolls.get(9, ())) if s.max_grade >= 9 else None,
                "graduates_11": len(rolls.get(11, ())) if s.max_grade >= 11 else None,
                **{f"enrolled_grade_{g}": len(rolls.get(g, ())) for g in range(1, s.max_grade + 1)},
            }


# --------------------------------------------------------------------------------- staffing


def _staffing_positions(region: Region) -> Iterator[Row]:
    specialists = (
        "педагог-психолог",
        "учитель-логопед",
        "учитель-дефектолог",
        "социальный педагог",
        "педагог доп. образования",
    )
    for s in region.schools:
        rng = _rng(region, "staffing-positions", s)
        short = s.poor_context
        for y, year in enumerate(region.years):
            as_of = dt.date(start_year(year), 9, 1)
            active = [t for t in s.teachers if _active(t, y)]
            by_subject: dict[str, int] = defaultdict(int)
            for t in active:
                if t.subject:
                    by_subject[t.subject] += 1
            for subject in sorted(by_subject):
                filled = round(2 * by_subject[subject] * rng.uniform(1.0, 1.3)) / 2
                vacancies = 0
                if rng.random() < (0.35 if short else 0.06):
                    vacancies = rng.randint(1, 2 if short else 1)
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "as_of": as_of,
                    "position": "учитель",
                    "subject": subject,
                    "posts": filled + vacancies,
                    "filled": filled,
                    "vacancies": vacancies,
                }
            present = {t.position for t in active if t.subject is None}
            for position in specialists:
                posts = 1.0 if s.latest_size >= 100 else 0.5
                if position in present:
                    filled, vacancies = posts, 0
                elif short or rng.random() < 0.5:
                    filled, vacancies = 0.0, 1
                else:
                    continue  # no such post in this school
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "as_of": as_of,
                    "position": position,
                    "posts": posts,
                    "filled": filled,
                    "vacancies": vacancies,
                }


def _staff_movements(region: Region) -> Iterator[Row]:
    last = len(region.years) - 1
    for s in region.schools:
        rng = _rng(region, "staff-movements", s)
        for t in s.teachers:
            if t.first_year > 0:
                year = region.years[t.first_year]
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "teacher_id": t.id,
                    "position": t.position,
                    "kind": "принят",
                    "on": dt.date(start_year(year), 9, rng.randint(1, 15)),
                }
            if t.last_year < last:
                year = region.years[t.last_year]
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "teacher_id": t.id,
                    "position": t.position,
                    "kind": "уволен",
                    "on": dt.date(start_year(year) + 1, 6, rng.randint(1, 30)),
                }


DEFICIT_TOPICS = (
    "оценивание образовательных результатов",
    "функциональная грамотность",
    "работа с обучающимися с трудностями в обучении",
    "ФГОС: планирование результатов",
    "цифровые образовательные ресурсы",
    "работа с детьми с ОВЗ",
    "работа с одарёнными детьми",
    "классное руководство",
)
COURSES = (
    # (name, hours, on students at risk of failure)
    ("Работа с обучающимися с рисками учебной неуспешности", 36, True),
    ("Объективность оценивания: ВПР и ГИА", 24, False),
    ("Формирование функциональной грамотности", 72, False),
    ("Преподавание по обновлённым ФГОС", 36, False),
    ("Инклюзивное образование: дети с ОВЗ", 72, True),
    ("Цифровая образовательная среда", 36, False),
    ("Подготовка к ГИА: трудные задания", 48, True),
    ("Наставничество в образовательной организации", 36, False),
)


def _teachers_of(s: School, y: int) -> list[Teacher]:
    return [t for t in s.teachers if _active(t, y) and t.position == "учитель"]


def _diagnosed(region: Region, s: School, t: Teacher, y: int) -> bool:
    """Diagnosed for deficits in year ``y`` (shared by diagnostics and individual routes)."""
    rate = 0.85 if s.low_results and y > 0 else 0.6 if s.low_results or s.poor_context else 0.28
    return _u(region, "diagnosed", t.id, y) < rate


def _deficit_diagnostics(region: Region) -> Iterator[Row]:
    for s in region.schools:
        rng = _rng(region, "deficit-diagnostics", s)
        for y, year in enumerate(region.years):
            for t in _teachers_of(s, y):
                if not _diagnosed(region, s, t, y):
                    continue
                k = rng.choices((0, 1, 2, 3), (0.2, 0.35, 0.3, 0.15))[0]
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "teacher_id": t.id,
                    "diagnosed_on": dt.date(start_year(year), 10, rng.randint(1, 31)),
                    "deficits": tuple(sorted(rng.sample(DEFICIT_TOPICS, k))),
                }


def _courses(region: Region) -> Iterator[Row]:
    for s in region.schools:
        rng = _rng(region, "courses", s)
        support = s.low_results or s.poor_context
        for y, year in enumerate(region.years):
            for t in _teachers_of(s, y):
                if rng.random() > (0.6 if support else 0.35):
                    continue
                weights = [3.0 if risk and support else 1.0 for _, _, risk in COURSES]
                n = 2 if rng.random() < 0.15 else 1
                picked: set[int] = set()
                while len(picked) < n:
                    picked.add(rng.choices(range(len(COURSES)), weights)[0])
                for i in sorted(picked):
                    name, hours, risk = COURSES[i]
                    autumn = start_year(year)
                    month = rng.choice(SCHOOL_MONTHS)
                    yield {
                        "school_id": s.id,
                        "academic_year": year,
                        "teacher_id": t.id,
                        "course": name,
                        "hours": hours,
                        "completed_on": dt.date(autumn + (month < 9), month, rng.randint(1, 28)),
                        "on_own_request": rng.random() < 0.45,
                        "on_students_at_risk": risk,
                    }


def _routes(region: Region) -> Iterator[Row]:
    last = len(region.years) - 1
    for s in region.schools:
        rng = _rng(region, "routes", s)
        for y, year in enumerate(region.years):
            for t in _teachers_of(s, y):
                if not _diagnosed(region, s, t, y) or rng.random() > 0.6:
                    continue
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "teacher_id": t.id,
                    "opened_on": dt.date(start_year(year), 11, rng.randint(1, 30)),
                    "completed": rng.random() < (0.2 if y == last else 0.7),
                }


def _mentoring(region: Region) -> Iterator[Row]:
    schools = {s.id: s for s in region.schools}
    for s in region.schools:
        rng = _rng(region, "mentoring", s)
        for y, year in enumerate(region.years):
            teachers = _teachers_of(s, y)
            seniors = [t for t in teachers if not t.novice]
            leader = schools.get(s.network_leader_id or "")
            outside = _teachers_of(leader, y) if leader else []
            for mentee in teachers:
                if not mentee.novice and rng.random() > (0.08 if s.low_results else 0.02):
                    continue
                if outside and rng.random() < 0.6:
                    pool, mentor_school = outside, leader
                else:
                    pool, mentor_school = seniors, None
                same = [t for t in pool if t.subject == mentee.subject and t is not mentee]
                choices = same or [t for t in pool if t is not mentee]
                if not choices:
                    continue
                mentor = rng.choice(choices)
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "mentor_id": mentor.id,
                    "mentee_id": mentee.id,
                    "mentor_school_id": mentor_school.id if mentor_school else None,
                }


def _principals(region: Region) -> Iterator[Row]:
    for s in region.schools:
        rng = _rng(region, "principals", s)
        for year in region.years:
            score = min(100.0, max(0.0, round(68 + 14 * s.mean_ability + rng.gauss(0, 8), 1)))
            yield {
                "school_id": s.id,
                "academic_year": year,
                "principal_id": s.principal_id,
                "assessed_on": dt.date(start_year(year) + 1, 3, rng.randint(1, 31)),
                "level": "низкий" if score < 55 else "средний" if score < 78 else "высокий",
                "score": score,
            }


def _burnout(region: Region) -> Iterator[Row]:
    for s in region.schools:
        rng = _rng(region, "burnout", s)
        weights = (0.4, 0.38, 0.22) if s.poor_context or s.low_results else (0.56, 0.33, 0.11)
        for y, year in enumerate(region.years):
            for t in _teachers_of(s, y):
                if rng.random() > 0.3:
                    continue
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "teacher_id": t.id,
                    "diagnosed_on": dt.date(start_year(year) + 1, 2, rng.randint(1, 28)),
                    "level": rng.choices(("низкий", "средний", "высокий"), weights)[0],
                }


CONTESTS = (
    "Учитель года",
    "Педагогический дебют",
    "Классный руководитель года",
    "Сердце отдаю детям",
)


def _contests(region: Region) -> Iterator[Row]:
    for s in region.schools:
        rng = _rng(region, "contests", s)
        for y, year in enumerate(region.years):
            for t in s.teachers:
                if not _active(t, y) or rng.random() > 0.04:
                    continue
                result = rng.choices(("участник", "призёр", "победитель"), (0.75, 0.18, 0.07))[0]
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "teacher_id": t.id,
                    "contest": rng.choice(CONTESTS),
                    "level": rng.choices(("муниципальный", "региональный"), (0.8, 0.2))[0],
                    "result": result,
                }


def _consents(region: Region) -> Iterator[Row]:
    for s in region.schools:
        rng = _rng(region, "consents", s)
        for y, year in enumerate(region.years):
            for t in _teachers_of(s, y):
                if rng.random() > 0.1:
                    continue
                yield {
                    "school_id": s.id,
                    "academic_year": year,
                    "teacher_id": t.id,
                    "granted": rng.random() < 0.85,
                }


def _federal_list(region: Region) -> Iterator[Row]:
    """The Рособрнадзор list for the latest year, as the region received it (seed 004)."""
    year = region.years[-1]
    for sid in sorted(region.designed_federal_list):
        yield {
            "school_id": sid,
            "academic_year": year,
            "procedure": "ВПР",
            "listed": True,
            "subjects": ("математика", "русский язык"),
            "grades": (5, 8),
            "document": f"перечень Рособрнадзора по результатам ВПР {year} (демо)",
        }


GENERATORS: dict[str, Callable[[Region], Iterator[Row]]] = {
    "org-units": _org_units,
    "vpr": _vpr,
    "gia": _gia,
    "results": _results,
    "olympiads": _olympiads,
    "attendance": _attendance,
    "school-context": _school_context,
    "federal-objectivity-list": _federal_list,
    "staffing-positions": _staffing_positions,
    "staff-movements": _staff_movements,
    "deficit-diagnostics": _deficit_diagnostics,
    "courses": _courses,
    "routes": _routes,
    "mentoring": _mentoring,
    "principals": _principals,
    "burnout": _burnout,
    "contests": _contests,
    "consents": _consents,
    "network-pairs": network_pairs,  # deploy/demo/shkala_demo/network.py
    "vpr-planned-results": vpr_planned_results,
}
KINDS = tuple(FORMATS)
"""Every upload format kind, in the order the files are written."""


def native_rows(region: Region, kind: str) -> Iterator[Row]:
    """Rows with Python values; None-valued fields are left out."""
    try:
        generate = GENERATORS[kind]
    except KeyError:
        raise ValueError(f"unknown format kind {kind!r}; known: {', '.join(FORMATS)}") from None
    for row in generate(region):
        yield {k: v for k, v in row.items() if v is not None}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


def rows(region: Region, kind: str) -> Iterator[Row]:
    """JSON-API rows for ``kind``, keyed by the format's field names, raw ids (not pseudonyms).

    Dates are ISO strings; ВПР ``tasks`` is a list of ``{"task", "points", "max_points"}``.
    """
    for row in native_rows(region, kind):
        out = {k: _json_value(v) for k, v in row.items() if k != "tasks"}
        if "tasks" in row:
            out["tasks"] = [{"task": n, "points": p, "max_points": m} for n, p, m in row["tasks"]]
        yield out


# the four directions' files, and functional literacy added to ``results`` (directions.py)
from shkala_demo.directions import GENERATORS as _DIRECTIONS  # noqa: E402

GENERATORS.update(_DIRECTIONS)
