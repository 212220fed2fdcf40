"""Two analyses over the projections: ВПР per-task success (learning-outcome deficits) and
the configurable municipal rating of schools. Pure functions, no framework imports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shkala_indicators.domain.catalogue import Indicator, RatingRule
from shkala_indicators.domain.compute import ASSESSMENT, Fact


@dataclass(frozen=True)
class TaskSuccess:
    """Success rate of one ВПР task (задание) for a parallel: points won over points possible.

    Below the threshold it is a learning-outcome deficit (дефицит), which schools plan from.
    """

    subject: str
    grade: int
    task: str
    points: float
    max_points: float
    students: int

    @property
    def rate(self) -> float:
        return round(self.points / self.max_points * 100.0, 6) if self.max_points else 0.0


def _task_order(task: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in task.split("."))


def task_success(facts: Iterable[Fact], class_label: str | None = None) -> list[TaskSuccess]:
    """Per (subject, grade, task) over the ВПР results given (a school's, or several)."""
    acc: dict[tuple[str, int, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for f in facts:
        if f["type"] != ASSESSMENT or f["procedure"] != "ВПР":
            continue
        if class_label is not None and f.get("class_label") != class_label:
            continue
        for t in f.get("tasks") or ():
            a = acc[(f["subject"], f["grade"], t["task"])]
            a[0] += t["points"]
            a[1] += t["max_points"]
            a[2] += 1
    return [
        TaskSuccess(subject, grade, task, p, m, int(n))
        for (subject, grade, task), (p, m, n) in sorted(
            acc.items(), key=lambda kv: (kv[0][0], kv[0][1], _task_order(kv[0][2]))
        )
    ]


def deficits(rates: Iterable[TaskSuccess], threshold: float) -> list[TaskSuccess]:
    return [r for r in rates if r.rate < threshold]


@dataclass(frozen=True)
class RatingRow:
    school_id: str
    score: float  # 0..100: weighted mean of the school's normalised standing per indicator
    rank: int
    bottom: bool  # at the bottom of the rating: gets a support plan (seeds 000, 004)
    parts: Mapping[str, float]  # indicator -> normalised standing 0..1 (1 = best)


def school_rating(
    values: Mapping[str, Mapping[str, float | None]],
    rule: RatingRule,
    indicators: Mapping[str, Indicator],
) -> list[RatingRow]:
    """Rank schools by a weighted score over the rule's indicators.

    Per indicator, each school's value is placed between the worst (0) and the best (1)
    value among the schools rated, the better direction from the catalogue; a school is
    scored over the indicators it has values for; schools with none are left out.
    """
    parts: dict[str, dict[str, float]] = defaultdict(dict)
    for ind_id, _weight in rule.weights:
        have = {s: x for s, v in values.items() if (x := v.get(ind_id)) is not None}
        if not have:
            continue
        lo, hi = min(have.values()), max(have.values())
        for s, x in have.items():
            standing = 1.0 if hi == lo else (x - lo) / (hi - lo)
            parts[s][ind_id] = standing if indicators[ind_id].better == "up" else 1.0 - standing
    weights = dict(rule.weights)
    scored = []
    for s, p in parts.items():
        total = sum(weights[i] for i in p)
        scored.append((round(sum(weights[i] * x for i, x in p.items()) / total * 100.0, 4), s))
    scored.sort(key=lambda t: (-t[0], t[1]))
    n = len(scored)
    return [
        RatingRow(s, score, rank, rank > n - rule.bottom, dict(parts[s]))
        for rank, (score, s) in enumerate(scored, start=1)
    ]
