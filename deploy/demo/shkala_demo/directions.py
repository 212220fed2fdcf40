"""Rows of the four directions' uploads (seed 000 п. 2.1, 2.4, 2.9; seed 003 3.3, 3.5, 3.6):
functional-literacy diagnostics (РКР, added to the ``results`` file), the career-guidance
report and the upbringing report of every school and year.

Each (kind, school) pair draws from its own generator seeded from the region seed (as in
:mod:`shkala_demo.facts`), so the other files stay exactly as they were. The schools built
to have low results or a poor context report weaker figures; the second year improves for
most schools, so «положительная динамика» (seed 003) has schools on both sides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from shkala_demo import facts
from shkala_demo.facts import Row, _by_grade, _journal_mark, _rng, class_label, sigmoid, start_year
from shkala_demo.world import Region, School

LITERACY = ("читательская грамотность", "математическая грамотность")
LITERACY_GRADE = 8


def _weak(s: School) -> bool:
    return s.low_results or s.poor_context


def _literacy(region: Region) -> Iterator[Row]:
    """Regional diagnostics of functional literacy (РКР), grade 8, in February."""
    for s in region.schools:
        rng = _rng(region, "literacy", s)
        trend = rng.gauss(0.25, 0.35)  # most schools improve from the first year to the next
        for y, year in enumerate(region.years):
            students = _by_grade(s, y).get(LITERACY_GRADE, ())
            for si, subject in enumerate(LITERACY):
                held = dt.date(start_year(year) + 1, 2, 10 + 3 * si)
                for st in students:
                    if rng.random() < 0.07:
                        continue  # absent on the day
                    a = st.ability + (-0.6 if _weak(s) else 0.0) + trend * y
                    share = sigmoid(1.2 * a + 0.5 + rng.gauss(0.0, 0.4))
                    mark = 2 if share < 0.35 else 3 if share < 0.6 else 4 if share < 0.82 else 5
                    yield {
                        "school_id": s.id,
                        "academic_year": year,
                        "procedure": "РКР",
                        "subject": subject,
                        "grade": LITERACY_GRADE,
                        "class_label": class_label(LITERACY_GRADE, st),
                        "student_id": st.id,
                        "held_on": held,
                        "primary_score": round(20 * share),
                        "mark": mark,
                        "journal_mark": _journal_mark(rng, s, a),
                        "public_observer": rng.random() < 0.3,
                    }


def _results_and_literacy(region: Region) -> Iterator[Row]:
    yield from facts._results(region)
    yield from _literacy(region)


def _career_guidance(region: Region) -> Iterator[Row]:
    """Profile classes, career diagnostics and grade-9 graduates going to colleges (ПОО)."""
    for s in region.schools:
        if s.max_grade < 9:
            continue  # a primary school has none of it
        rng = _rng(region, "career-guidance", s)
        profile = s.max_grade >= 11 and not _weak(s) and rng.random() < 0.7
        for y, year in enumerate(region.years):
            rolls = _by_grade(s, y)
            senior = sum(len(rolls.get(g, ())) for g in (10, 11))
            middle = sum(len(rolls.get(g, ())) for g in range(6, 12))
            graduates_9 = len(rolls.get(9, ()))
            to_college = round(graduates_9 * rng.uniform(0.45, 0.75 if _weak(s) else 0.55))
            covered = rng.uniform(0.3, 0.6) if _weak(s) else rng.uniform(0.6, 0.95)
            classes = (1 + (senior > 40)) if profile and senior else 0
            yield {
                "school_id": s.id,
                "academic_year": year,
                "as_of": dt.date(start_year(year) + 1, 6, 1),
                "profile_classes": classes,
                "students_10_11": senior,
                "students_in_profile_classes": round(senior * rng.uniform(0.5, 0.9))
                if classes
                else 0,
                "students_6_11": middle,
                "career_diagnostics_covered": min(middle, round(middle * (covered + 0.05 * y))),
                "grade9_to_college": to_college,
                "grade9_to_college_profile_gia": round(to_college * rng.uniform(0.3, 0.9)),
            }


def _upbringing(region: Region) -> Iterator[Row]:
    """The upbringing programme, additional education, «Точка роста» and «Кванториум»."""
    for s in region.schools:
        rng = _rng(region, "upbringing", s)
        # «Точка роста» centres are built in rural and small-town schools (the federal project)
        centre = rng.random() < (0.8 if s.rural else 0.25)
        uses_from = 0 if rng.random() < 0.6 else 1  # some centres start their programmes later
        near_kvantorium = not s.rural and rng.random() < 0.5
        for y, year in enumerate(region.years):
            total = s.enrolled(y)
            base = 0.25 if _weak(s) else 0.5
            extra = min(total, round(total * (base + 0.05 * y + rng.uniform(0.0, 0.25))))
            programme = not _weak(s) or rng.random() < 0.7
            yield {
                "school_id": s.id,
                "academic_year": year,
                "as_of": dt.date(start_year(year) + 1, 5, 25),
                "students_total": total,
                "upbringing_programme": programme,
                "students_in_upbringing_programme": round(total * rng.uniform(0.7, 1.0))
                if programme
                else 0,
                "students_additional_education": extra,
                "students_kvantorium": round(extra * rng.uniform(0.05, 0.2))
                if near_kvantorium
                else 0,
                "tochka_rosta": centre,
                "tochka_rosta_programmes": centre and y >= uses_from,
            }


GENERATORS: dict[str, Callable[[Region], Iterator[Row]]] = {
    "results": _results_and_literacy,
    "career-guidance": _career_guidance,
    "upbringing": _upbringing,
}
"""Registered into :data:`shkala_demo.facts.GENERATORS` (``results`` is extended)."""
