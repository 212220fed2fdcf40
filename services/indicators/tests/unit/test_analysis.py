"""ВПР per-task success and the municipal rating, on facts and values small enough to check
by hand."""

from __future__ import annotations

import pytest

from shkala_indicators.domain.analysis import deficits, school_rating, task_success
from shkala_indicators.domain.catalogue import RatingRule, load
from shkala_indicators.domain.compute import ASSESSMENT


def vpr(tasks: list[tuple[str, float, float]], *, grade: int = 5, cls: str = "5А") -> dict:
    return {
        "type": ASSESSMENT,
        "procedure": "ВПР",
        "subject": "математика",
        "grade": grade,
        "class_label": cls,
        "tasks": [{"task": t, "points": p, "max_points": m} for t, p, m in tasks],
    }


def test_task_success_sums_points_over_maximum_per_parallel_and_names_deficits() -> None:
    facts = [
        vpr([("1", 2, 2), ("2", 0, 1), ("10", 1, 3)]),
        vpr([("1", 1, 2), ("2", 0, 1), ("10", 3, 3)], cls="5Б"),
        vpr([("1", 0, 2)], grade=6, cls="6А"),
        {**vpr([("1", 0, 2)]), "procedure": "ОГЭ"},  # not ВПР: ignored
    ]
    rates = {(r.grade, r.task): (r.rate, r.students) for r in task_success(facts)}
    assert rates == {
        (5, "1"): (75.0, 2),  # 3 of 4 points
        (5, "2"): (0.0, 2),
        (5, "10"): (pytest.approx(66.666667), 2),  # 4 of 6
        (6, "1"): (0.0, 1),
    }
    # tasks in their natural order: 1, 2, 10 (not 1, 10, 2)
    assert [r.task for r in task_success(facts) if r.grade == 5] == ["1", "2", "10"]
    assert {(r.grade, r.task) for r in deficits(task_success(facts), 50)} == {(5, "2"), (6, "1")}
    one_class = {r.task: r.rate for r in task_success(facts, class_label="5Б")}
    assert one_class == {"1": 50.0, "2": 0.0, "10": 100.0}


def test_rating_places_each_school_between_worst_and_best_with_weights() -> None:
    by_id = load().by_id()
    rule = RatingRule((("vpr_mark2_share_math", 2.0), ("ege_high_scorers_share", 1.0)), bottom=1)
    values = {
        "a": {"vpr_mark2_share_math": 10.0, "ege_high_scorers_share": 0.0},  # best, worst
        "b": {"vpr_mark2_share_math": 30.0, "ege_high_scorers_share": 50.0},  # worst, best
        "c": {"vpr_mark2_share_math": 20.0},  # middle on the one it has
        "d": {"vpr_mark2_share_math": None},  # nothing to rate
    }
    rows = school_rating(values, rule, by_id)
    # a: (2*1 + 1*0)/3 = 66.67; b: (2*0 + 1*1)/3 = 33.33; c: 2*0.5/2 = 50
    assert [(r.school_id, round(r.score, 2), r.rank, r.bottom) for r in rows] == [
        ("a", 66.67, 1, False),
        ("c", 50.0, 2, False),
        ("b", 33.33, 3, True),
    ]
