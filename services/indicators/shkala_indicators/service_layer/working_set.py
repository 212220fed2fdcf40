"""The projection's working set: everything it needs to decide the next batch, in memory.

FerretDB 1.24 (SQLite) answers every query by scanning the whole collection, so re-reading
a school's stored facts for every batch made a burst quadratic. The projection is the single
writer of its generation: it loads the generation once (one scan of each collection), keeps
the current facts per (school, period), the values, lists and org units in memory, and writes
only what a batch changed. Stored facts are append-only *pages*: one document per (school,
period) and batch holding that batch's facts (a correction is a later page; the newest
version per originator wins on load) — inserts are the one cheap write here, and their cost
is per document more than per byte.

If writing a batch fails, the working set is dropped and loaded again from the database,
so memory never runs ahead of what is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bson import Binary

from shkala_indicators.adapters.store import Generation

Rank = tuple[int, int]  # (originator version, offset): the newer fact wins
CellKey = tuple[str, str]  # (school, period)
_HISTORY_ONLY = ("_id", "key", "as_of", "recorded_at")
_ID_FIELDS = ("region_id", "municipality_id", "school_id", "academic_year")


def pack_facts(facts: list[dict[str, Any]]) -> Binary:
    """A page's facts as one compressed JSON blob: the database never looks inside, and
    FerretDB stores a nested document field by field (slow), a binary value as it is."""
    return Binary(zlib.compress(json.dumps(facts, ensure_ascii=False).encode(), 1))


def unpack_facts(blob: bytes) -> list[dict[str, Any]]:
    return json.loads(zlib.decompress(blob))


def compact(payload: dict[str, Any], event_type: str) -> dict[str, Any]:
    """A fact as the computation reads it: payload without the ids the cell already names,
    short strings interned (a region holds a million of them)."""
    row: dict[str, Any] = {"type": sys.intern(event_type)}
    for k, v in payload.items():
        if k in _ID_FIELDS:
            continue
        row[sys.intern(k)] = sys.intern(v) if isinstance(v, str) and len(v) <= 64 else v
    return row


@dataclass
class Cell:
    """The current facts of one (school, period) and the log positions they came from."""

    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    event_time: dt.datetime | None = None

    def saw(self, topic: str, partition: int, offset: int, time: dt.datetime) -> None:
        key = (topic, partition)
        self.positions[key] = max(self.positions.get(key, -1), offset)
        if self.event_time is None or time > self.event_time:
            self.event_time = time


@dataclass(frozen=True, slots=True)
class Placed:
    rank: Rank
    cell: CellKey


class WorkingSet:
    def __init__(self, generation: str) -> None:
        self.generation = generation
        self.org: dict[str, dict[str, Any]] = {}
        self.placed: dict[str, Placed] = {}  # fact originator id -> where its newest version is
        self.cells: dict[CellKey, Cell] = defaultdict(Cell)
        self.periods: dict[str, set[str]] = defaultdict(set)  # school -> periods with facts
        self.values: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        self.teacher_values: dict[str, dict[str, Any]] = {}
        self.dirty_values: dict[str, dict[str, Any]] = {}  # not yet in the values view
        self.freshness: dict[str, Any] = {
            "positions": {},
            "last_event_time": None,
            "applied_at": None,
        }

    # ------------------------------------------------------------------ loading
    @classmethod
    async def load(cls, gen: Generation) -> WorkingSet:
        ws = cls(gen.name)
        async for doc in gen.org.find({}):
            ws.org[doc["_id"]] = doc
        async for page in gen.facts.find({}):
            ws.add_page(page)
        # values: the newest written version of each, from the append-only history; the
        # ``values`` collection is a view flushed every few seconds and may lag after a crash
        async for h in gen.history.find({}):
            key = h["key"]
            known = ws.values.get(key)
            if known is None or (h["version"], h["recorded_at"]) >= (
                known["version"],
                known["updated_at"],
            ):
                ws.values[key] = {
                    "_id": key,
                    **{k: v for k, v in h.items() if k not in _HISTORY_ONLY},
                }
        flushed = {
            doc["_id"]: (doc["version"], doc["updated_at"])
            async for doc in gen.values.find({}, {"version": 1, "updated_at": 1})
        }
        for key, doc in ws.values.items():
            if flushed.get(key) != (doc["version"], doc["updated_at"]):
                ws.dirty_values[key] = doc
        for name in ("lists", "teacher_values"):
            target = getattr(ws, name)
            async for doc in getattr(gen, name).find({}):
                target[doc["_id"]] = doc
        stored = await gen.freshness()
        ws.freshness = {k: stored.get(k) for k in ("positions", "last_event_time", "applied_at")}
        return ws

    # ------------------------------------------------------------------ facts
    def add_page(self, page: dict[str, Any]) -> None:
        """A stored page of facts: each fact becomes current unless a newer one is."""
        cell = (page["school_id"], page["year"])
        for f in unpack_facts(page["facts"]):
            self.place(
                f["oid"],
                (f["v"], f["offset"]),
                cell,
                compact(f["data"], f["type"]),
                (f["topic"], f["partition"], f["offset"], dt.datetime.fromisoformat(f["time"])),
            )

    def is_newer(self, oid: str, rank: Rank) -> bool:
        current = self.placed.get(oid)
        return current is None or rank > current.rank

    def place(
        self,
        oid: str,
        rank: Rank,
        cell: CellKey,
        row: dict[str, Any],
        position: tuple[str, int, int, dt.datetime],
    ) -> CellKey | None:
        """Make this version of a fact the current one; returns the cell it left, if any.

        The caller has checked :meth:`is_newer` (loading keeps the newest on its own).
        """
        previous = self.placed.get(oid)
        if previous is not None and rank <= previous.rank:
            return None
        left = None
        if previous is not None:
            self.cells[previous.cell].facts.pop(oid, None)
            left = previous.cell if previous.cell != cell else None
        self.placed[oid] = Placed(rank, cell)
        target = self.cells[cell]
        target.facts[oid] = row
        target.saw(*position)
        self.periods[cell[0]].add(cell[1])
        return left

    # ------------------------------------------------------------------ org units
    def schools_of(self, municipality: str) -> list[str]:
        return [
            k
            for k, o in self.org.items()
            if o.get("kind") == "school" and o.get("municipality_id") == municipality
        ]

    def municipalities_of(self, region: str) -> set[str]:
        return {
            o["municipality_id"]
            for o in self.org.values()
            if o.get("kind") == "school" and o.get("region_id") == region
        }

    def record_freshness(
        self, positions: dict[str, int], last_event_time: dt.datetime | None
    ) -> None:
        """The same as the database's freshness document after ``Generation.record_freshness``."""
        known = dict(self.freshness["positions"] or {})
        for k, v in positions.items():
            known[k] = max(known.get(k, -1), v)
        last = self.freshness["last_event_time"]
        if last_event_time is not None and (last is None or last_event_time > last):
            last = last_event_time
        self.freshness = {
            "positions": known,
            "last_event_time": last,
            "applied_at": dt.datetime.now(dt.UTC),
        }

    def set_value(self, doc: dict[str, Any]) -> None:
        self.values[doc["_id"]] = doc
        self.dirty_values[doc["_id"]] = doc

    def is_school(self, school_id: str) -> bool:
        return self.org.get(school_id, {}).get("kind") == "school"


__all__ = ["Cell", "CellKey", "Rank", "WorkingSet", "compact"]
