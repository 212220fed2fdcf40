"""Test kit for the four directions (assessment, career guidance, principals, upbringing):
the generated rows they need and their expected values, written from the seeds' wording
(seed 000 п. 2.1, 2.4, 2.6, 2.9; seed 003 показатели 1.1, 3.1, 3.3, 3.5, 3.6) over the raw
rows — never from the catalogue's parameters or the service's code.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from shkala_contracts.base import Fact
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.directions import CareerGuidanceReported, UpbringingReported
from shkala_contracts.events.school_context import SchoolContextReported
from shkala_contracts.events.staffing import PrincipalCompetenceAssessed

MATH, RUS, BASE_MATHS, PROFILE_MATHS = (
    "математика", "русский язык", "математика базовая", "математика профильная",
)  # fmt: skip
# functional literacy (функциональная грамотность) and its parts, as the diagnostics name them
LITERACY = (
    "функциональная грамотность", "читательская грамотность", "математическая грамотность",
    "естественнонаучная грамотность", "финансовая грамотность", "глобальные компетенции",
    "креативное мышление",
)  # fmt: skip
# Rosobrnadzor's ЕГЭ minimum scores for admission to a university («порог ЕГЭ … необходимым
# для поступления в ВО», seed 000 п. 2.4), as published for 2024-2026
ADMISSION = {RUS: 36, MATH: 27, PROFILE_MATHS: 27, "физика": 36, "химия": 36,
             "информатика": 40, "биология": 36, "история": 32, "география": 37,
             "обществознание": 42, "литература": 32, "иностранный язык": 22,
             "английский язык": 22}  # fmt: skip
# the ГИА minimum of the compulsory subjects (ЕГЭ: test score; ОГЭ/ГВЭ: a mark «2» fails)
GIA_MINIMUM = {MATH: 27, PROFILE_MATHS: 27, RUS: 24}


def pseudo(rng: random.Random) -> str:
    return "p" + "".join(rng.choice("0123456789abcdef") for _ in range(24))


def direction_facts(schools: list[str], years: tuple[str, ...], seed: int) -> list[Fact]:
    """ВПР of grade 4, functional-literacy diagnostics, the principal's assessment and the
    career-guidance and upbringing reports; their own random stream per school and year (the
    region's other draws stay as they were). Some schools leave a report out."""
    out: list[Fact] = []
    for s in schools:
        for y_i, year in enumerate(years):
            rng = random.Random(f"{seed}|directions|{s}|{year}")
            start = int(year[:4])
            level = rng.random()
            for subject in (MATH, RUS):
                for _ in range(rng.randint(3, 8)):  # ВПР 4 кл.: no journal mark, no tasks
                    out.append(AssessmentResultRecorded(
                        school_id=s, academic_year=year, procedure="ВПР", subject=subject,
                        grade=4, student=pseudo(rng), mark=rng.choice((2, 3, 3, 4, 4, 5)),
                    ))  # fmt: skip
            for subject in ("читательская грамотность", "математическая грамотность"):
                for _ in range(rng.randint(0, 7)):
                    out.append(AssessmentResultRecorded(
                        school_id=s, academic_year=year, procedure="РКР", subject=subject,
                        grade=8, student=pseudo(rng),
                        mark=rng.choice((2, 3, 4, 5) if level > 0.4 else (2, 2, 3)),
                    ))  # fmt: skip
            if rng.random() < 0.8:
                who = pseudo(random.Random(f"{seed}|principal|{s}"))  # the same principal
                out.append(PrincipalCompetenceAssessed(
                    school_id=s, academic_year=year, principal=who,
                    assessed_on=dt.date(start + 1, 3, 1 + y_i),
                    level=rng.choice(("низкий", "средний", "высокий")),
                    score=None if rng.random() < 0.2 else rng.randint(20, 95),
                ))  # fmt: skip
            if rng.random() < 0.85:
                senior = rng.randint(10, 60)
                middle = rng.randint(senior, 400)
                classes = rng.choice((0, 0, 1, 2))
                to_college = rng.randint(0, 6) if rng.random() < 0.9 else None
                profile_gia = None if to_college is None else rng.randint(0, to_college)
                out.append(CareerGuidanceReported(
                    school_id=s, academic_year=year, as_of=dt.date(start + 1, 6, 1),
                    profile_classes=classes, students_10_11=senior,
                    students_in_profile_classes=rng.randint(0, senior) if classes else 0,
                    students_6_11=middle, career_diagnostics_covered=rng.randint(0, middle),
                    grade9_to_college=to_college,
                    grade9_to_college_profile_gia=profile_gia,
                ))  # fmt: skip
            if rng.random() < 0.85:
                total = rng.randint(60, 900)
                extra = rng.randint(0, total)
                programme = rng.random() < 0.85
                centre = rng.random() < 0.5
                out.append(UpbringingReported(
                    school_id=s, academic_year=year, as_of=dt.date(start + 1, 5, 25),
                    students_total=total, upbringing_programme=programme,
                    students_in_upbringing_programme=rng.randint(0, total) if programme else 0,
                    students_additional_education=extra,
                    students_kvantorium=rng.randint(0, extra // 5),
                    tochka_rosta=centre, tochka_rosta_programmes=centre and rng.random() < 0.7,
                ))  # fmt: skip
    return out


def direction_corrections(facts: list[Fact]) -> list[Fact]:
    """Resubmitted reports of the same school and year (a correction replaces them)."""
    career = [f for f in facts if isinstance(f, CareerGuidanceReported)][:2]
    up = [f for f in facts if isinstance(f, UpbringingReported)][:2]
    return [
        *(f.model_copy(update={"career_diagnostics_covered": f.students_6_11}) for f in career),
        *(f.model_copy(update={"students_additional_education": f.students_total}) for f in up),
    ]


def _share_at_least(rows: list[AssessmentResultRecorded], mark: int) -> tuple[int, int]:
    marked = [r for r in rows if r.mark is not None]
    return sum(r.mark >= mark for r in marked), len(marked)


def expected_direction_values(
    facts: list[Fact],
) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(indicator, school, year) -> (numerator, denominator) of the four directions."""
    by: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    for f in facts:
        by[(f.school_id, f.academic_year)].append(f)
    out: dict[tuple[str, str, str], tuple[float, float]] = {}

    def previous(year: str) -> str:
        return f"{int(year[:4]) - 1}/{int(year[:4]) % 100:02d}"

    def results(school: str, year: str) -> list[AssessmentResultRecorded]:
        return [f for f in by.get((school, year), ()) if isinstance(f, AssessmentResultRecorded)]

    def literacy(school: str, year: str) -> tuple[int, int]:
        return _share_at_least([r for r in results(school, year) if r.subject in LITERACY], 3)

    def vpr_quality(school: str, year: str) -> tuple[int, int]:
        rows = [r for r in results(school, year) if r.procedure == "ВПР" and 5 <= r.grade <= 8]
        return _share_at_least(rows, 4)

    for (school, year), rows in by.items():

        def put(ind: str, num: float, den: float, school: str = school, year: str = year) -> None:
            if den:
                out[(ind, school, year)] = (float(num), float(den))

        res = results(school, year)
        ctx = next((f for f in rows if isinstance(f, SchoolContextReported)), None)
        # 1. «оценка результатов освоения ООП НОО, ООО, СОО»: ВПР 4 кл.; ВПР 5-8 кл.; ОГЭ; ЕГЭ
        vpr4 = [r for r in res if r.procedure == "ВПР" and r.grade == 4]
        vpr58 = [r for r in res if r.procedure == "ВПР" and 5 <= r.grade <= 8]
        put("vpr_success_share_noo", *_share_at_least(vpr4, 3))
        put("vpr_quality_share_noo", *_share_at_least(vpr4, 4))
        put("vpr_success_share_ooo", *_share_at_least(vpr58, 3))
        put("vpr_quality_share_ooo", *_share_at_least(vpr58, 4))
        put("oge_success_share", *_share_at_least([r for r in res if r.procedure == "ОГЭ"], 3))
        scores = [r.test_score for r in res if r.procedure == "ЕГЭ" and r.test_score is not None]
        put("ege_mean_test_score", sum(scores), len(scores))
        # seed 003 3.1: below the minimum in the compulsory subjects, of those who sat ГИА
        sat: dict[str, bool] = {}
        for r in res:
            if r.procedure in ("ОГЭ", "ЕГЭ", "ГВЭ") and r.subject in (MATH, RUS, BASE_MATHS):
                below = (
                    r.test_score < GIA_MINIMUM[r.subject]
                    if r.test_score is not None
                    else r.mark == 2
                )
                sat[r.student] = sat.get(r.student, False) or below
        put("gia_below_minimum_share_sat", sum(sat.values()), len(sat))
        put("functional_literacy_share", *literacy(school, year))
        # seed 003 3.3 and 1.1: «положительная динамика» — up on the previous year
        for ind, measure in (
            ("functional_literacy_dynamics", literacy),
            ("vpr_quality_dynamics_ooo", vpr_quality),
        ):
            (n1, d1), (n0, d0) = measure(school, year), measure(school, previous(year))
            if d1 and d0:
                put(ind, int(n1 / d1 > n0 / d0), 1)
        # 4. seed 000 п. 2.4: 11th-graders over the admission minimum in 3+ subjects
        ege = [r for r in res if r.procedure == "ЕГЭ"]
        passed: dict[str, set[str]] = defaultdict(set)
        for r in ege:
            if r.test_score is not None and r.test_score >= ADMISSION.get(r.subject, 101):
                passed[r.student].add(r.subject)
        g11 = getattr(ctx, "graduates_11", None)
        if ege and g11:
            put("ege_three_subjects_passed_share", sum(len(v) >= 3 for v in passed.values()), g11)
        career = [f for f in rows if isinstance(f, CareerGuidanceReported)]
        if career:
            c = max(career, key=lambda f: f.as_of)
            put("profile_classes_school", int(c.profile_classes > 0), 1)
            put("profile_students_share", c.students_in_profile_classes, c.students_10_11)
            put("career_diagnostics_share", c.career_diagnostics_covered, c.students_6_11)
            g9 = getattr(ctx, "graduates_9", None)
            if c.grade9_to_college is not None and g9:
                put("grade9_to_college_share", min(c.grade9_to_college, g9), g9)
            if c.grade9_to_college and c.grade9_to_college_profile_gia is not None:
                put("grade9_college_profile_gia_share", c.grade9_to_college_profile_gia,
                    c.grade9_to_college)  # fmt: skip
        # 6. seed 000 п. 2.6: the principals' competence assessments (the latest of each)
        assessed = [f for f in rows if isinstance(f, PrincipalCompetenceAssessed)]
        if ctx is not None or assessed:
            put("principal_assessed", int(bool(assessed)), 1)
        last: dict[str, PrincipalCompetenceAssessed] = {}
        for f in sorted(assessed, key=lambda f: f.assessed_on):
            last[f.principal] = f
        put("principal_high_level_share", sum(f.level == "высокий" for f in last.values()),
            len(last))  # fmt: skip
        put("principal_low_level_share", sum(f.level == "низкий" for f in last.values()),
            len(last))  # fmt: skip
        with_score = [f.score for f in last.values() if f.score is not None]
        put("principal_mean_score", sum(with_score), len(with_score))
        # 9. seed 000 п. 2.9, seed 003 3.5, 3.6: the upbringing report
        up = [f for f in rows if isinstance(f, UpbringingReported)]
        if up:
            u = max(up, key=lambda f: f.as_of)
            put("upbringing_programme_school", int(u.upbringing_programme), 1)
            put("upbringing_coverage_share", u.students_in_upbringing_programme, u.students_total)
            put("additional_education_share", u.students_additional_education, u.students_total)
            put("kvantorium_share", u.students_kvantorium, u.students_total)
            put("tochka_rosta_school", int(u.tochka_rosta_programmes), 1)
    return out


def region_share_of_schools(
    values: dict[tuple[str, str, str], tuple[float, float]], ind: str, year: str,
    schools: set[str],
) -> Any:  # fmt: skip
    """«Доля ОО …» (seed 003): of the schools with a value, the share with 1 (in %)."""
    got = [values[(ind, s, year)] for s in schools if (ind, s, year) in values]
    return 100 * sum(n for n, _ in got) / len(got) if got else None
