"""Applying a batch of delivered events to the projections (the live consumer and rebuild).

The projector keeps its generation's working set in memory (see ``working_set``) and, per
batch, in this order (at-least-once delivery, no transactions):
1. org units and facts are stored — facts append-only, each with the log position it came
   from; a fact replaces the current one only when it is newer (higher originator version,
   then later offset), so a redelivery changes nothing and a correction replaces the original;
   a fact whose school is not registered yet waits for its ``SchoolRegistered`` (org units and
   facts travel on different topics, so either may arrive first);
2. the affected (school, period) indicators and lists are recomputed from the current facts
   (pure domain functions), the roll-ups from the schools' values;
3. derived events are published for what actually changed (a crash before step 4 means the
   redelivered batch publishes them again with the same originator id and version);
4. changed values, lists, roll-ups, history and freshness are written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shkala_contracts import Tenant
from shkala_contracts.base import Fact
from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    ObjectivityFlagRaised,
    RiskList,
    Scope,
    ThresholdCrossing,
)
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolMoved,
    SchoolRegistered,
)
from shkala_indicators.adapters.memory_view import MemoryGeneration
from shkala_indicators.adapters.store import Generation, Put, bulk, put
from shkala_indicators.domain.catalogue import Catalogue
from shkala_indicators.domain.compute import (
    Value,
    at_risk,
    compute_school,
    compute_teachers,
    list_membership,
    roll_up,
)
from shkala_indicators.service_layer.working_set import (
    Cell,
    CellKey,
    WorkingSet,
    compact,
    pack_facts,
)
from shkala_runtime.consuming import Delivered, Rejection
from shkala_runtime.kafka import Outgoing
from shkala_runtime.tracing import tracer

log = logging.getLogger(__name__)

OBJECTIVITY_PROCEDURE = {
    "vpr_lowered_share": "ВПР",
    "vpr_raised_share": "ВПР",
    "vpr_confirmed_share": "ВПР",
    "medalists_not_confirming_share": "ЕГЭ",
}


class Phases:
    """Seconds spent per phase of one batch: logged when a batch is slow, to see where."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._t
        self._t = now

    def total(self) -> float:
        return sum(self.seconds.values())

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:.2f}s" for k, v in self.seconds.items())


class Publisher(Protocol):
    async def publish(self, items: Sequence[Outgoing]) -> Any: ...


def position_key(topic: str, partition: int) -> str:
    return f"{topic.replace('.', '_')}|{partition}"


def _newer(a: tuple[int, int], b: tuple[int, int] | None) -> bool:
    return b is None or a > b


def _positions(by_partition: dict[tuple[str, int], int]) -> list[dict[str, Any]]:
    """Log positions a document reflects (sub-documents: FerretDB has no nested arrays)."""
    return [
        {"topic": t, "partition": p, "offset": off} for (t, p), off in sorted(by_partition.items())
    ]


def value_key(indicator: str, scope: str, unit: str, period: str) -> str:
    return f"{indicator}|{scope}|{unit}|{period}"


def _same(doc: dict[str, Any] | None, v: Value | None) -> bool:
    if doc is None:
        return v is None
    if v is None:
        return doc.get("value") is None and doc.get("denominator") == 0
    return (doc["numerator"], doc["denominator"], doc["value"]) == (
        v.numerator,
        v.denominator,
        v.value,
    )


@dataclass
class _Writes:
    """What one batch writes and publishes."""

    lists: list[Put] = field(default_factory=list)
    history: list[Put] = field(default_factory=list)
    teachers: list[dict[str, Any]] = field(default_factory=list)
    teacher_gone: list[str] = field(default_factory=list)
    events: list[Outgoing] = field(default_factory=list)


def _org_doc(d: Delivered) -> dict[str, Any]:
    e = d.event
    if isinstance(e, SchoolRegistered):
        doc = {
            "_id": e.school_id,
            "kind": "school",
            "region_id": e.region_id,
            "municipality_id": e.municipality_id,
            "name": e.name,
        }
    elif isinstance(e, MunicipalityRegistered):
        doc = {
            "_id": e.municipality_id,
            "kind": "municipality",
            "region_id": e.region_id,
            "name": e.name,
        }
    else:
        assert isinstance(e, RegionRegistered)
        doc = {"_id": e.region_id, "kind": "region", "name": e.name}
    return doc | {
        "originator_id": d.envelope.originator_id,
        "v": d.envelope.originator_version,
        "offset": d.position.offset,
        "topic": d.position.topic,
        "partition": d.position.partition,
    }


class Projector:
    def __init__(
        self,
        catalogue: Catalogue,
        *,
        source: str,
        publisher: Publisher | None,
        full_batch: int = 20000,
    ) -> None:
        self.catalogue = catalogue
        self.by_id = catalogue.by_id()
        self.source = source
        self.publisher = publisher
        self._sets: dict[str, WorkingSet] = {}
        self.slow_batch_s = 1.0
        self.full_batch = full_batch
        self.live_generation: str | None = None  # set by the live consumer
        self._flush_lock = asyncio.Lock()
        self._gens: dict[str, Generation] = {}

    # ------------------------------------------------------------- working sets
    def holds(self, generation: str) -> bool:
        return generation in self._sets

    def forget(self, generation: str) -> None:
        """Drop a generation's working set: the next batch loads it from the database."""
        self._sets.pop(generation, None)

    def keep_only(self, generation: str) -> None:
        for name in [n for n in self._sets if n != generation]:
            del self._sets[name]

    async def working_set(self, gen: Generation) -> WorkingSet:
        ws = self._sets.get(gen.name)
        if ws is None:
            with tracer.start_as_current_span("load working set"):
                ws = await WorkingSet.load(gen)
            self._sets[gen.name] = ws
            self._gens[gen.name] = gen
            log.info(
                "loaded generation %s: %d facts, %d values",
                gen.name,
                len(ws.placed),
                len(ws.values),
            )
        return ws

    async def flush(self, gen: Generation) -> int:
        """Write the values changed since the last flush to the ``values`` collection."""
        async with self._flush_lock:
            ws = self._sets.get(gen.name)
            if ws is None or not ws.dirty_values:
                return 0
            dirty = dict(ws.dirty_values)
            await bulk(gen.values, [put(doc, True) for doc in dirty.values()])
            for key, doc in dirty.items():  # a batch may have changed some meanwhile
                if ws.dirty_values.get(key) is doc:
                    del ws.dirty_values[key]
            return len(dirty)

    async def flush_live(self) -> int:
        """Flush the live generation (a timer calls it: a burst may end on a full batch)."""
        gen = self._gens.get(self.live_generation or "")
        return await self.flush(gen) if gen is not None else 0

    def live_view(self, generation: str | None = None) -> MemoryGeneration | None:
        """The working set the live consumer last applied to, as the read model sees it."""
        name = generation or self.live_generation
        ws = self._sets.get(name) if name else None
        if ws is None:
            return None
        return MemoryGeneration(
            ws.generation,
            org=ws.org,
            values=ws.values,
            lists=ws.lists,
            teacher_values=ws.teacher_values,
            history=self._gens[ws.generation].history,
            freshness=ws.freshness,
            cells=ws.cells,
        )

    # ------------------------------------------------------------------ applying
    async def apply(
        self,
        gen: Generation,
        batch: Sequence[Delivered],
        *,
        emit: bool = True,
        write_through: bool = True,
    ) -> list[Rejection]:
        """``write_through=False`` (a replay) leaves the values view to one flush at the end."""
        ws = await self.working_set(gen)
        try:
            return await self._apply(ws, gen, batch, emit, write_through)
        except BaseException:
            self.forget(gen.name)  # memory may be ahead of the database now
            raise

    async def _apply(
        self,
        ws: WorkingSet,
        gen: Generation,
        batch: Sequence[Delivered],
        emit: bool,
        write_through: bool,
    ) -> list[Rejection]:
        org_items = [
            d
            for d in batch
            if isinstance(d.event, RegionRegistered | MunicipalityRegistered | SchoolRegistered)
        ]
        org_ids = {id(d) for d in org_items}
        rejections: list[Rejection] = []
        accepted: list[Delivered] = []
        for d in batch:
            if id(d) in org_ids or isinstance(d.event, SchoolMoved):
                continue  # a move's SchoolRegistered (just after it) carries the new municipality
            sid = getattr(d.event, "school_id", None)
            if not isinstance(d.event, Fact) or sid is None:
                rejections.append((d, f"not a school fact: {d.envelope.type}"))
            elif d.envelope.tenant.school not in (None, sid):
                rejections.append(
                    (d, f"tenant school {d.envelope.tenant.school!r} differs from {sid!r}")
                )
            else:
                accepted.append(d)

        phases = Phases()
        registered = await self._apply_org(ws, gen, org_items)
        phases.mark("org units")
        affected = await self._store_facts(ws, gen, accepted)
        phases.mark("store facts")
        for school in registered:  # a new or moved school: its periods count (again)
            affected |= {(school, p) for p in ws.periods.get(school, ())}
        affected = {c for c in affected if ws.is_school(c[0])}  # the rest wait for their school
        if affected:
            with tracer.start_as_current_span(
                "evaluate indicators and lists",
                attributes={"shkala.schools_periods": len(affected)},
            ):
                await self._recompute(ws, gen, affected, emit, phases)

        positions: dict[str, int] = {}
        last_time: dt.datetime | None = None
        for d in batch:
            k = position_key(d.position.topic, d.position.partition)
            positions[k] = max(positions.get(k, -1), d.position.offset)
            last_time = max(last_time, d.envelope.time) if last_time else d.envelope.time
        ws.record_freshness(positions, last_time)  # the API answers from memory: visible now
        # caught up (a batch smaller than a full one): write the values view through;
        # lagging: a timer writes it every few seconds, each value once however often it
        # changed (see bootstrap.PeriodicFlush)
        if write_through and len(batch) < self.full_batch:
            written = await self.flush(gen)
            phases.mark(f"flush {written} values")
        await gen.record_freshness(positions, last_time)
        phases.mark("freshness")
        if phases.total() > self.slow_batch_s:
            log.info(
                "batch of %d events, %d schools-periods took %.2fs: %s",
                len(batch),
                len(affected),
                phases.total(),
                phases,
            )
        return rejections

    # ------------------------------------------------------------------ storing
    async def _apply_org(
        self, ws: WorkingSet, gen: Generation, items: Sequence[Delivered]
    ) -> set[str]:
        """Store the newest version of each org unit; returns schools registered or moved."""
        winners: dict[str, Delivered] = {}
        for d in items:
            unit = _org_doc(d)["_id"]
            rank = (d.envelope.originator_version, d.position.offset)
            w = winners.get(unit)
            stored = ws.org.get(unit)
            if w is not None:
                current: tuple[int, int] | None = (
                    w.envelope.originator_version,
                    w.position.offset,
                )
            else:
                current = (stored["v"], stored["offset"]) if stored else None
            if _newer(rank, current):
                winners[unit] = d
        ops: list[Put] = []
        registered: set[str] = set()
        for d in winners.values():
            doc = _org_doc(d)
            old = ws.org.get(doc["_id"])
            if isinstance(d.event, SchoolRegistered) and (
                old is None or old.get("municipality_id") != doc["municipality_id"]
            ):
                registered.add(doc["_id"])
            ws.org[doc["_id"]] = doc
            ops.append(put(doc, old is not None))
        await bulk(gen.org, ops)
        return registered

    async def _store_facts(
        self, ws: WorkingSet, gen: Generation, items: Sequence[Delivered]
    ) -> set[CellKey]:
        affected: set[CellKey] = set()
        pages: dict[CellKey, list[dict[str, Any]]] = {}
        for d in items:
            event: Any = d.event
            cell = (event.school_id, event.academic_year)
            # redelivered facts recompute their cell too: after a crash between storing the
            # facts and writing the values, this is what writes the values
            affected.add(cell)
            oid = d.envelope.originator_id
            rank = (d.envelope.originator_version, d.position.offset)
            if not ws.is_newer(oid, rank):
                continue
            payload = event.model_dump(mode="json")
            pos = d.position
            left = ws.place(
                oid,
                rank,
                cell,
                compact(payload, d.envelope.type),
                (pos.topic, pos.partition, pos.offset, d.envelope.time),
            )
            if left is not None:  # a correction moved the fact to another school or year
                affected.add(left)
            pages.setdefault(cell, []).append(
                {
                    "oid": oid,
                    "type": d.envelope.type,
                    "v": rank[0],
                    "topic": pos.topic,
                    "partition": pos.partition,
                    "offset": pos.offset,
                    "time": d.envelope.time.isoformat(),
                    "data": payload,
                }
            )
        if pages:
            await gen.facts.insert_many(
                [
                    {
                        # unique per batch: the first fact's log position names the page
                        "_id": f"{school}|{year}|{f[0]['topic']}|{f[0]['partition']}|"
                        f"{f[0]['offset']}",
                        "school_id": school,
                        "year": year,
                        "count": len(f),
                        "facts": pack_facts(f),
                    }
                    for (school, year), f in pages.items()
                ],
                ordered=True,
            )
        return affected

    # --------------------------------------------------------------- recomputing
    async def _recompute(
        self,
        ws: WorkingSet,
        gen: Generation,
        affected: set[CellKey],
        emit: bool,
        phases: Phases,
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        out = _Writes()
        rollup_keys: set[tuple[str, str, str]] = set()  # (region, municipality, period)
        for school, period in sorted(affected):
            o = ws.org[school]
            region, municipality = o["region_id"], o["municipality_id"]
            tenant = Tenant(region=region, municipality=municipality, school=school)
            cell = ws.cells.get((school, period)) or Cell()
            positions = _positions(cell.positions)
            facts = list(cell.facts.values())
            values = compute_school(self.catalogue, facts)
            for ind in self.catalogue.indicators:
                key = value_key(ind.id, "school", school, period)
                old = ws.values.get(key)
                new = values.get(ind.id)
                if old is None and new is None:
                    continue
                changed = not _same(old, new)
                if not changed and old is not None and old.get("municipality_id") == municipality:
                    continue
                doc = self._value_doc(
                    key,
                    ind.id,
                    "school",
                    region,
                    municipality,
                    school,
                    period,
                    new,
                    self.catalogue.version,
                    positions,
                    cell.event_time,
                    now,
                    (old or {}).get("version", 0) + (1 if changed else 0),
                )
                ws.set_value(doc)
                out.history.append(put(self.history_entry(doc), False))
                rollup_keys.add((region, municipality, period))
                if old is not None and old.get("municipality_id") != municipality:
                    rollup_keys.add((region, old["municipality_id"], period))
                if changed:
                    out.events.extend(
                        self._value_events(doc, old, tenant, Scope.SCHOOL, school_id=school)
                    )
            self._lists(ws, out, school, period, values, tenant, positions, cell, now)
            self._teachers(ws, out, school, municipality, period, facts)

        self._rollups(ws, out, rollup_keys, now)
        phases.mark("compute")
        if emit and self.publisher is not None and out.events:
            await self.publisher.publish(out.events)
        phases.mark(f"publish {len(out.events)} events")
        await bulk(gen.history, out.history)
        phases.mark(f"write {len(out.history)} value changes")
        await bulk(gen.lists, out.lists)
        phases.mark("write lists, history")
        if out.teacher_gone or out.teachers:
            gone = out.teacher_gone + [d["_id"] for d in out.teachers]
            await gen.teacher_values.delete_many({"_id": {"$in": gone}})
            if out.teachers:
                await gen.teacher_values.insert_many(out.teachers, ordered=True)

    def _lists(
        self,
        ws: WorkingSet,
        out: _Writes,
        school: str,
        period: str,
        values: dict[str, Value],
        tenant: Tenant,
        positions: list[dict[str, Any]],
        cell: Cell,
        now: dt.datetime,
    ) -> None:
        version = self.catalogue.version
        for rule in self.catalogue.lists:
            member, reasons = list_membership(rule, self.catalogue, values)
            key = f"{rule.name}|{school}|{period}"
            old = ws.lists.get(key)
            was = bool(old and old["member"])
            if (
                old is not None
                and was == member
                and tuple(old["reasons"]) == reasons
                and old.get("municipality_id") == tenant.municipality
            ):
                continue
            lv = max((old or {}).get("version", 0) + (1 if was != member else 0), 1)
            doc = {
                "_id": key,
                "list": rule.name,
                "school_id": school,
                "municipality_id": tenant.municipality,
                "region_id": tenant.region,
                "period": period,
                "member": member,
                "reasons": list(reasons),
                "definition_version": version,
                "version": lv,
                "positions": positions,
                "event_time": cell.event_time,
                "updated_at": now,
            }
            ws.lists[key] = doc
            out.lists.append(put(doc, old is not None))
            if was != member:
                out.events.append(
                    Outgoing.of(
                        ListMembershipChanged(
                            originator_id=f"list:{key}",
                            originator_version=lv,
                            region_id=tenant.region,
                            municipality_id=tenant.municipality,
                            school_id=school,
                            risk_list=RiskList(rule.name),
                            period=period,
                            change=MembershipChange.ENTERED if member else MembershipChange.LEFT,
                            definition_version=version,
                            reasons=reasons,
                        ),
                        source=self.source,
                        tenant=tenant,
                    )
                )

    def _teachers(
        self,
        ws: WorkingSet,
        out: _Writes,
        school: str,
        municipality: str,
        period: str,
        facts: list[dict[str, Any]],
    ) -> None:
        """Teacher-level values, only for teachers who opted in; written when they change."""
        fresh = {}
        for (ind_id, teacher), v in sorted(compute_teachers(self.catalogue, facts).items()):
            fresh[f"{ind_id}|{teacher}|{school}|{period}"] = {
                "_id": f"{ind_id}|{teacher}|{school}|{period}",
                "indicator_id": ind_id,
                "teacher": teacher,
                "school_id": school,
                "municipality_id": municipality,
                "period": period,
                "numerator": v.numerator,
                "denominator": v.denominator,
                "value": v.value,
                "definition_version": self.catalogue.version,
            }
        stale = [
            k
            for k, d in ws.teacher_values.items()
            if d["school_id"] == school and d["period"] == period and k not in fresh
        ]
        for k in stale:
            del ws.teacher_values[k]
        out.teacher_gone.extend(stale)
        for k, doc in fresh.items():
            if ws.teacher_values.get(k) != doc:
                ws.teacher_values[k] = doc
                out.teachers.append(doc)

    def _rollups(
        self,
        ws: WorkingSet,
        out: _Writes,
        keys: set[tuple[str, str, str]],
        now: dt.datetime,
    ) -> None:
        """Municipality roll-ups over their schools' values, then region over municipalities."""
        regions = sorted({(r, p) for r, _, p in keys})
        targets = [("municipality", r, m, p) for r, m, p in sorted(keys)] + [
            ("region", r, r, p) for r, p in regions
        ]
        for scope, region, unit, period in targets:
            if scope == "municipality":
                members, member_scope = ws.schools_of(unit), "school"
                schools = members
            else:
                members, member_scope = sorted(ws.municipalities_of(region)), "municipality"
                schools = [s for m in members for s in ws.schools_of(m)]
            positions: dict[tuple[str, int], int] = {}
            event_time = None
            for s in schools:
                cell = ws.cells.get((s, period))
                if cell is None:
                    continue
                for tp, off in cell.positions.items():
                    positions[tp] = max(positions.get(tp, -1), off)
                if cell.event_time and (event_time is None or cell.event_time > event_time):
                    event_time = cell.event_time
            pos = _positions(positions)
            tenant = Tenant(region=region, municipality=unit if scope == "municipality" else None)
            for ind in self.catalogue.indicators:
                parts = [
                    Value(d["numerator"], d["denominator"], d["value"])
                    for m in members
                    if (d := ws.values.get(value_key(ind.id, member_scope, m, period)))
                    and d["denominator"]
                ]
                key = value_key(ind.id, scope, unit, period)
                new = roll_up(ind, parts)
                old = ws.values.get(key)
                if old is None and new is None:
                    continue
                changed = not _same(old, new)
                if not changed:
                    continue
                doc = self._value_doc(
                    key,
                    ind.id,
                    scope,
                    region,
                    unit if scope == "municipality" else None,
                    None,
                    period,
                    new,
                    self.catalogue.version,
                    pos,
                    event_time,
                    now,
                    (old or {}).get("version", 0) + (1 if changed else 0),
                )
                ws.set_value(doc)
                out.history.append(put(self.history_entry(doc), False))
                out.events.extend(self._value_events(doc, old, tenant, Scope(scope)))

    # ------------------------------------------------------------------ helpers
    def _value_doc(
        self,
        key: str,
        indicator: str,
        scope: str,
        region: str,
        municipality: str | None,
        school: str | None,
        period: str,
        v: Value | None,
        version: str,
        positions: list[dict[str, Any]],
        event_time: dt.datetime | None,
        now: dt.datetime,
        doc_version: int,
    ) -> dict[str, Any]:
        ind = self.by_id[indicator]
        return {
            "_id": key,
            "indicator_id": indicator,
            "direction": ind.direction,
            "scope": scope,
            "unit_id": school or municipality or region,
            "region_id": region,
            "municipality_id": municipality,
            "school_id": school,
            "period": period,
            "numerator": v.numerator if v else 0.0,
            "denominator": v.denominator if v else 0.0,
            "value": v.value if v else None,
            "at_risk": at_risk(ind, v),
            "definition_version": version,
            "version": max(doc_version, 1),
            "positions": positions,
            "event_time": event_time,
            "updated_at": now,
        }

    @staticmethod
    def history_entry(doc: dict[str, Any]) -> dict[str, Any]:
        """Every value written, whole: the durable record the working set loads from."""
        return {
            **{k: v for k, v in doc.items() if k != "_id"},
            "key": doc["_id"],
            "as_of": doc["event_time"] or doc["updated_at"],
            "recorded_at": doc["updated_at"],
        }

    def _value_events(
        self,
        doc: dict[str, Any],
        old: dict[str, Any] | None,
        tenant: Tenant,
        scope: Scope,
        school_id: str | None = None,
    ) -> list[Outgoing]:
        ind = self.by_id[doc["indicator_id"]]
        was, now_risk = bool(old and old.get("at_risk")), doc["at_risk"]
        crossing = None
        if was != now_risk:
            crossing = ThresholdCrossing.INTO_RISK if now_risk else ThresholdCrossing.OUT_OF_RISK
        out = [
            Outgoing.of(
                IndicatorValueChanged(
                    originator_id=f"indicator:{doc['_id']}",
                    originator_version=doc["version"],
                    region_id=doc["region_id"],
                    municipality_id=doc["municipality_id"],
                    school_id=school_id,
                    indicator_id=ind.id,
                    direction=ind.direction,
                    scope=scope,
                    period=doc["period"],
                    definition_version=doc["definition_version"],
                    old_value=old.get("value") if old else None,
                    new_value=doc["value"],
                    numerator=doc["numerator"],
                    denominator=doc["denominator"],
                    threshold_crossed=crossing,
                ),
                source=self.source,
                tenant=tenant,
            )
        ]
        if (
            scope is Scope.SCHOOL
            and crossing is ThresholdCrossing.INTO_RISK
            and ind.direction == "objectivity"
            and ind.threshold is not None
        ):
            out.append(
                Outgoing.of(
                    ObjectivityFlagRaised(
                        originator_id=f"objectivity:{doc['_id']}",
                        originator_version=doc["version"],
                        region_id=doc["region_id"],
                        municipality_id=doc["municipality_id"],
                        school_id=school_id,
                        indicator_id=ind.id,
                        period=doc["period"],
                        procedure=OBJECTIVITY_PROCEDURE.get(ind.id, "ВПР"),
                        value=doc["value"],
                        threshold=ind.threshold.value,
                        definition_version=doc["definition_version"],
                    ),
                    source=self.source,
                    tenant=tenant,
                )
            )
        return out


__all__ = ["Projector", "position_key", "value_key"]
