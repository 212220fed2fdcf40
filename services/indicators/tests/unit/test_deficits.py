"""ВПР deficits by planned result (seed 000 item 5.3) on facts small enough to check by hand:
the domain's pooling, the student rule, the mapping fold, and the read use case on a fake
read model (the mapping missing is said, not an empty success)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from shkala_indicators.domain.catalogue import load
from shkala_indicators.domain.compute import ASSESSMENT
from shkala_indicators.domain.deficits import (
    PlannedResultMap,
    coverage,
    planned_result_success,
    student_deficits,
)
from shkala_indicators.service_layer.read_deficits import VprDeficits

Y = "2025/26"


def vpr(student: str, cls: str, tasks: list[tuple[str, float, float]]) -> dict[str, Any]:
    return {
        "type": ASSESSMENT,
        "procedure": "ВПР",
        "subject": "математика",
        "grade": 5,
        "class_label": cls,
        "student": student,
        "tasks": [{"task": t, "points": p, "max_points": m} for t, p, m in tasks],
    }


def mapping() -> PlannedResultMap:
    m = PlannedResultMap()
    rows = [("1", "1.1", "дроби"), ("2", "1.1", "дроби"), ("2", "2.1", "задачи"),
            ("10", "2.1", "задачи")]  # fmt: skip
    for i, (task, code, text) in enumerate(rows):
        fact = {"academic_year": Y, "subject": "математика", "grade": 5, "task": task,
                "planned_result_code": code, "planned_result": text}  # fmt: skip
        assert m.fold(f"o{i}", (1, 0, i), fact)
    return m


FACTS = [
    vpr("pa", "5А", [("1", 2, 2), ("2", 0, 1), ("10", 1, 3), ("11", 1, 1)]),
    vpr("pb", "5Б", [("1", 1, 2), ("2", 1, 1), ("10", 0, 3)]),
]


def test_planned_result_pools_the_points_of_its_tasks() -> None:
    rows = {(r.class_label, r.code): (r.rate, r.tasks, r.students)
            for r in planned_result_success(FACTS, mapping(), Y)}  # fmt: skip
    # 1.1 = tasks 1, 2: (2+0+1+1) / (2+1+2+1) = 4/6; 2.1 = tasks 2, 10: (0+1+1+0) / (1+3+1+3)
    assert rows == {
        (None, "1.1"): (pytest.approx(66.666667), ("1", "2"), 2),
        (None, "2.1"): (25.0, ("2", "10"), 2),
    }
    by_class = {(r.class_label, r.code): r.rate
                for r in planned_result_success(FACTS, mapping(), Y, by_class=True)}  # fmt: skip
    assert by_class == {("5А", "1.1"): pytest.approx(66.666667), ("5А", "2.1"): 25.0,
                        ("5Б", "1.1"): pytest.approx(66.666667), ("5Б", "2.1"): 25.0}  # fmt: skip
    assert planned_result_success(FACTS, mapping(), "2024/25") == []  # another year's mapping


def test_student_fails_a_task_below_the_threshold_share_and_names_its_planned_results() -> None:
    a, b = student_deficits(FACTS, mapping(), Y, 50.0)
    assert (a.student, [t["task"] for t in a.failed_tasks]) == ("pa", ["2", "10"])
    assert [p["code"] for p in a.failed_tasks[1]["planned_results"]] == ["2.1"]
    assert a.deficits == ["2.1"]  # 1.1: 2/3 ≥ 50 %; 2.1: 1/4
    assert [t["task"] for t in b.failed_tasks] == ["10"]  # 1 of 2 is not below half
    assert b.deficits == ["2.1"]  # 2.1: 1/4


def test_coverage_and_corrections_of_the_mapping() -> None:
    m = mapping()
    c = coverage(FACTS, m, Y)
    assert (c.status, c.unmapped_tasks) == ("partial", {("математика", 5): ["11"]})
    assert coverage(FACTS, m, "2024/25").status == "missing"
    no_tasks = {**vpr("pc", "4А", []), "grade": 4}  # ВПР 4 кл. without task scores
    assert coverage([*FACTS, no_tasks], m, Y).missing == []
    fixed = {"academic_year": Y, "subject": "математика", "grade": 5, "task": "1",
             "planned_result_code": "1.1", "planned_result": "действия с дробями"}  # fmt: skip
    assert not m.fold("o0", (1, 0, 0), fixed)  # a redelivery of the known version
    assert m.fold("o0", (2, 0, 9), fixed)
    assert [p.text for p in m.of(Y, "математика", 5, "1")] == ["действия с дробями"]


async def test_read_use_case_says_the_mapping_is_missing() -> None:
    async def current_facts(schools: list[str], period: str) -> list[dict[str, Any]]:
        return FACTS

    async def freshness() -> dict[str, Any]:
        return {}

    read: Any = SimpleNamespace(
        catalogue=load(), table=SimpleNamespace(planned_results=PlannedResultMap()),
        current_facts=current_facts, freshness=freshness,
    )  # fmt: skip
    body = await VprDeficits(read).planned_results(["s"], Y, None)
    assert body["mapping"] == "missing"
    assert body["mapping_missing"] == [{"subject": "математика", "grade": 5}]
    read.table.planned_results = mapping()
    body = await VprDeficits(read).students("s", Y, "5Б")
    assert body["mapping"] == "complete"
    assert [(s["student"], s["deficits"]) for s in body["students"]] == [("pb", ["2.1"])]
