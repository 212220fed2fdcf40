"""The read side: queries over the replicated read table (values, org units) and, for what
the table does not hold (time travel, analyses over facts, teacher values), the store."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Collection, Hashable
from typing import Any, TypeVar, cast

from shkala_indicators.adapters.store import Generation, Pointer, merge_checkpoints, unpack
from shkala_indicators.domain.catalogue import Catalogue
from shkala_indicators.domain.compute import at_risk, compute_school, list_dynamics
from shkala_indicators.domain.explain_lists import fired_criteria
from shkala_indicators.domain.rows import compact
from shkala_indicators.service_layer import read_objectivity
from shkala_indicators.service_layer.read_table import ReadTable
from shkala_indicators.service_layer.read_views import LIVE, View, Views

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
WAIT_MS_DEFAULT, WAIT_MS_MAX = 2000, 10000
KEPT = 160  # answers kept between reads (fact lists, ВПР tasks): a municipality's schools, each
# asked for by the card, its ВПР section, plans' proposals and «как посчитано»
T = TypeVar("T")


def previous_period(period: str) -> str:
    start = int(period[:4]) - 1
    return f"{start}/{(start + 1) % 100:02d}"


def _value(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: doc.get(k) for k in VALUE_FIELDS}
    if "target" in doc:  # a seed 003 programme indicator: the year's target and whether met
        out["target"] = doc["target"]
    if "approval" in doc:  # a roll-up's approval summary
        out["approval"] = doc["approval"]
    return out


class NotYetApplied(Exception):
    """Read-your-writes: the named log positions are not applied within the wait."""

    def __init__(self, freshness: dict[str, Any]) -> None:
        super().__init__("not applied yet")
        self.freshness = freshness


class ReadModel:
    def __init__(
        self,
        pointer: Pointer,
        catalogue: Catalogue,
        table: ReadTable,
        previous: dict[str, Catalogue] | None = None,
        progressed: Callable[[], asyncio.Event] | None = None,
    ) -> None:
        self.pointer = pointer
        self.catalogue = catalogue
        self.table = table
        self.previous = previous or {}  # earlier definition versions, for time travel
        self._progressed = progressed
        self._checkpoints: tuple[float, dict[str, Any]] | None = None
        self._teachers: tuple[float, dict[str, list[dict[str, Any]]]] | None = None
        self._kept: OrderedDict[Hashable, tuple[Any, Any]] = OrderedDict()
        self._lock = asyncio.Lock()  # one refresh at a time, however many readers wait
        self._described = {ind.id: ind.describe() for ind in catalogue.indicators}
        self.views = Views(self)  # as_of, earlier definitions, approved basis (ADR 0010)

    def catalogue_of(self, version: str | None) -> Catalogue:
        """The catalogue of a definition version (``None``: the current one)."""
        if version in (None, self.catalogue.version):
            return self.catalogue
        return self.previous[version or ""]

    async def gen(self) -> Generation:
        return await self.pointer.current()

    # ---------------------------------------------------------------- freshness
    async def checkpoints(self, max_age_s: float = 0.25) -> dict[str, Any]:
        """Every partition's stored checkpoint, merged (cached briefly: one small scan)."""
        if self._checkpoints is None or time.monotonic() - self._checkpoints[0] > max_age_s:
            async with self._lock:
                if self._checkpoints is None or time.monotonic() - self._checkpoints[0] > max_age_s:
                    gen = await self.gen()
                    merged = merge_checkpoints(await gen.checkpoints())
                    self._checkpoints = (time.monotonic(), {"generation": gen.name, **merged})
        return self._checkpoints[1]

    async def teacher_values(self, school_id: str, max_age_s: float = 2.0) -> list[dict[str, Any]]:
        """Consented teachers' values (a small collection, not on the public topic: read
        whole and kept for a couple of seconds, so a card costs no database query)."""
        if self._teachers is None or time.monotonic() - self._teachers[0] > max_age_s:
            async with self._lock:
                if self._teachers is None or time.monotonic() - self._teachers[0] > max_age_s:
                    gen = await self.gen()
                    by_school: dict[str, list[dict[str, Any]]] = defaultdict(list)
                    async for d in gen.teacher_values.find({}):
                        by_school[d["school_id"]].append({k: v for k, v in d.items() if k != "_id"})
                    self._teachers = (time.monotonic(), dict(by_school))
        return self._teachers[1].get(school_id, [])

    async def freshness(self, *_: Any) -> dict[str, Any]:
        cp = await self.checkpoints()
        lag = {
            str(p): off - self.table.positions.get((self.derived_topic, int(p)), -1)
            for p, off in cp["derived"].items()
        }
        return {
            "generation": cp["generation"],
            "positions": cp["positions"],
            "last_event_time": cp["last_event_time"],
            "applied_at": cp["applied_at"],
            "read_table": {
                "positions": {
                    f"{t}|{p}": off for (t, p), off in sorted(self.table.positions.items())
                },
                "behind_projection": {p: n for p, n in lag.items() if n > 0},
                "updated_at": self.table.updated_at,
            },
        }

    derived_topic = "shkala.indicators.v1"  # the real name is set by bootstrap
    reference_topic = "shkala.reference.v1"  # likewise

    async def missing(self, after: list[tuple[str, int, int]]) -> dict[str, Any]:
        """Which named positions are not yet visible here (empty: all are)."""
        cp = await self.checkpoints(max_age_s=0.05)
        out: dict[str, Any] = {}
        for topic, part, offset in after:
            have = cp["positions"].get(f"{topic.replace('.', '_')}|{part}", -1)
            if topic == self.reference_topic:  # folded by the read table, not the projection
                have = self.table.positions.get((topic, part), -1)
            if have < offset:
                out[f"{topic}:{part}:{offset}"] = {"applied": have, "lag": offset - have}
        for p, off in cp["derived"].items():
            have = self.table.positions.get((self.derived_topic, int(p)), -1)
            if have < off and after:
                out[f"{self.derived_topic}:{p}:{off}"] = {"applied": have, "lag": off - have}
        return out

    async def wait_for(self, after: list[tuple[str, int, int]], wait_ms: int) -> None:
        """Read-your-writes: return once every named position is applied and visible, or
        raise :class:`NotYetApplied` after ``wait_ms``."""
        if not after:
            return
        self._teachers = None  # what the caller wrote is read fresh, not from the cache
        deadline = time.monotonic() + wait_ms / 1000
        while await self.missing(after):
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotYetApplied(
                    {**await self.freshness(), "waiting_for": await self.missing(after)}
                )
            event = self._progressed() if self._progressed else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    event.wait() if event else asyncio.sleep(0.05), timeout=min(left, 0.05)
                )

    # ------------------------------------------------------------------ org units
    async def current_facts(
        self, schools: list[str], period: str, types: Collection[str] | None = None
    ) -> list[dict[str, Any]]:
        """The current facts of some schools in one period, from the stored pages (the same
        newest-version-wins rule as the projection); ``types``: of those fact types only."""
        # The same facts are asked for again and again (the card's ВПР section, then plans'
        # proposals, then «как посчитано»): kept while the projection applied nothing new —
        # the stamp (every partition's position) is read before the facts, so a reply is
        # never older than the freshness it is filed under.
        key = (tuple(schools), period, tuple(sorted(types)) if types is not None else None)

        async def read() -> list[dict[str, Any]]:
            gen = await self.gen()
            found = await gen.current_facts(schools, period, types)
            return [compact(f["data"], f["type"]) for f in found]

        return await self.kept(("facts", key), read, with_table=False)

    async def kept(
        self, key: Hashable, compute: Callable[[], Awaitable[T]], *, with_table: bool = True
    ) -> T:
        """``compute()``, kept under ``key`` while the projection applied nothing new (and,
        ``with_table``, the read table folded nothing new: values, org units, periods, the
        planned-result mapping). The stamp is read before computing, so a kept answer is never
        older than the freshness it is filed under. Callers must not change what they get."""
        done = await self.checkpoints()
        stamp: tuple[Any, ...] = (
            done.get("generation"),
            tuple(sorted(done.get("positions", {}).items())),
        )
        if with_table:
            stamp += (tuple(sorted(self.table.positions.items())),)
        found = self._kept.get(key)
        if found is not None and found[0] == stamp:
            self._kept.move_to_end(key)
            return cast(T, found[1])
        value = await compute()
        self._kept[key] = (stamp, value)
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)
        return value

    async def org(self, unit_id: str) -> dict[str, Any] | None:
        return self.table.org.get(unit_id)

    async def schools_of(self, municipality_id: str) -> list[str]:
        return self.table.schools_of(municipality_id)

    # ------------------------------------------------------------------ approval
    def _school_value(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A school value with the state of its monitoring period (ADR 0006)."""
        return {**_value(doc), "approval": self.table.approval_of(doc["unit_id"], doc["period"])}

    def _lists_of(self, school: str, period: str) -> list[dict[str, Any]]:
        approval = self.table.approval_of(school, period)
        return [{**e, "approval": approval} for e in self.table.lists_of(school, period)]

    # ------------------------------------------------------------------ queries
    async def school_card(self, school_id: str) -> dict[str, Any]:
        t = self.table
        org = t.org.get(school_id) or {}
        trend: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in t.school_values(school_id):
            trend[doc["indicator_id"]].append(self._school_value(doc))
        indicators = []
        for ind in self.catalogue.indicators:
            series = sorted(trend.get(ind.id, ()), key=lambda v: v["period"])
            latest = series[-1] if series else None
            indicators.append(
                {
                    **self._described[ind.id],
                    "latest": latest,
                    "at_risk": bool(latest and latest["at_risk"]),
                    "trend": series,
                }
            )
        lists = [e for p in t.periods_of(school_id) for e in self._lists_of(school_id, p)]
        teachers = await self.teacher_values(school_id)
        return {
            "school": {
                "school_id": school_id,
                "name": org.get("name"),
                "municipality_id": org.get("municipality_id"),
                "region_id": org.get("region_id"),
            },
            "indicators": indicators,
            "lists": sorted(lists, key=lambda d: (d["period"], d["list"])),
            "teacher_indicators": sorted(
                teachers, key=lambda d: (d["indicator_id"], d["teacher"], d["period"])
            ),
            "freshness": await self.freshness(),
        }

    async def school_indicator(
        self,
        school_id: str,
        indicator_id: str,
        period: str,
        as_of: dt.datetime | None,
        definition_version: str | None = None,
    ) -> dict[str, Any]:
        if definition_version not in (None, self.catalogue.version):
            value = await self._under(school_id, indicator_id, period, definition_version)
        elif as_of is None:
            doc = self.table.school_value(indicator_id, school_id, period)
            value = _value(doc) if doc else None
        else:
            if as_of.tzinfo is None:
                as_of = as_of.replace(tzinfo=dt.UTC)
            value = await self._as_of(school_id, indicator_id, period, as_of)
        approval = self.table.approval_at(school_id, period, as_of)  # the state then
        if value is not None:
            value = {**value, "approval": approval}
        return {
            "school_id": school_id,
            "indicator_id": indicator_id,
            "period": period,
            "approval": approval,
            "as_of": as_of,
            "definition_version": definition_version or self.catalogue.version,
            "value": value,
            "freshness": await self.freshness(),
        }

    async def history(self, school_id: str, indicator_id: str, period: str) -> list[dict[str, Any]]:
        """Every value the indicator had, from the cell's pages (each carries the state)."""
        gen = await self.gen()
        out: list[dict[str, Any]] = []
        ind = self.catalogue.get(indicator_id)
        for page in await gen.pages_of([school_id], period):
            v = unpack(page["state"])["values"].get(indicator_id)
            if v is None or (out and out[-1]["version"] == v[3]):
                continue
            out.append(
                {
                    "indicator_id": indicator_id,
                    "scope": "school",
                    "unit_id": school_id,
                    "period": period,
                    "numerator": v[0],
                    "denominator": v[1],
                    "value": v[2],
                    "at_risk": ind.threshold is not None and ind.threshold.at_risk(v[2]),
                    "version": v[3],
                    "definition_version": self.catalogue.version,
                    "as_of": page["event_time"],
                }
            )
        return out

    async def _as_of(
        self, school_id: str, indicator_id: str, period: str, as_of: dt.datetime
    ) -> dict[str, Any] | None:
        found = None
        for h in await self.history(school_id, indicator_id, period):
            t = h["as_of"]
            if t is not None and t.tzinfo is None:
                t = t.replace(tzinfo=dt.UTC)
            if t is not None and t <= as_of:
                found = h
        return found

    async def _under(
        self, school_id: str, indicator_id: str, period: str, version: str | None
    ) -> dict[str, Any] | None:
        """Today's facts computed under an earlier definition version."""
        catalogue = self.previous[version or ""]
        facts = await self.current_facts([school_id], period)
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
        self, municipality_id: str, period: str, sort: str | None, descending: bool,
        view: View | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        if view is not None and not view.is_live(self.catalogue.version):
            return await self.views.municipality_table(
                municipality_id, period, view, sort, descending
            )
        t = self.table
        schools = t.schools_of(municipality_id)
        rows: dict[str, dict[str, Any]] = {
            sid: {
                "school_id": sid,
                "name": t.org[sid].get("name"),
                "values": {},
                "at_risk": [],
                "lists": [],
                "approval": t.approval_of(sid, period),
            }
            for sid in schools
        }
        for sid, row in rows.items():
            for doc in t.school_values(sid, period):
                row["values"][doc["indicator_id"]] = doc["value"]
                if doc["at_risk"]:
                    row["at_risk"].append(doc["indicator_id"])
            row["at_risk"].sort()
            row["lists"] = [e["list"] for e in t.lists_of(sid, period) if e["member"]]
        table = list(rows.values())
        if sort in (None, "school_id", "name"):
            table.sort(key=lambda r: str(r.get(sort or "school_id") or ""), reverse=descending)
        else:
            present = [r for r in table if r["values"].get(sort) is not None]
            missing = [r for r in table if r["values"].get(sort) is None]
            present.sort(key=lambda r: (r["values"][sort], r["school_id"]), reverse=descending)
            table = present + sorted(missing, key=lambda r: r["school_id"])
        total = {
            k: _value(v)
            for k, v in t.roll_up("municipality", municipality_id, period, schools).items()
        }
        return {
            "municipality_id": municipality_id,
            "period": period,
            "sort": sort,
            "order": "desc" if descending else "asc",
            "rows": table,
            "municipality": total,
            "basis": LIVE,
            "approval": t.approval_summary(schools, period),
            "freshness": await self.freshness(),
        }

    def rollups(self, region_id: str, period: str) -> dict[str, Any]:
        """The region's and its municipalities' roll-ups with their approval summaries
        (read-only: kept until the table next changes — every indicator summed over every
        school was most of a region summary's 130 ms on the typical region)."""
        return self.table.derived(
            ("rollups", region_id, period), lambda: self._rollups(region_id, period)
        )

    def _rollups(self, region_id: str, period: str) -> dict[str, Any]:
        t = self.table
        municipalities = {
            m: t.roll_up("municipality", m, period, t.schools_of(m))
            for m in t.municipalities_of(region_id)
        }
        schools = [s for m in t.municipalities_of(region_id) for s in t.schools_of(m)]
        return {
            "region": t.roll_up("region", region_id, period, schools),
            "municipalities": {m: v for m, v in municipalities.items() if v},
            "approval": {
                "region": t.approval_summary(schools, period),
                "municipalities": {
                    m: t.approval_summary(t.schools_of(m), period)
                    for m in t.municipalities_of(region_id)
                },
            },
        }

    async def region_summary(
        self,
        region_id: str,
        period: str,
        view: View | None = None,
        indicators: Collection[str] | None = None,
    ) -> dict[str, Any]:
        """Region and municipality roll-ups with list counts; ``indicators``: of those only
        (a page showing a few columns need not carry all of the catalogue's)."""
        if view is not None and not view.is_live(self.catalogue.version):
            body = await self.views.region_summary(region_id, period, view)
        else:
            body = {
                **self.table.derived(
                    ("region_summary", region_id, period),
                    lambda: self._region_summary(region_id, period),
                ),
                "freshness": await self.freshness(),
            }
        if indicators is None:
            return body
        keep = set(indicators)
        return {
            **body,
            "region": {k: v for k, v in body["region"].items() if k in keep},
            "municipalities": {
                m: {k: v for k, v in vals.items() if k in keep}
                for m, vals in body["municipalities"].items()
            },
        }

    def _region_summary(self, region_id: str, period: str) -> dict[str, Any]:
        t = self.table
        rolled = self.rollups(region_id, period)
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for m in t.municipalities_of(region_id):
            for s in t.schools_of(m):
                for e in t.lists_of(s, period):
                    if e["member"]:
                        counts[e["list"]][m] += 1
        return {
            "region_id": region_id,
            "period": period,
            "region": {k: _value(v) for k, v in rolled["region"].items()},
            "municipalities": {
                m: {k: _value(v) for k, v in vals.items()}
                for m, vals in rolled["municipalities"].items()
            },
            "list_counts": {k: dict(v) for k, v in counts.items()},
            "basis": LIVE,
            "approval": rolled["approval"],
        }

    def _schools(self, region: str | None, municipality: str | None) -> list[str]:
        t = self.table
        if municipality:
            return t.schools_of(municipality)
        return sorted(
            k for k, o in t.org.items() if o["kind"] == "school" and o["region_id"] == region
        )

    async def risk_list(
        self, risk_list: str, period: str, previous: str, municipality: str | None,
        region: str | None = None, view: View | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        t = self.table
        schools = self._schools(region, municipality)
        if view is not None and not view.is_live(self.catalogue.version):
            return await self.views.risk_list(
                risk_list, period, previous, schools, view, municipality
            )
        now = t.members(risk_list, period, schools)
        before = t.members(risk_list, previous, schools)
        extra: dict[str, Any] = {}
        if risk_list == read_objectivity.LIST_NAME:  # region-relative signs, federal list
            now, before, extra = read_objectivity.objectivity_list(
                t, self.catalogue, schools, period, previous, now, before, region
            )
        rule = next(r for r in self.catalogue.lists if r.name == risk_list)
        answer = {
            "list": risk_list,
            "period": period,
            "previous_period": previous,
            "municipality_id": municipality,
            "members": [
                {
                    "school_id": sid,
                    "municipality_id": t.org[sid]["municipality_id"],
                    "reasons": reasons,
                    # the reasons in full: value, numerator/denominator, threshold (explain)
                    "criteria": fired_criteria(
                        rule, self.catalogue, t.values_by_indicator(sid, period), reasons
                    ),
                    "definition_version": self.catalogue.version,
                    "approval": t.approval_of(sid, period),
                }
                | (
                    {"federal_list": sid in extra["federal"], "flags": extra["flags"].get(sid, [])}
                    if extra
                    else {}
                )
                for sid, reasons in sorted(now.items())
            ],
            "dynamics": list_dynamics(set(before), set(now)),
            "basis": LIVE,
            "approval": t.approval_summary(schools, period),
            "freshness": await self.freshness(),
        }
        if extra:
            answer["federal_list_not_screened"] = extra["federal_list_not_screened"]
        return answer

    async def direction(
        self, direction: str, period: str, region: str, municipality: str | None
    ) -> dict[str, Any]:
        t = self.table
        values: list[dict[str, Any]] = []
        if municipality:
            for s in t.schools_of(municipality):
                values += [self._school_value(d) for d in t.school_values(s, period)]
            values += [
                _value(v)
                for v in t.roll_up(
                    "municipality", municipality, period, t.schools_of(municipality)
                ).values()
            ]
        else:
            rolled = self.rollups(region, period)
            values += [_value(v) for v in rolled["region"].values()]
            values += [_value(v) for m in rolled["municipalities"].values() for v in m.values()]
        values = [v for v in values if v["direction"] == direction]
        values.sort(key=lambda v: (v["indicator_id"], v["scope"], v["unit_id"]))
        return {
            "direction": direction,
            "period": period,
            "municipality_id": municipality,
            "indicators": [
                i.describe() for i in self.catalogue.indicators if i.direction == direction
            ],
            "values": values,
            "freshness": await self.freshness(),
        }
