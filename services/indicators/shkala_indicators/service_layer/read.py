"""The read side: queries over the current generation's projections."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from shkala_indicators.adapters.memory_view import MemoryGeneration
from shkala_indicators.adapters.store import Generation, Pointer
from shkala_indicators.domain.analysis import school_rating, task_success
from shkala_indicators.domain.catalogue import Catalogue
from shkala_indicators.domain.compute import at_risk, compute_school, list_dynamics
from shkala_indicators.service_layer.working_set import WorkingSet

VALUE_FIELDS = (
    "indicator_id",
    "direction",
    "scope",
    "unit_id",
    "period",
    "numerator",
    "denominator",
    "value",
    "at_risk",
    "definition_version",
    "event_time",
    "updated_at",
)


def previous_period(period: str) -> str:
    start = int(period[:4]) - 1
    return f"{start}/{(start + 1) % 100:02d}"


def _value(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in VALUE_FIELDS}


class ReadModel:
    def __init__(
        self,
        pointer: Pointer,
        catalogue: Catalogue,
        live: Callable[[], MemoryGeneration | None] | None = None,
        previous: dict[str, Catalogue] | None = None,
    ) -> None:
        self.pointer = pointer
        self.catalogue = catalogue
        self.previous = previous or {}  # earlier definition versions, for time travel
        self.live = live  # the consuming instance answers from its working set

    async def gen(self) -> Generation | MemoryGeneration:
        view = self.live() if self.live else None
        return view or await self.pointer.current()

    async def freshness(self, gen: Generation | MemoryGeneration | None = None) -> dict[str, Any]:
        return await (gen or await self.gen()).freshness()

    async def org(self, unit_id: str) -> dict[str, Any] | None:
        return await (await self.gen()).org.find_one({"_id": unit_id})

    async def schools_of(self, municipality_id: str) -> list[str]:
        gen = await self.gen()
        return sorted(
            [
                d["_id"]
                async for d in gen.org.find({"kind": "school", "municipality_id": municipality_id})
            ]
        )

    async def school_card(self, school_id: str) -> dict[str, Any]:
        gen = await self.gen()
        org = await gen.org.find_one({"_id": school_id}) or {}
        trend: dict[str, list[dict[str, Any]]] = defaultdict(list)
        async for doc in gen.values.find({"scope": "school", "school_id": school_id}):
            trend[doc["indicator_id"]].append(_value(doc))
        indicators = []
        for ind in self.catalogue.indicators:
            series = sorted(trend.get(ind.id, ()), key=lambda v: v["period"])
            latest = series[-1] if series else None
            indicators.append(
                {
                    **ind.describe(),
                    "latest": latest,
                    "at_risk": bool(latest and latest["at_risk"]),
                    "trend": series,
                }
            )
        lists = [
            {k: d[k] for k in ("list", "period", "member", "reasons", "definition_version")}
            async for d in gen.lists.find({"school_id": school_id})
        ]
        teachers = [
            {k: v for k, v in d.items() if k != "_id"}
            async for d in gen.teacher_values.find({"school_id": school_id})
        ]
        return {
            "school": {
                "school_id": school_id,
                "name": org.get("name"),
                "municipality_id": org.get("municipality_id"),
                "region_id": org.get("region_id"),
            },
            "indicators": indicators,
            "lists": sorted(lists, key=lambda d: (d["period"], d["list"])),
            "teacher_indicators": teachers,
            "freshness": await self.freshness(gen),
        }

    async def school_indicator(
        self,
        school_id: str,
        indicator_id: str,
        period: str,
        as_of: dt.datetime | None,
        definition_version: str | None = None,
    ) -> dict[str, Any]:
        gen = await self.gen()
        key = f"{indicator_id}|school|{school_id}|{period}"
        if definition_version not in (None, self.catalogue.version):
            value = await self._under(gen, school_id, indicator_id, period, definition_version)
        elif as_of is None:
            doc = await gen.values.find_one({"_id": key})
            value = _value(doc) if doc else None
        else:
            if as_of.tzinfo is None:
                as_of = as_of.replace(tzinfo=dt.UTC)
            found = [
                d
                async for d in gen.history.find({"key": key, "as_of": {"$lte": as_of}})
                .sort([("as_of", -1), ("recorded_at", -1)])
                .limit(1)
            ]
            value = {k: v for k, v in found[0].items() if k != "_id"} if found else None
        return {
            "school_id": school_id,
            "indicator_id": indicator_id,
            "period": period,
            "as_of": as_of,
            "definition_version": definition_version or self.catalogue.version,
            "value": value,
            "freshness": await self.freshness(gen),
        }

    async def _under(
        self,
        gen: Generation | MemoryGeneration,
        school_id: str,
        indicator_id: str,
        period: str,
        version: str | None,
    ) -> dict[str, Any] | None:
        """Today's facts computed under an earlier definition version."""
        catalogue = self.previous[version or ""]
        facts = await Analyses(self)._facts(gen, [school_id], period)
        v = compute_school(catalogue, facts).get(indicator_id)
        if v is None:
            return None
        ind = catalogue.get(indicator_id)
        return {
            "indicator_id": indicator_id,
            "scope": "school",
            "unit_id": school_id,
            "period": period,
            "numerator": v.numerator,
            "denominator": v.denominator,
            "value": v.value,
            "at_risk": at_risk(ind, v),
            "definition_version": catalogue.version,
        }

    async def municipality_table(
        self, municipality_id: str, period: str, sort: str | None, descending: bool
    ) -> dict[str, Any]:
        gen = await self.gen()
        schools = {
            d["_id"]: d
            async for d in gen.org.find({"kind": "school", "municipality_id": municipality_id})
        }
        rows: dict[str, dict[str, Any]] = {
            sid: {"school_id": sid, "name": d.get("name"), "values": {}, "at_risk": [], "lists": []}
            for sid, d in schools.items()
        }
        async for doc in gen.values.find(
            {"scope": "school", "municipality_id": municipality_id, "period": period}
        ):
            row = rows.get(doc["school_id"])
            if row is None:
                continue
            row["values"][doc["indicator_id"]] = doc["value"]
            if doc["at_risk"]:
                row["at_risk"].append(doc["indicator_id"])
        async for doc in gen.lists.find(
            {"municipality_id": municipality_id, "period": period, "member": True}
        ):
            if doc["school_id"] in rows:
                rows[doc["school_id"]]["lists"].append(doc["list"])
        table = list(rows.values())
        if sort in (None, "school_id", "name"):
            table.sort(key=lambda r: str(r.get(sort or "school_id") or ""), reverse=descending)
        else:
            present = [r for r in table if r["values"].get(sort) is not None]
            missing = [r for r in table if r["values"].get(sort) is None]
            present.sort(key=lambda r: (r["values"][sort], r["school_id"]), reverse=descending)
            table = present + sorted(missing, key=lambda r: r["school_id"])
        total = {
            d["indicator_id"]: _value(d)
            async for d in gen.values.find(
                {"scope": "municipality", "unit_id": municipality_id, "period": period}
            )
        }
        return {
            "municipality_id": municipality_id,
            "period": period,
            "sort": sort,
            "order": "desc" if descending else "asc",
            "rows": table,
            "municipality": total,
            "freshness": await self.freshness(gen),
        }

    async def region_summary(self, region_id: str, period: str) -> dict[str, Any]:
        gen = await self.gen()
        region = {
            d["indicator_id"]: _value(d)
            async for d in gen.values.find(
                {"scope": "region", "unit_id": region_id, "period": period}
            )
        }
        municipalities: dict[str, dict[str, Any]] = defaultdict(dict)
        async for d in gen.values.find(
            {"scope": "municipality", "region_id": region_id, "period": period}
        ):
            municipalities[d["unit_id"]][d["indicator_id"]] = _value(d)
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        async for d in gen.lists.find({"region_id": region_id, "period": period, "member": True}):
            counts[d["list"]][d["municipality_id"]] += 1
        return {
            "region_id": region_id,
            "period": period,
            "region": region,
            "municipalities": dict(municipalities),
            "list_counts": {k: dict(v) for k, v in counts.items()},
            "freshness": await self.freshness(gen),
        }

    async def members(
        self,
        gen: Generation | MemoryGeneration,
        risk_list: str,
        period: str,
        municipality: str | None,
    ) -> dict[str, dict[str, Any]]:
        query: dict[str, Any] = {"list": risk_list, "period": period, "member": True}
        if municipality:
            query["municipality_id"] = municipality
        return {d["school_id"]: d async for d in gen.lists.find(query)}

    async def risk_list(
        self, risk_list: str, period: str, previous: str, municipality: str | None
    ) -> dict[str, Any]:
        gen = await self.gen()
        now = await self.members(gen, risk_list, period, municipality)
        before = await self.members(gen, risk_list, previous, municipality)
        return {
            "list": risk_list,
            "period": period,
            "previous_period": previous,
            "municipality_id": municipality,
            "members": [
                {
                    "school_id": sid,
                    "municipality_id": d["municipality_id"],
                    "reasons": d["reasons"],
                    "definition_version": d["definition_version"],
                }
                for sid, d in sorted(now.items())
            ],
            "dynamics": list_dynamics(set(before), set(now)),
            "freshness": await self.freshness(gen),
        }

    async def direction(
        self, direction: str, period: str, region: str, municipality: str | None
    ) -> dict[str, Any]:
        gen = await self.gen()
        query: dict[str, Any] = {"direction": direction, "period": period}
        if municipality:
            query |= {"scope": {"$in": ["school", "municipality"]}, "municipality_id": municipality}
        else:
            query |= {"scope": {"$in": ["municipality", "region"]}, "region_id": region}
        values = [_value(d) async for d in gen.values.find(query)]
        values.sort(key=lambda v: (v["indicator_id"], v["scope"], v["unit_id"]))
        return {
            "direction": direction,
            "period": period,
            "municipality_id": municipality,
            "indicators": [
                i.describe() for i in self.catalogue.indicators if i.direction == direction
            ],
            "values": values,
            "freshness": await self.freshness(gen),
        }


class Analyses:
    """ВПР per-task deficits and the municipal rating, over the read model's generation."""

    def __init__(self, read: ReadModel) -> None:
        self.read = read
        self.catalogue = read.catalogue

    async def _facts(
        self, gen: Generation | MemoryGeneration, schools: list[str], period: str
    ) -> list[dict[str, Any]]:
        """The current facts of some schools in one period (memory, or the stored pages)."""
        if isinstance(gen, MemoryGeneration):
            return [
                f
                for s in schools
                if (cell := gen.cells.get((s, period))) is not None
                for f in cell.facts.values()
            ]
        pages = WorkingSet("read")  # the same newest-version-wins rule as the projection
        async for page in gen.facts.find({"school_id": {"$in": schools}, "year": period}):
            pages.add_page(page)
        return [f for cell in pages.cells.values() for f in cell.facts.values()]

    async def vpr_tasks(
        self, schools: list[str], period: str, class_label: str | None
    ) -> dict[str, Any]:
        gen = await self.read.gen()
        rates = task_success(await self._facts(gen, schools, period), class_label)
        threshold = float(self.catalogue.parameters.get("vpr_task_success_threshold", 50))
        rows = [{**asdict(r), "rate": r.rate, "deficit": r.rate < threshold} for r in rates]
        return {
            "period": period,
            "class_label": class_label,
            "threshold": threshold,
            "definition_version": self.catalogue.version,
            "tasks": rows,
            "deficits": [r for r in rows if r["deficit"]],
            "freshness": await self.read.freshness(gen),
        }

    async def rating(self, municipality_id: str, period: str) -> dict[str, Any]:
        rule = self.catalogue.rating
        gen = await self.read.gen()
        values: dict[str, dict[str, float | None]] = defaultdict(dict)
        async for doc in gen.values.find(
            {"scope": "school", "municipality_id": municipality_id, "period": period}
        ):
            values[doc["school_id"]][doc["indicator_id"]] = doc["value"]
        rows = school_rating(values, rule, self.catalogue.by_id()) if rule else []
        return {
            "municipality_id": municipality_id,
            "period": period,
            "definition_version": self.catalogue.version,
            "rule": self.catalogue.describe()["rating"],
            "rows": [asdict(r) for r in rows],
            "unrated": sorted(set(values) - {r.school_id for r in rows}),
            "freshness": await self.read.freshness(gen),
        }
