"""ВПР deficits as seed 000 item 5.3 writes them: «дефициты в виде несформированности
планируемых результатов для каждого обучающегося, класса, параллели и образовательной
организации в целом». The protocols give points per task; the assessment's description
(описание КИМ, uploaded as ``vpr-planned-results``) says which planned results
(планируемые результаты, проверяемые умения) each task checks. Pure functions, no framework.

A planned result's success rate is the points won over the points possible on the tasks
that check it, pooled over the students (the per-task rate of ``analysis.task_success``,
summed over the planned result's tasks). Below the threshold it is a deficit. For one
student the same rule, over that student's own tasks: a task is failed when its points are
below the threshold share of its maximum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shkala_indicators.domain.analysis import _task_order  # the protocols' order: 1, 2, 10
from shkala_indicators.domain.compute import ASSESSMENT, Fact

TaskKey = tuple[str, str, int, str]
"""(academic year, subject, grade, task)"""


@dataclass(frozen=True)
class PlannedResult:
    """One planned result a task checks (планируемый результат)."""

    code: str
    text: str


@dataclass
class PlannedResultMap:
    """The uploaded task → planned-result mapping, folded from its facts: a later version
    of the same (task, code) replaces the text; several codes per task."""

    by_task: dict[TaskKey, dict[str, PlannedResult]] = field(default_factory=dict)
    _rank: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def fold(self, oid: str, rank: tuple[int, int, int], fact: Mapping[str, Any]) -> bool:
        """Apply one mapping fact (its JSON fields); False when not newer than the known."""
        if oid in self._rank and rank <= self._rank[oid]:
            return False
        self._rank[oid] = rank
        key = (fact["academic_year"], fact["subject"], int(fact["grade"]), fact["task"])
        self.by_task.setdefault(key, {})[fact["planned_result_code"]] = PlannedResult(
            fact["planned_result_code"], fact["planned_result"]
        )
        return True

    def of(self, year: str, subject: str, grade: int, task: str) -> list[PlannedResult]:
        found = self.by_task.get((year, subject, grade, task), {})
        return [found[c] for c in sorted(found, key=_code_order)]

    def has(self, year: str, subject: str, grade: int) -> bool:
        return any(k[:3] == (year, subject, grade) for k in self.by_task)


def _code_order(code: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (1 << 30, p) for p in code.split("."))


@dataclass(frozen=True)
class PlannedResultSuccess:
    """Success of one planned result over a group (class, parallel, school, municipality)."""

    subject: str
    grade: int
    code: str
    text: str
    tasks: tuple[str, ...]
    points: float
    max_points: float
    students: int
    class_label: str | None = None

    @property
    def rate(self) -> float:
        return round(self.points / self.max_points * 100.0, 6) if self.max_points else 0.0


@dataclass(frozen=True)
class Coverage:
    """Which (subject, grade) of the results have a mapping, and tasks left without one."""

    mapped: list[tuple[str, int]]
    missing: list[tuple[str, int]]  # no mapping at all for the assessment
    unmapped_tasks: dict[tuple[str, int], list[str]]  # mapped, but these tasks not

    @property
    def status(self) -> str:
        """``missing`` (nothing mapped), ``partial`` or ``complete``; ``no-results``."""
        if not self.mapped and not self.missing:
            return "no-results"
        if not self.mapped:
            return "missing"
        return "partial" if self.missing or self.unmapped_tasks else "complete"

    def describe(self) -> dict[str, Any]:
        return {
            "mapping": self.status,
            "mapping_missing": [{"subject": s, "grade": g} for s, g in self.missing],
            "tasks_without_planned_result": [
                {"subject": s, "grade": g, "tasks": t}
                for (s, g), t in sorted(self.unmapped_tasks.items())
            ],
        }


def _vpr(facts: Iterable[Fact], class_label: str | None) -> list[Fact]:
    return [
        f
        for f in facts
        if f["type"] == ASSESSMENT
        and f["procedure"] == "ВПР"
        and (class_label is None or f.get("class_label") == class_label)
    ]


def coverage(facts: Iterable[Fact], mapping: PlannedResultMap, year: str) -> Coverage:
    tasks: dict[tuple[str, int], set[str]] = defaultdict(set)
    for f in _vpr(facts, None):
        if f.get("tasks"):  # a result without task scores has no planned results to map
            tasks[(f["subject"], f["grade"])].update(t["task"] for t in f["tasks"])
    mapped: list[tuple[str, int]] = []
    missing: list[tuple[str, int]] = []
    unmapped: dict[tuple[str, int], list[str]] = {}
    for (subject, grade), names in sorted(tasks.items()):
        if not mapping.has(year, subject, grade):
            missing.append((subject, grade))
            continue
        mapped.append((subject, grade))
        left = [t for t in names if not mapping.of(year, subject, grade, t)]
        left.sort(key=_task_order)
        if left:
            unmapped[(subject, grade)] = left
    return Coverage(mapped, missing, unmapped)


def planned_result_success(
    facts: Iterable[Fact],
    mapping: PlannedResultMap,
    year: str,
    *,
    by_class: bool = False,
    class_label: str | None = None,
) -> list[PlannedResultSuccess]:
    """Per (subject, grade[, class], planned result) over the ВПР results given: a school's
    parallel (or each class), or a municipality's schools together."""
    acc: dict[tuple[str, int, str | None, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    students: dict[tuple[str, int, str | None, str], set[str]] = defaultdict(set)
    tasks_of: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    texts: dict[tuple[str, int, str], str] = {}
    for f in _vpr(facts, class_label):
        group = f.get("class_label") if by_class else None
        for t in f.get("tasks") or ():
            for pr in mapping.of(year, f["subject"], f["grade"], t["task"]):
                key = (f["subject"], f["grade"], group, pr.code)
                a = acc[key]
                a[0] += t["points"]
                a[1] += t["max_points"]
                students[key].add(f["student"])
                tasks_of[(f["subject"], f["grade"], pr.code)].add(t["task"])
                texts[(f["subject"], f["grade"], pr.code)] = pr.text
    out = []
    for (subject, grade, group, code), (p, m) in acc.items():
        k3 = (subject, grade, code)
        out.append(
            PlannedResultSuccess(
                subject, grade, code, texts[k3], tuple(sorted(tasks_of[k3], key=_task_order)),
                p, m, len(students[(subject, grade, group, code)]),
                group if by_class else class_label,
            )
        )  # fmt: skip
    out.sort(key=lambda r: (r.subject, r.grade, r.class_label or "", _code_order(r.code)))
    return out


@dataclass(frozen=True)
class StudentDeficits:
    """One student's ВПР in one subject: the tasks failed and the planned results behind
    them (by pseudonym only: no raw id or name ever reaches the indicators service)."""

    student: str
    subject: str
    grade: int
    class_label: str | None
    failed_tasks: list[dict[str, Any]]
    planned_results: list[dict[str, Any]]

    @property
    def deficits(self) -> list[str]:
        return [p["code"] for p in self.planned_results if p["deficit"]]


def student_deficits(
    facts: Iterable[Fact],
    mapping: PlannedResultMap,
    year: str,
    threshold: float,
    class_label: str | None = None,
) -> list[StudentDeficits]:
    """Per student and subject: tasks whose points are below ``threshold`` % of their
    maximum (failed), each with its planned results, and every planned result's own rate
    over the student's tasks that check it (a deficit below the threshold)."""
    out = []
    for f in _vpr(facts, class_label):
        failed = []
        pooled: dict[str, list[float]] = {}
        texts: dict[str, str] = {}
        for t in sorted(f.get("tasks") or (), key=lambda t: _task_order(t["task"])):
            prs = mapping.of(year, f["subject"], f["grade"], t["task"])
            for pr in prs:
                a = pooled.setdefault(pr.code, [0.0, 0.0])
                a[0] += t["points"]
                a[1] += t["max_points"]
                texts[pr.code] = pr.text
            if t["points"] * 100.0 < threshold * t["max_points"]:
                failed.append(
                    {
                        "task": t["task"],
                        "points": t["points"],
                        "max_points": t["max_points"],
                        "planned_results": [{"code": p.code, "text": p.text} for p in prs],
                    }
                )
        planned = []
        for code in sorted(pooled, key=_code_order):
            p, m = pooled[code]
            rate = round(p / m * 100.0, 6) if m else 0.0
            planned.append(
                {
                    "code": code,
                    "text": texts[code],
                    "points": p,
                    "max_points": m,
                    "rate": rate,
                    "deficit": rate < threshold,
                }
            )
        out.append(
            StudentDeficits(
                f["student"], f["subject"], f["grade"], f.get("class_label"), failed, planned
            )
        )
    out.sort(key=lambda s: (s.subject, s.grade, s.class_label or "", s.student))
    return out
