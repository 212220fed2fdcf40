"""Applying a batch of delivered events to the projections (the live consumer and rebuild).

Order inside one batch, chosen for at-least-once delivery without transactions:
1. org units and facts are stored, each with the log position it came from (a fact replaces
   the stored one only when it is newer: higher originator version, then later offset — so a
   redelivery changes nothing and a correction replaces the original);
2. the affected (school, period) indicators, lists and roll-ups are recomputed from the
   stored facts (pure domain functions);
3. derived events are published for what actually changed (a crash before step 4 means the
   redelivered batch publishes them again with the same originator id and version);
4. values, lists, roll-ups, history and freshness are written.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
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
    SchoolRegistered,
)
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


class Publisher(Protocol):
    async def publish(self, items: Sequence[Outgoing]) -> Any: ...


def _pos_key(topic: str, partition: int) -> str:
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


class Projector:
    def __init__(
        self,
        catalogue: Catalogue,
        *,
        source: str,
        publisher: Publisher | None,
    ) -> None:
        self.catalogue = catalogue
        self.by_id = catalogue.by_id()
        self.source = source
        self.publisher = publisher

    async def apply(
        self, gen: Generation, batch: Sequence[Delivered], *, emit: bool = True
    ) -> list[Rejection]:
        rejections: list[Rejection] = []
        org_items = [
            d
            for d in batch
            if isinstance(d.event, RegionRegistered | MunicipalityRegistered | SchoolRegistered)
        ]
        fact_items = [d for d in batch if d not in org_items]
        await self._apply_org(gen, org_items)

        school_ids = {getattr(d.event, "school_id", None) for d in fact_items}
        schools = {
            doc["_id"]: doc
            async for doc in gen.org.find({"_id": {"$in": [s for s in school_ids if s]}})
        }
        accepted: list[Delivered] = []
        for d in fact_items:
            sid = getattr(d.event, "school_id", None)
            if not isinstance(d.event, Fact) or sid is None:
                rejections.append((d, f"not a school fact: {d.envelope.type}"))
            elif sid not in schools or schools[sid].get("kind") != "school":
                rejections.append((d, f"unknown school {sid!r}: no SchoolRegistered for it"))
            elif d.envelope.tenant.school not in (None, sid):
                rejections.append(
                    (d, f"tenant school {d.envelope.tenant.school!r} differs from {sid!r}")
                )
            else:
                accepted.append(d)

        affected = await self._store_facts(gen, accepted)
        # a SchoolRegistered may move a school: recompute its periods
        for d in org_items:
            if isinstance(d.event, SchoolRegistered):
                async for doc in gen.facts.find(
                    {"school_id": d.event.school_id}, {"year": 1, "school_id": 1}
                ):
                    affected.add((doc["school_id"], doc["year"]))
        if affected:
            with tracer.start_as_current_span(
                "evaluate indicators and lists",
                attributes={"shkala.schools_periods": len(affected)},
            ):
                await self._recompute(gen, affected, emit=emit)

        positions: dict[str, int] = {}
        last_time: dt.datetime | None = None
        for d in batch:
            k = _pos_key(d.position.topic, d.position.partition)
            positions[k] = max(positions.get(k, -1), d.position.offset)
            last_time = max(last_time, d.envelope.time) if last_time else d.envelope.time
        await gen.record_freshness(positions, last_time)
        return rejections

    # ------------------------------------------------------------------ storing
    async def _apply_org(self, gen: Generation, items: Sequence[Delivered]) -> None:
        if not items:
            return
        ids = [d.envelope.originator_id for d in items]
        existing = {
            doc["originator_id"]: (doc["v"], doc["offset"])
            async for doc in gen.org.find(
                {"originator_id": {"$in": ids}}, {"originator_id": 1, "v": 1, "offset": 1}
            )
        }
        winners: dict[str, Delivered] = {}
        for d in items:
            rank = (d.envelope.originator_version, d.position.offset)
            oid = d.envelope.originator_id
            current = (
                (winners[oid].envelope.originator_version, winners[oid].position.offset)
                if oid in winners
                else existing.get(oid)
            )
            if _newer(rank, current):
                winners[oid] = d
        ops = []
        oid_exists = {oid: oid in existing for oid in winners}
        for d in winners.values():
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
            doc |= {
                "originator_id": d.envelope.originator_id,
                "v": d.envelope.originator_version,
                "offset": d.position.offset,
                "topic": d.position.topic,
                "partition": d.position.partition,
            }
            ops.append(put(doc, oid_exists[d.envelope.originator_id]))
        await bulk(gen.org, ops)

    async def _store_facts(
        self, gen: Generation, items: Sequence[Delivered]
    ) -> set[tuple[str, str]]:
        affected: set[tuple[str, str]] = set()
        if not items:
            return affected
        ids = list({d.envelope.originator_id for d in items})
        existing = {
            doc["_id"]: doc
            async for doc in gen.facts.find(
                {"_id": {"$in": ids}}, {"v": 1, "offset": 1, "school_id": 1, "year": 1}
            )
        }
        winners: dict[str, Delivered] = {}
        for d in items:
            event = d.event
            affected.add((event.school_id, event.academic_year))  # type: ignore[attr-defined]
            oid = d.envelope.originator_id
            rank = (d.envelope.originator_version, d.position.offset)
            if oid in winners:
                w = winners[oid]
                current: tuple[int, int] | None = (w.envelope.originator_version, w.position.offset)
            elif oid in existing:
                current = (existing[oid]["v"], existing[oid]["offset"])
            else:
                current = None
            if _newer(rank, current):
                winners[oid] = d
        ops = []
        for oid, d in winners.items():
            if oid in existing:  # a correction may move the fact to another school or year
                affected.add((existing[oid]["school_id"], existing[oid]["year"]))
            ops.append(
                put(
                    {
                        "_id": oid,
                        "type": d.envelope.type,
                        "school_id": d.event.school_id,  # type: ignore[attr-defined]
                        "year": d.event.academic_year,  # type: ignore[attr-defined]
                        "v": d.envelope.originator_version,
                        "topic": d.position.topic,
                        "partition": d.position.partition,
                        "offset": d.position.offset,
                        "time": d.envelope.time,
                        "data": d.event.model_dump(mode="json"),
                    },
                    oid in existing,
                )
            )
        await bulk(gen.facts, ops)
        return affected

    # --------------------------------------------------------------- recomputing
    async def _recompute(
        self, gen: Generation, affected: set[tuple[str, str]], *, emit: bool
    ) -> None:
        schools = sorted({s for s, _ in affected})
        org = {doc["_id"]: doc async for doc in gen.org.find({"_id": {"$in": schools}})}
        facts: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        meta: dict[tuple[str, str], dict[str, Any]] = {}
        async for doc in gen.facts.find({"school_id": {"$in": schools}}):
            key = (doc["school_id"], doc["year"])
            if key not in affected:
                continue
            facts[key].append({**doc["data"], "type": doc["type"]})
            m = meta.setdefault(key, {"positions": {}, "event_time": None})
            pk = (doc["topic"], doc["partition"])
            m["positions"][pk] = max(m["positions"].get(pk, -1), doc["offset"])
            t = doc["time"]
            m["event_time"] = (
                t if m["event_time"] is None or t > m["event_time"] else m["event_time"]
            )

        old_values = {
            doc["_id"]: doc
            async for doc in gen.values.find({"scope": "school", "school_id": {"$in": schools}})
        }
        old_lists = {
            doc["_id"]: doc async for doc in gen.lists.find({"school_id": {"$in": schools}})
        }
        now = dt.datetime.now(dt.UTC)
        version = self.catalogue.version
        school_docs: list[dict[str, Any]] = []
        list_ops: list[Put] = []
        history_ops: list[Put] = []
        teacher_docs: list[dict[str, Any]] = []
        teacher_keys: list[tuple[str, str]] = []
        events: list[Outgoing] = []
        rollup_keys: set[tuple[str, str, str]] = set()  # (region, municipality, period)

        for school, period in sorted(affected):
            o = org.get(school)
            if o is None:
                continue
            region, municipality = o["region_id"], o["municipality_id"]
            tenant = Tenant(region=region, municipality=municipality, school=school)
            rows = facts.get((school, period), [])
            m = meta.get((school, period), {"positions": {}, "event_time": None})
            positions = _positions(m["positions"])
            values = compute_school(self.catalogue, rows)
            for ind in self.catalogue.indicators:
                key = value_key(ind.id, "school", school, period)
                old = old_values.get(key)
                new = values.get(ind.id)
                if old is None and new is None:
                    continue
                changed = not _same(old, new)
                if (
                    not changed
                    and old is not None
                    and old.get("positions") == positions
                    and old.get("municipality_id") == municipality
                ):
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
                    version,
                    positions,
                    m["event_time"],
                    now,
                    (old or {}).get("version", 0) + (1 if changed else 0),
                )
                school_docs.append(doc)
                rollup_keys.add((region, municipality, period))
                if old is not None and old.get("municipality_id") != municipality:
                    rollup_keys.add((region, old["municipality_id"], period))
                if changed:
                    history_ops.append(put(self._history(doc), False))
                    events.extend(
                        self._value_events(doc, old, tenant, Scope.SCHOOL, school_id=school)
                    )
            # lists
            for rule in self.catalogue.lists:
                member, reasons = list_membership(rule, self.catalogue, values)
                key = f"{rule.name}|{school}|{period}"
                old = old_lists.get(key)
                was = bool(old and old["member"])
                if (
                    old is not None
                    and was == member
                    and tuple(old["reasons"]) == reasons
                    and old.get("municipality_id") == municipality
                    and old.get("positions") == positions
                ):
                    continue
                lv = (old or {}).get("version", 0) + (1 if was != member else 0)
                list_ops.append(
                    put(
                        {
                            "_id": key,
                            "list": rule.name,
                            "school_id": school,
                            "municipality_id": municipality,
                            "region_id": region,
                            "period": period,
                            "member": member,
                            "reasons": list(reasons),
                            "definition_version": version,
                            "version": max(lv, 1),
                            "positions": positions,
                            "event_time": m["event_time"],
                            "updated_at": now,
                        },
                        old is not None,
                    )
                )
                if was != member:
                    events.append(
                        Outgoing.of(
                            ListMembershipChanged(
                                originator_id=f"list:{rule.name}|{school}|{period}",
                                originator_version=max(lv, 1),
                                region_id=region,
                                municipality_id=municipality,
                                school_id=school,
                                risk_list=RiskList(rule.name),
                                period=period,
                                change=MembershipChange.ENTERED
                                if member
                                else MembershipChange.LEFT,
                                definition_version=version,
                                reasons=reasons,
                            ),
                            source=self.source,
                            tenant=tenant,
                        )
                    )
            # teacher-level values (only teachers who opted in)
            teacher_keys.append((school, period))
            for (ind_id, teacher), v in sorted(compute_teachers(self.catalogue, rows).items()):
                teacher_docs.append(
                    {
                        "_id": f"{ind_id}|{teacher}|{school}|{period}",
                        "indicator_id": ind_id,
                        "teacher": teacher,
                        "school_id": school,
                        "municipality_id": municipality,
                        "period": period,
                        "numerator": v.numerator,
                        "denominator": v.denominator,
                        "value": v.value,
                        "definition_version": version,
                    }
                )

        pending = {d["_id"]: d for d in school_docs}
        value_ops = [put(d, d["_id"] in old_values) for d in school_docs]
        rollup_ops, rollup_history, rollup_events = await self._rollups(
            gen, rollup_keys, pending, now
        )
        if emit and self.publisher is not None and (events or rollup_events):
            await self.publisher.publish(events + rollup_events)
        await bulk(gen.values, value_ops + rollup_ops)
        await bulk(gen.lists, list_ops)
        await bulk(gen.history, history_ops + rollup_history)
        if teacher_keys:
            await gen.teacher_values.delete_many(
                {"$or": [{"school_id": s, "period": p} for s, p in teacher_keys]}
            )
            if teacher_docs:
                await gen.teacher_values.insert_many(teacher_docs, ordered=True)

    async def _rollups(
        self,
        gen: Generation,
        keys: set[tuple[str, str, str]],
        pending: dict[str, dict[str, Any]],
        now: dt.datetime,
    ) -> tuple[list[Put], list[Put], list[Outgoing]]:
        """Municipality and region roll-ups over the stored values overlaid with ``pending``."""
        ops: list[Put] = []
        history: list[Put] = []
        events: list[Outgoing] = []
        pending = dict(pending)
        municipalities = sorted(keys)
        regions = sorted({(r, p) for r, _, p in keys})
        targets = [("municipality", r, m, p) for r, m, p in municipalities] + [
            ("region", r, r, p) for r, p in regions
        ]
        for scope, region, unit, period in targets:
            if scope == "municipality":
                query = {"scope": "school", "municipality_id": unit, "period": period}

                def belongs(d: dict[str, Any], unit: str = unit, period: str = period) -> bool:
                    return (
                        d["scope"] == "school"
                        and d["municipality_id"] == unit
                        and d["period"] == period
                    )
            else:
                query = {"scope": "municipality", "region_id": region, "period": period}

                def belongs(d: dict[str, Any], region: str = region, period: str = period) -> bool:
                    return (
                        d["scope"] == "municipality"
                        and d["region_id"] == region
                        and d["period"] == period
                    )

            docs = {doc["_id"]: doc async for doc in gen.values.find(query)}
            for k, d in pending.items():
                if belongs(d):
                    docs[k] = d
                elif k in docs:  # moved elsewhere
                    del docs[k]
            parts: dict[str, list[Value]] = defaultdict(list)
            positions: dict[tuple[str, int], int] = {}
            event_time = None
            for doc in docs.values():
                if doc["denominator"]:
                    parts[doc["indicator_id"]].append(
                        Value(doc["numerator"], doc["denominator"], doc["value"])
                    )
                for x in doc.get("positions", ()):
                    tp = (x["topic"], x["partition"])
                    positions[tp] = max(positions.get(tp, -1), x["offset"])
                et = doc.get("event_time")
                if et and (event_time is None or et > event_time):
                    event_time = et
            pos = _positions(positions)
            old_docs = {
                doc["_id"]: doc
                async for doc in gen.values.find(
                    {"scope": scope, "unit_id": unit, "period": period}
                )
            }
            tenant = Tenant(region=region, municipality=unit if scope == "municipality" else None)
            for ind in self.catalogue.indicators:
                key = value_key(ind.id, scope, unit, period)
                new = roll_up(ind, parts.get(ind.id, ()))
                old = old_docs.get(key)
                if old is None and new is None:
                    continue
                changed = not _same(old, new)
                if not changed and old is not None and old.get("positions") == pos:
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
                pending[key] = doc
                ops.append(put(doc, old is not None))
                if changed:
                    history.append(put(self._history(doc), False))
                    events.extend(self._value_events(doc, old, tenant, Scope(scope)))
        return ops, history, events

    # ------------------------------------------------------------------ helpers
    def _value_doc(
        self,
        key,
        indicator,
        scope,
        region,
        municipality,
        school,
        period,
        v,  # type: ignore[no-untyped-def]
        version,
        positions,
        event_time,
        now,
        doc_version,
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
    def _history(doc: dict[str, Any]) -> dict[str, Any]:
        return {
            "key": doc["_id"],
            "as_of": doc["event_time"] or doc["updated_at"],
            "recorded_at": doc["updated_at"],
            **{
                k: doc[k]
                for k in (
                    "indicator_id",
                    "scope",
                    "unit_id",
                    "period",
                    "numerator",
                    "denominator",
                    "value",
                    "at_risk",
                    "definition_version",
                )
            },
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


__all__ = ["Projector", "value_key"]
