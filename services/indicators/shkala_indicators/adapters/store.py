"""MongoDB storage of the indicators projection (works on MongoDB 8 and FerretDB 1.24).

Every projection lives in a *generation* of collections (``<name>_<generation>``); the
pointer document in ``projection_pointer`` names the one the service uses. A rebuild fills a
fresh generation from the log and then moves the pointer.

The hot path is append-only, because FerretDB answers inserts fast and point updates slowly
(and one update command with 50 or more statements wedges it):
- ``cells_<g>``: one small *page* per changed (school, period) and batch — the facts the
  batch made current (a compressed blob) and the cell's state after it (values, lists,
  teacher values, derived-event versions; another blob). Loading a partition folds its
  pages in order; the newest version of each fact wins, the last page's state is current.
- ``meta_<g>``: one checkpoint per partition index — the log positions its pages reflect and
  the derived-event offsets published for them — one small update per batch and partition.
- ``org_<g>`` (org units) and ``teacher_values_<g>`` (consented teachers) are replaced
  delete + insert, in commands of at most :data:`MAX_STATEMENTS` documents.
No query here relies on an index (FerretDB uses none): each scans a collection once per
partition assignment, never per event.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zlib
from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

import orjson
from bson import Binary
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shkala_indicators.domain.cells import CellState, Decision, Incoming, PartitionState
from shkala_indicators.domain.rows import compact
from shkala_indicators.domain.stats import Rules

POINTER = "projection_pointer"
NAMES = ("org", "cells", "teacher_values", "meta")
MAX_STATEMENTS = 40  # FerretDB 1.24 on PostgreSQL never answers an update command with ≥ 50
DUPLICATE_KEY = 11000


def position_key(topic: str, partition: int) -> str:
    """A topic-partition as a field name (no dots: they would nest)."""
    return f"{topic.replace('.', '_')}|{partition}"


def pack(obj: Any) -> Binary:
    """A compressed JSON blob: the database never looks inside, and FerretDB stores a nested
    document field by field (slow), a binary value as it is. orjson: a batch packs every
    fact it applied, and the standard encoder was a tenth of the projection's time."""
    return Binary(zlib.compress(orjson.dumps(obj, default=str), 1))


def unpack(blob: bytes) -> Any:
    return orjson.loads(zlib.decompress(blob))


pack_facts, unpack_facts = pack, unpack


def fact_record(f: Incoming) -> dict[str, Any]:
    return {
        "oid": f.oid,
        "type": f.type,
        "v": f.version,
        "topic": f.topic,
        "partition": f.partition,
        "offset": f.offset,
        "time": f.time.isoformat(),
        "data": f.payload,
    }


def state_blob(cs: CellState) -> dict[str, Any]:
    return {
        "values": {k: list(v) for k, v in cs.values.items()},
        "lists": {k: [m, list(r), v] for k, (m, r, v) in cs.lists.items()},
        "teachers": cs.teachers,
        "municipality": cs.municipality,
        "event_time": cs.event_time.isoformat() if cs.event_time else None,
        "positions": {position_key(t, p): off for (t, p), off in sorted(cs.positions.items())},
    }


def _time(s: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(s) if s else None


class Generation:
    """The collections of one generation; the projection's store (see ``ProjectionStore``)."""

    def __init__(self, db: AsyncDatabase, name: str) -> None:
        self.db = db
        self.name = name
        for n in NAMES:
            setattr(self, n, db[f"{n}_{name}"])

    org: AsyncCollection
    cells: AsyncCollection
    teacher_values: AsyncCollection
    meta: AsyncCollection

    async def ensure_indexes(self) -> None:
        # for MongoDB (FerretDB answers these queries by scanning either way)
        await self.cells.create_index([("part", 1), ("seq", 1)])
        await self.cells.create_index([("school_id", 1), ("year", 1)])
        await self.teacher_values.create_index([("school_id", 1)])

    async def drop(self) -> None:
        for n in NAMES:
            await self.db.drop_collection(f"{n}_{self.name}")

    # ------------------------------------------------------------------ loading
    async def load_partition(self, rules: Rules, part: int) -> PartitionState:
        """A partition's state: its org units, then its pages folded in order."""
        st = PartitionState(part)
        async for doc in self.org.find({"part": part}):
            st.org[doc["_id"]] = doc
        pages = [p async for p in self.cells.find({"part": part})]
        pages.sort(key=lambda p: (p["school_id"], p["year"], p["seq"]))
        for page in pages:
            cell = (page["school_id"], page["year"])
            for f in unpack(page["facts"]):
                st.place(rules, incoming(f, cell, part))
            s = unpack(page["state"])
            cs = st.cells[cell]
            cs.seq = page["seq"]
            cs.values = {k: (v[0], v[1], v[2], v[3]) for k, v in s["values"].items()}
            cs.lists = {k: (m, tuple(r), v) for k, (m, r, v) in s["lists"].items()}
            cs.teachers = s["teachers"]
            cs.municipality = s["municipality"]
            cs.event_time = _time(s["event_time"]) or cs.event_time
            st.periods[cell[0]].add(cell[1])
        meta = await self.meta.find_one({"_id": f"part|{part}"}) or {}
        for key, off in (meta.get("positions") or {}).items():
            topic, p = key.rsplit("|", 1)
            st.positions[(topic, int(p))] = off
        st.last_event_time = meta.get("last_event_time")
        return st

    async def checkpoints(self) -> list[dict[str, Any]]:
        return [d async for d in self.meta.find({"kind": "checkpoint"})]

    # ------------------------------------------------------------------ committing
    async def commit(self, decision: Decision, derived: dict[int, int] | None = None) -> None:
        """Write a decision: org units, pages, teacher values, then the checkpoints."""
        org = [{**doc, "part": doc["partition"]} for doc in decision.org]
        await replace(self.org, org)
        docs = [
            {
                "_id": f"{p.cell[0]}|{p.cell[1]}|{p.seq}",
                "part": p.part,
                "school_id": p.cell[0],
                "year": p.cell[1],
                "seq": p.seq,
                "count": len(p.facts),
                "facts": pack([fact_record(f) for f in p.facts]),
                "state": pack(state_blob(p.state)),
                "event_time": p.state.event_time,
            }
            for p in decision.pages
        ]
        await insert_new(self.cells, docs)
        if decision.teachers:
            gone = [
                doc["_id"]
                async for doc in self.teacher_values.find(
                    {"school_id": {"$in": sorted({c[0] for c in decision.teachers})}}
                )
                if (doc["school_id"], doc["period"]) in decision.teachers
            ]
            for i in range(0, len(gone), MAX_STATEMENTS):
                await self.teacher_values.delete_many(
                    {"_id": {"$in": gone[i : i + MAX_STATEMENTS]}}
                )
            fresh = [{"_id": k, **d} for t in decision.teachers.values() for k, d in t.items()]
            await insert_new(self.teacher_values, fresh)
        for part, st in sorted(decision.checkpoints.items()):
            update: dict[str, Any] = {
                "$max": {
                    f"positions.{position_key(t, p)}": off for (t, p), off in st.positions.items()
                },
                "$set": {"kind": "checkpoint", "part": part, "applied_at": dt.datetime.now(dt.UTC)},
            }
            if st.last_event_time is not None:
                update["$max"]["last_event_time"] = st.last_event_time
            for p, off in (derived or {}).items():
                update["$max"][f"derived.{p}"] = off
            await self.meta.update_one({"_id": f"part|{part}"}, update, upsert=True)

    # ------------------------------------------------------------------ reading
    async def pages_of(
        self, schools: Iterable[str], period: str | None, fields: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Every page of some schools (time travel, analyses over facts); ``fields``: only
        those (and the page's key), not the cell state every page also carries."""
        wanted = set(schools)
        query: dict[str, Any] = {"year": period} if period else {}
        if len(wanted) == 1:
            query["school_id"] = next(iter(wanted))
        shown = None if fields is None else dict.fromkeys(("school_id", "year", "seq", *fields), 1)
        return sorted(
            [p async for p in self.cells.find(query, shown) if p["school_id"] in wanted],
            key=lambda p: (p["school_id"], p["year"], p["seq"]),
        )

    async def current_facts(
        self, schools: Iterable[str], period: str, types: Collection[str] | None = None
    ) -> list[dict[str, Any]]:
        """The current version of every fact of some schools in one period (``types``: of
        those fact types only — every version of a fact has its type)."""
        best: dict[str, dict[str, Any]] = {}
        for page in await self.pages_of(schools, None, ("facts",)):
            for f in unpack(page["facts"]):
                if types is not None and f["type"] not in types:
                    continue
                known = best.get(f["oid"])
                if known is None or (f["v"], f["offset"]) > (known["v"], known["offset"]):
                    best[f["oid"]] = {**f, "cell": (page["school_id"], page["year"])}
        return [f for f in best.values() if f["cell"][1] == period]

    async def cell_states(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The latest state of every cell (tests, rebuild's version carry-over)."""
        latest: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        async for p in self.cells.find({}, {"school_id": 1, "year": 1, "seq": 1, "state": 1}):
            key = (p["school_id"], p["year"])
            if key not in latest or p["seq"] > latest[key][0]:
                latest[key] = (p["seq"], p)
        return {k: {**unpack(p["state"]), "seq": s} for k, (s, p) in latest.items()}


def incoming(f: dict[str, Any], cell: tuple[str, str], part: int) -> Incoming:
    """A stored fact record back as the domain's :class:`Incoming`."""
    return Incoming(
        oid=f["oid"],
        version=f["v"],
        topic=f["topic"],
        partition=part,
        offset=f["offset"],
        time=dt.datetime.fromisoformat(f["time"]),
        type=f["type"],
        row=compact(f["data"], f["type"]),
        cell=cell,
        payload=f["data"],
    )


async def insert_new(collection: AsyncCollection, docs: list[dict[str, Any]]) -> None:
    """Insert; a document already there (the same batch applied twice, e.g. by the instance
    losing a partition while another takes it over) is the same document: skip it."""
    if not docs:
        return
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise


async def replace(collection: AsyncCollection, docs: list[dict[str, Any]]) -> None:
    """Replace documents by ``_id``: delete, then insert (no update statements at all)."""
    for i in range(0, len(docs), MAX_STATEMENTS):
        chunk = docs[i : i + MAX_STATEMENTS]
        await collection.delete_many({"_id": {"$in": [d["_id"] for d in chunk]}})
        await insert_new(collection, chunk)


class Pointer:
    """Which generation is current."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db
        self._col = db[POINTER]

    async def current(self) -> Generation:
        doc = await self._col.find_one({"_id": "current"})
        if doc is None:
            # another task of this or another instance may be first
            with contextlib.suppress(DuplicateKeyError):
                await self._col.insert_one({"_id": "current", "generation": "g1"})
            doc = await self._col.find_one({"_id": "current"})
        assert doc is not None  # upserted just above
        return Generation(self.db, doc["generation"])

    async def switch(self, generation: str) -> None:
        await self._col.update_one(
            {"_id": "current"},
            {"$set": {"generation": generation, "switched_at": dt.datetime.now(dt.UTC)}},
            upsert=True,
        )


def merge_checkpoints(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The whole projection's freshness: every partition's positions, the latest event."""
    positions: dict[str, int] = {}
    derived: dict[str, int] = defaultdict(lambda: -1)
    last = applied = None
    for d in docs:
        positions.update(d.get("positions") or {})
        for p, off in (d.get("derived") or {}).items():
            derived[p] = max(derived[p], off)
        t = d.get("last_event_time")
        if t is not None and (last is None or t > last):
            last = t
        a = d.get("applied_at")
        if a is not None and (applied is None or a > applied):
            applied = a
    return {
        "positions": positions,
        "derived": dict(derived),
        "last_event_time": last,
        "applied_at": applied,
    }
