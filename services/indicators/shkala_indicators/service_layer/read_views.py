"""Whole views as they stood (ADR 0010): the municipality table, the region summary, the
lists and the rating on another *basis* than today's live values —

- ``as_of`` — a moment (a datetime, or a date: its start) or a log position: every school's
  values computed from the facts stored by then (a position counts its own topic-partition
  up to that offset and every other one up to the time that record was written);
- ``definition_version`` — the same facts under an earlier catalogue;
- ``basis="approved"`` (утверждённые данные) — each school with the values its facts gave
  when its monitoring period was approved (the approval in force; the lock if none was
  seen); schools whose period is not approved are left out, and counted.

Values are recomputed from the facts in the stored pages (``domain.compute``, the same
rules as the live projection); a school's snapshot is cached until its live values change.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from shkala_indicators.adapters.store import unpack
from shkala_indicators.domain.analysis import school_rating
from shkala_indicators.domain.catalogue import Catalogue
from shkala_indicators.domain.compute import (
    Value,
    at_risk,
    compute_school,
    list_dynamics,
    list_membership,
    relative_members,
    roll_up,
)
from shkala_indicators.domain.rows import compact
from shkala_indicators.domain.seed_formulas import previous_period

if TYPE_CHECKING:
    from shkala_indicators.service_layer.read import ReadModel

LIVE, APPROVED = "live", "approved"
CACHE_LIMIT = 50_000  # cached school snapshots before the cache starts afresh


class UnknownPosition(LookupError):
    """``as_of`` names a log position at which no stored fact is."""


@dataclass(frozen=True)
class Cutoff:
    """Which stored facts count: written by ``time``; in ``position``'s own topic-partition,
    up to its offset."""

    time: dt.datetime | None = None
    position: tuple[str, int, int] | None = None

    def admits(self, f: Mapping[str, Any]) -> bool:
        if self.position is not None and (f["topic"], f["partition"]) == self.position[:2]:
            return bool(f["offset"] <= self.position[2])
        return self.time is None or _time(f["time"]) <= self.time

    def describe(self) -> dict[str, Any] | None:
        if self.time is None and self.position is None:
            return None
        pos = self.position
        return {"time": self.time, "position": f"{pos[0]}:{pos[1]}:{pos[2]}" if pos else None}


@dataclass(frozen=True)
class View:
    """What an answer rests on. ``as_of`` is a datetime or a (topic, partition, offset)."""

    basis: str = LIVE
    as_of: dt.datetime | tuple[str, int, int] | None = None
    definition_version: str | None = None

    def is_live(self, current: str) -> bool:
        return (
            self.basis == LIVE and self.as_of is None and self.definition_version in (None, current)
        )


@dataclass
class Schools:
    """The schools of a view and what each counts with."""

    period: str
    catalogue: Catalogue
    cutoff: Cutoff
    values: dict[str, dict[str, Value]]  # counted schools only
    approval: dict[str, str]  # every school's state (at the cutoff's time)
    approved_at: dict[str, dt.datetime | None]
    changed_since_approval: dict[str, bool]
    left_out: list[str]


def _time(s: str | dt.datetime) -> dt.datetime:
    t = s if isinstance(s, dt.datetime) else dt.datetime.fromisoformat(s)
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def current_facts(
    records: Iterable[Mapping[str, Any]], cutoff: Cutoff, period: str
) -> list[dict[str, Any]]:
    """A school's facts of one period as they stood at the cutoff: of every fact admitted,
    the newest (version, offset) wins — a correction written later does not count yet."""
    best: dict[str, Mapping[str, Any]] = {}
    for f in records:
        if not cutoff.admits(f):
            continue
        known = best.get(f["oid"])
        if known is None or (f["v"], f["offset"]) > (known["v"], known["offset"]):
            best[f["oid"]] = f
    return [compact(f["data"], f["type"]) for f in best.values() if f["period"] == period]


class Views:
    """The read model's views on a basis other than live (one per service)."""

    def __init__(self, read: ReadModel) -> None:
        self.read = read
        self._cache: dict[tuple[Any, ...], tuple[Any, dict[str, Value]]] = {}

    # ------------------------------------------------------------------ facts
    async def _records(self, schools: list[str], period: str) -> dict[str, list[dict[str, Any]]]:
        """The stored facts of some schools in one period (a fact's period follows from its
        natural key or its dates, so no version of it sits in another period's pages)."""
        gen = await self.read.gen()
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for page in await gen.pages_of(schools, period):
            for f in unpack(page["facts"]):
                f["period"] = page["year"]
                out[page["school_id"]].append(f)
        return out

    async def cutoff(self, as_of: dt.datetime | tuple[str, int, int] | None) -> Cutoff:
        """A moment as a cutoff; a log position is resolved to the time its fact was written."""
        if as_of is None:
            return Cutoff()
        if isinstance(as_of, dt.datetime):
            return Cutoff(time=_time(as_of))
        gen = await self.read.gen()
        topic, part, offset = as_of
        async for page in gen.cells.find({"part": part}, {"facts": 1}):
            for f in unpack(page["facts"]):
                if (f["topic"], f["partition"], f["offset"]) == (topic, part, offset):
                    return Cutoff(time=_time(f["time"]), position=as_of)
        raise UnknownPosition(f"{topic}:{part}:{offset}")

    async def school_values(
        self, cuts: dict[str, Cutoff], period: str, catalogue: Catalogue
    ) -> dict[str, dict[str, Value]]:
        """Each school's values at its cutoff, under ``catalogue`` (cached per school until
        its live values change)."""
        gen_name = (await self.read.gen()).name
        t = self.read.table
        out: dict[str, dict[str, Value]] = {}
        todo: list[str] = []
        for s, cut in cuts.items():
            hit = self._cache.get((gen_name, s, period, catalogue.version, cut))
            if hit is not None and hit[0] == t.stamp(s, period):
                out[s] = hit[1]
            else:
                todo.append(s)
        if todo:
            if len(self._cache) > CACHE_LIMIT:
                self._cache.clear()
            records = await self._records(todo, period)
            # the shares «за 2 года» need the previous year as it stood at the same cutoff
            prev = previous_period(period)
            earlier = await self._records(todo, prev)
            for s in todo:
                facts = current_facts(records.get(s, ()), cuts[s], period)
                prior = current_facts(earlier.get(s, ()), cuts[s], prev)
                values = compute_school(catalogue, facts, [prior]) if facts else {}
                self._cache[(gen_name, s, period, catalogue.version, cuts[s])] = (
                    t.stamp(s, period),
                    values,
                )
                out[s] = values
        return out

    async def schools(self, schools: list[str], period: str, view: View) -> Schools:
        read, t = self.read, self.read.table
        catalogue = read.catalogue_of(view.definition_version)
        cutoff = await self.cutoff(view.as_of)
        at = cutoff.time
        approval = {s: t.approval_at(s, period, at) for s in schools}
        approved_at = {s: t.approved_since(s, period, at) for s in schools}
        left_out: list[str] = []
        if view.basis == APPROVED:
            cuts = {}
            for s in schools:
                since = approved_at[s]
                if since is None:
                    left_out.append(s)
                else:
                    cuts[s] = Cutoff(time=since)
        else:
            cuts = dict.fromkeys(schools, cutoff)
        if view.is_live(read.catalogue.version):
            values = {s: dict(t.values_by_indicator(s, period)) for s in schools}
        else:
            values = await self.school_values(cuts, period, catalogue)
        changed: dict[str, bool] = {}
        if view.basis == APPROVED and view.as_of is None and catalogue is read.catalogue:
            for s, v in values.items():
                live = t.values_by_indicator(s, period)
                changed[s] = {k: x.value for k, x in live.items()} != {
                    k: x.value for k, x in v.items()
                }
        return Schools(period, catalogue, cutoff, values, approval, approved_at, changed, left_out)

    # ------------------------------------------------------------------ answers
    def _basis(self, sc: Schools, view: View, schools: list[str]) -> dict[str, Any]:
        t = self.read.table
        counted = len(schools) - len(sc.left_out)
        return {
            "basis": view.basis,
            "as_of": sc.cutoff.describe(),
            "definition_version": sc.catalogue.version,
            "approval": t.approval_summary(schools, sc.period, sc.cutoff.time),
            "counted": {
                "schools": counted,
                "of": len(schools),
                "left_out": [
                    {"school_id": s, "name": t.org.get(s, {}).get("name"),
                     "approval": sc.approval[s]}
                    for s in sc.left_out
                ],
            },
        }  # fmt: skip

    def roll_up(self, sc: Schools, scope: str, unit: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for ind in sc.catalogue.indicators:
            parts = [v[ind.id] for v in sc.values.values() if ind.id in v and v[ind.id].denominator]
            total = roll_up(ind, parts)
            if total is None:
                continue
            out[ind.id] = {
                "indicator_id": ind.id,
                "direction": ind.direction,
                "scope": scope,
                "unit_id": unit,
                "period": sc.period,
                "numerator": total.numerator,
                "denominator": total.denominator,
                "value": total.value,
                "at_risk": at_risk(ind, total),
                "definition_version": sc.catalogue.version,
                "schools_counted": len(parts),
            }
        return out

    async def _region_pool(
        self, sc: Schools, schools: list[str], period: str, view: View
    ) -> Schools | None:
        """The region's schools at the same cutoff, when a relative list needs to rank them
        and ``schools`` are fewer (a municipality's)."""
        if not any(r.rule == "lowest" for r in sc.catalogue.lists):
            return None
        t = self.read.table
        regions = {t.org.get(s, {}).get("region_id") for s in schools}
        everyone = [
            s
            for s, o in t.org.items()
            if o.get("kind") == "school" and o.get("region_id") in regions
        ]
        if set(everyone) <= set(schools):
            return None
        return await self.schools(everyone, period, view)

    def members(
        self, sc: Schools, risk_list: str, pool: Schools | None = None
    ) -> dict[str, list[str]]:
        """The members among ``sc``'s schools; a relative rule (``lowest``, seed 002's ШНСУ)
        ranks the schools of ``pool`` (the region's, at the same cutoff)."""
        rule = next(r for r in sc.catalogue.lists if r.name == risk_list)
        ranked = None
        if rule.rule == "lowest":
            ind = rule.indicators[0]
            peers = (pool or sc).values
            ranked = relative_members(rule, {s: v.get(ind) for s, v in peers.items()})
        out = {}
        for s, values in sc.values.items():
            if values:
                member, reasons = list_membership(rule, sc.catalogue, values, ranked, s)
                if member:
                    out[s] = list(reasons)
        return out

    def _row(self, sc: Schools, s: str, lists: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
        by_id = sc.catalogue.by_id()
        values = sc.values.get(s, {})
        row = {
            "school_id": s,
            "name": self.read.table.org.get(s, {}).get("name"),
            "values": {k: v.value for k, v in values.items()},
            "at_risk": sorted(k for k, v in values.items() if at_risk(by_id[k], v)),
            "lists": [name for name, members in lists.items() if s in members],
            "approval": sc.approval[s],
            "approved_at": sc.approved_at[s],
        }
        if s in sc.changed_since_approval:
            row["changed_since_approval"] = sc.changed_since_approval[s]
        return row

    async def municipality_table(
        self, mun: str, period: str, view: View, sort: str | None, descending: bool
    ) -> dict[str, Any]:
        schools = self.read.table.schools_of(mun)
        sc = await self.schools(schools, period, view)
        pool = await self._region_pool(sc, schools, period, view)
        lists = {r.name: self.members(sc, r.name, pool) for r in sc.catalogue.lists}
        rows = [self._row(sc, s, lists) for s in schools if s in sc.values]
        if sort in (None, "school_id", "name"):
            rows.sort(key=lambda r: str(r.get(sort or "school_id") or ""), reverse=descending)
        else:
            present = [r for r in rows if r["values"].get(sort) is not None]
            missing = [r for r in rows if r["values"].get(sort) is None]
            present.sort(key=lambda r: (r["values"][sort], r["school_id"]), reverse=descending)
            rows = present + sorted(missing, key=lambda r: r["school_id"])
        return {
            "municipality_id": mun,
            "period": period,
            "sort": sort,
            "order": "desc" if descending else "asc",
            **self._basis(sc, view, schools),
            "rows": rows,
            "municipality": self.roll_up(sc, "municipality", mun),
            "freshness": await self.read.freshness(),
        }

    async def region_summary(self, region: str, period: str, view: View) -> dict[str, Any]:
        t = self.read.table
        muns = t.municipalities_of(region)
        schools = [s for m in muns for s in t.schools_of(m)]
        sc = await self.schools(schools, period, view)
        by_mun: dict[str, Any] = {}
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for m in muns:
            mine = t.schools_of(m)
            part = Schools(
                period, sc.catalogue, sc.cutoff,
                {s: v for s, v in sc.values.items() if s in mine},
                sc.approval, sc.approved_at, sc.changed_since_approval,
                [s for s in sc.left_out if s in mine],
            )  # fmt: skip
            by_mun[m] = {
                "values": self.roll_up(part, "municipality", m),
                **self._basis(part, view, mine),
            }
            for rule in sc.catalogue.lists:
                if n := len(self.members(part, rule.name, sc)):
                    counts[rule.name][m] = n
        basis = self._basis(sc, view, schools)
        # the same shape as the live summary's: the region's, and per municipality
        basis["approval"] = {
            "region": basis["approval"],
            "municipalities": {m: b["approval"] for m, b in by_mun.items()},
        }
        return {
            "region_id": region,
            "period": period,
            **basis,
            "region": self.roll_up(sc, "region", region),
            "municipalities": {m: b["values"] for m, b in by_mun.items() if b["values"]},
            "by_municipality": {
                m: {k: v for k, v in b.items() if k != "values"} for m, b in by_mun.items()
            },
            "list_counts": {k: dict(v) for k, v in counts.items()},
            "freshness": await self.read.freshness(),
        }

    async def risk_list(
        self, risk_list: str, period: str, previous: str, schools: list[str], view: View,
        municipality: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        sc = await self.schools(schools, period, view)
        before = await self.schools(schools, previous, view)
        now = self.members(sc, risk_list, await self._region_pool(sc, schools, period, view))
        was = self.members(
            before, risk_list, await self._region_pool(before, schools, previous, view)
        )
        t = self.read.table
        return {
            "list": risk_list,
            "period": period,
            "previous_period": previous,
            "municipality_id": municipality,
            **self._basis(sc, view, schools),
            "members": [
                {
                    "school_id": s,
                    "municipality_id": t.org[s]["municipality_id"],
                    "reasons": reasons,
                    "definition_version": sc.catalogue.version,
                    "approval": sc.approval[s],
                    "approved_at": sc.approved_at[s],
                }
                for s, reasons in sorted(now.items())
            ],
            "dynamics": list_dynamics(set(was), set(now)),
            "freshness": await self.read.freshness(),
        }

    async def rating(self, mun: str, period: str, view: View) -> dict[str, Any]:
        schools = self.read.table.schools_of(mun)
        sc = await self.schools(schools, period, view)
        rule = sc.catalogue.rating
        values = {s: {k: x.value for k, x in v.items()} for s, v in sc.values.items() if v}
        rows = school_rating(values, rule, sc.catalogue.by_id()) if rule else []
        return {
            "municipality_id": mun,
            "period": period,
            **self._basis(sc, view, schools),
            "rule": sc.catalogue.describe()["rating"],
            "rows": [
                {
                    **asdict(r),
                    "approval": sc.approval[r.school_id],
                    "approved_at": sc.approved_at[r.school_id],
                }
                for r in rows
            ],
            "unrated": sorted(set(sc.values) - {r.school_id for r in rows}),
            "freshness": await self.read.freshness(),
        }


__all__ = ["APPROVED", "LIVE", "Cutoff", "UnknownPosition", "View", "Views", "current_facts"]
