"""ВПР deficits by planned result (seed 000 item 5.3): per class, parallel, school and
municipality, and per student (pseudonym), from the protocols' points per task and the
uploaded task → planned-result mapping (``vpr-planned-results``, folded by the read table).

Where no mapping was uploaded for an assessment the answer says so (``mapping: missing``
and the subjects and grades concerned), never an empty success.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from shkala_indicators.domain.deficits import (
    PlannedResultMap,
    PlannedResultSuccess,
    coverage,
    planned_result_success,
    student_deficits,
)
from shkala_indicators.service_layer.read import ReadModel


def planned_rows(rates: list[PlannedResultSuccess], threshold: float) -> list[dict[str, Any]]:
    return [
        {**asdict(r), "tasks": list(r.tasks), "rate": r.rate, "deficit": r.rate < threshold}
        for r in rates
    ]


class VprDeficits:
    """Planned-result deficits over the read model's current facts."""

    def __init__(self, read: ReadModel) -> None:
        self.read = read
        self.catalogue = read.catalogue

    @property
    def mapping(self) -> PlannedResultMap:
        return self.read.table.planned_results

    @property
    def threshold(self) -> float:
        return float(self.catalogue.parameters.get("vpr_task_success_threshold", 50))

    def _head(self, period: str, class_label: str | None) -> dict[str, Any]:
        return {
            "period": period,
            "class_label": class_label,
            "threshold": self.threshold,
            "definition_version": self.catalogue.version,
        }

    async def planned_results(
        self, schools: list[str], period: str, class_label: str | None, by_class: bool = False
    ) -> dict[str, Any]:
        facts = await self.read.current_facts(schools, period)
        if class_label is not None:
            facts = [f for f in facts if f.get("class_label") == class_label]
        rates = planned_result_success(
            facts, self.mapping, period, by_class=by_class, class_label=class_label
        )
        rows = planned_rows(rates, self.threshold)
        return {
            **self._head(period, class_label),
            "by": "class" if by_class else "parallel",
            **coverage(facts, self.mapping, period).describe(),
            "planned_results": rows,
            "deficits": [r for r in rows if r["deficit"]],
            "freshness": await self.read.freshness(),
        }

    async def students(
        self, school_id: str, period: str, class_label: str | None
    ) -> dict[str, Any]:
        facts = await self.read.current_facts([school_id], period)
        if class_label is not None:
            facts = [f for f in facts if f.get("class_label") == class_label]
        rows = student_deficits(facts, self.mapping, period, self.threshold)
        return {
            **self._head(period, class_label),
            **coverage(facts, self.mapping, period).describe(),
            "students": [{**asdict(s), "deficits": s.deficits} for s in rows],
            "freshness": await self.read.freshness(),
        }
