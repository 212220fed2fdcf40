"""MongoDB projections of the indicators service (works on MongoDB 8 and FerretDB).

Every projection lives in a *generation* of collections (``<name>_<generation>``); the
pointer document in ``projection_pointer`` names the generation the API reads and the live
consumer writes. A rebuild fills a fresh generation from the log and then moves the pointer.
Each document carries the log positions it reflects in the same write as its state
(FerretDB has no transactions).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

POINTER = "projection_pointer"
NAMES = ("org", "facts", "values", "teacher_values", "lists", "history", "meta")


class Generation:
    """The collections of one generation."""

    def __init__(self, db: AsyncDatabase, name: str) -> None:
        self.db = db
        self.name = name
        for n in NAMES:
            setattr(self, n, db[f"{n}_{name}"])

    org: AsyncCollection
    facts: AsyncCollection
    values: AsyncCollection
    teacher_values: AsyncCollection
    lists: AsyncCollection
    history: AsyncCollection
    meta: AsyncCollection

    async def ensure_indexes(self) -> None:
        await self.values.create_index([("scope", 1), ("municipality_id", 1), ("period", 1)])
        await self.values.create_index([("school_id", 1), ("period", 1)])
        await self.lists.create_index([("list", 1), ("period", 1)])
        await self.history.create_index([("key", 1), ("as_of", 1)])

    async def drop(self) -> None:
        for n in NAMES:
            await self.db.drop_collection(f"{n}_{self.name}")

    async def freshness(self) -> dict[str, Any]:
        doc = await self.meta.find_one({"_id": "freshness"}) or {}
        return {
            "generation": self.name,
            "positions": doc.get("positions", {}),
            "last_event_time": doc.get("last_event_time"),
            "applied_at": doc.get("applied_at"),
        }

    async def record_freshness(
        self, positions: dict[str, int], last_event_time: dt.datetime | None
    ) -> None:
        if not positions:
            return
        update: dict[str, Any] = {
            "$max": {f"positions.{k}": v for k, v in positions.items()},
            "$set": {"applied_at": dt.datetime.now(dt.UTC)},
        }
        if last_event_time is not None:
            update["$max"]["last_event_time"] = last_event_time
        await self.meta.update_one({"_id": "freshness"}, update, upsert=True)


@dataclass(frozen=True, slots=True)
class Put:
    """A document to write: replaces the stored one with the same ``_id`` when ``exists``."""

    doc: dict[str, Any]
    exists: bool


def put(doc: dict[str, Any], exists: bool) -> Put:
    return Put(doc, exists)


async def bulk(collection: AsyncCollection, ops: list[Put]) -> None:
    """Write documents: delete the replaced ones, then insert all, in two bulk commands.

    Not ``ReplaceOne``/``UpdateOne``: on FerretDB 1.24 (SQLite) a bulk replace of documents
    written shortly before stalled the whole database, and an upserting replace costs tens of
    milliseconds a document; delete + insert costs well under one. Between the two commands
    a crash leaves the replaced documents missing: the batch is then redelivered and the
    projection recomputes them from the stored facts (the facts themselves are only ever
    replaced by a newer version of the same fact).
    """
    if not ops:
        return
    replaced = [op.doc["_id"] for op in ops if op.exists]
    if replaced:
        await collection.delete_many({"_id": {"$in": replaced}})
    await collection.insert_many([op.doc for op in ops], ordered=True)


class Pointer:
    """Which generation is current."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db
        self._col = db[POINTER]

    async def current(self) -> Generation:
        doc = await self._col.find_one({"_id": "current"})
        if doc is None:
            await self._col.update_one(
                {"_id": "current"}, {"$setOnInsert": {"generation": "g1"}}, upsert=True
            )
            doc = await self._col.find_one({"_id": "current"})
        assert doc is not None  # upserted just above
        return Generation(self.db, doc["generation"])

    async def switch(self, generation: str) -> None:
        await self._col.update_one(
            {"_id": "current"},
            {"$set": {"generation": generation, "switched_at": dt.datetime.now(dt.UTC)}},
            upsert=True,
        )
