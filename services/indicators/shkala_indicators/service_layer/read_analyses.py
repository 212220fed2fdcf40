"""Analyses over the facts themselves: ВПР per-task deficits (дефициты) and the municipal
rating (рейтинг ОО), read through the read model's generation and table."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from typing import Any

from shkala_indicators.domain.analysis import school_rating, task_success
from shkala_indicators.domain.compute import ASSESSMENT
from shkala_indicators.domain.deficits import coverage, planned_result_success
from shkala_indicators.service_layer.read import ReadModel
from shkala_indicators.service_layer.read_deficits import planned_rows
from shkala_indicators.service_layer.read_views import LIVE, View

ASSESSMENT_ONLY = frozenset({ASSESSMENT})  # the per-task analyses read ВПР protocols only


class Analyses:
    """ВПР per-task deficits and the municipal rating, over the read model's generation."""

    def __init__(self, read: ReadModel) -> None:
        self.read = read
        self.catalogue = read.catalogue

    async def vpr_tasks(
        self, schools: list[str], period: str, class_label: str | None
    ) -> dict[str, Any]:
        # the card's ВПР section, plans' proposals and the note ask the same school in turn:
        # worked out once per change of the facts or the planned-result mapping
        body = await self.read.kept(
            ("vpr_tasks", tuple(schools), period, class_label),
            lambda: self._vpr_tasks(schools, period, class_label),
        )
        return {**body, "freshness": await self.read.freshness()}

    async def _vpr_tasks(
        self, schools: list[str], period: str, class_label: str | None
    ) -> dict[str, Any]:
        facts = await self.read.current_facts(schools, period, ASSESSMENT_ONLY)
        rates = task_success(facts, class_label)
        threshold = float(self.catalogue.parameters.get("vpr_task_success_threshold", 50))
        mapping = self.read.table.planned_results  # uploaded as vpr-planned-results
        rows = [
            {
                **asdict(r),
                "rate": r.rate,
                "deficit": r.rate < threshold,
                "planned_results": [
                    asdict(p) for p in mapping.of(period, r.subject, r.grade, r.task)
                ],
            }
            for r in rates
        ]
        return {
            "period": period,
            "class_label": class_label,
            "threshold": threshold,
            "definition_version": self.catalogue.version,
            **coverage(facts, mapping, period).describe(),
            # the same pooled per planned result (/vpr-planned-results), from the same read
            "by_planned_result": planned_rows(
                planned_result_success(facts, mapping, period, class_label=class_label),
                threshold,
            ),
            "tasks": rows,
            "deficits": [r for r in rows if r["deficit"]],
        }

    async def rating(
        self, municipality_id: str, period: str, view: View | None = None
    ) -> dict[str, Any]:
        if view is not None and not view.is_live(self.catalogue.version):
            return await self.read.views.rating(municipality_id, period, view)
        rule = self.catalogue.rating
        t = self.read.table
        schools = t.schools_of(municipality_id)
        values: dict[str, dict[str, float | None]] = defaultdict(dict)
        for s in schools:
            for doc in t.school_values(s, period):
                values[s][doc["indicator_id"]] = doc["value"]
        rows = school_rating(values, rule, self.catalogue.by_id()) if rule else []
        return {
            "municipality_id": municipality_id,
            "period": period,
            "definition_version": self.catalogue.version,
            "basis": LIVE,
            "approval": t.approval_summary(schools, period),
            "rule": self.catalogue.describe()["rating"],
            "rows": [{**asdict(r), "approval": t.approval_of(r.school_id, period)} for r in rows],
            "unrated": sorted(set(values) - {r.school_id for r in rows}),
            "freshness": await self.read.freshness(),
        }
