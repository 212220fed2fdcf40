"""The plans event store: one MongoDB collection, a unique (aggregate_id, version) index.

No transactions (FerretDB has none, see docs/adr/0004): an append is one ``insert_many`` of
the new events; the unique index makes the second of two concurrent appends at the same
version fail as a whole, which is the optimistic-concurrency check. Each stored event is its
own outbox entry: it carries ``published: false`` until the relay has put it on Kafka, and
its ``_id`` is the CloudEvents id it will be published with.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shkala_contracts import event_class
from shkala_contracts.domain_event import DomainEvent

EVENTS = "plan_events"
COUNTERS = "plan_counters"
INDEX = "plan_aggregates"


class ConcurrencyError(Exception):
    def __init__(self, aggregate_id: str, expected: int, actual: int | None = None) -> None:
        super().__init__(f"{aggregate_id}: expected version {expected}, it is now {actual}")
        self.aggregate_id, self.expected, self.actual = aggregate_id, expected, actual


class EventStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db
        self.events = db[EVENTS]
        self.counters = db[COUNTERS]
        self.index = db[INDEX]

    async def setup(self) -> None:
        await self.events.create_index(
            [("aggregate_id", ASCENDING), ("version", ASCENDING)], unique=True, name="stream"
        )
        await self.events.create_index(
            [("published", ASCENDING), ("seq", ASCENDING)], name="outbox"
        )
        await self.index.create_index([("kind", ASCENDING), ("municipality", ASCENDING)])

    async def load(self, aggregate_id: str) -> list[DomainEvent]:
        cursor = self.events.find({"aggregate_id": aggregate_id}).sort("version", ASCENDING)
        return [decode(doc) async for doc in cursor]

    async def version(self, aggregate_id: str) -> int:
        doc = await self.events.find_one(
            {"aggregate_id": aggregate_id}, sort=[("version", -1)], projection={"version": 1}
        )
        return int(doc["version"]) if doc else 0

    async def append(
        self, aggregate_id: str, expected_version: int, events: Sequence[DomainEvent]
    ) -> list[str]:
        """Append events after ``expected_version``; returns their ids (CloudEvents ids)."""
        if not events:
            return []
        for i, e in enumerate(events, start=1):
            if e.originator_id != aggregate_id or e.originator_version != expected_version + i:
                raise ValueError(f"event {e.originator_id}@{e.originator_version} out of place")
        top = await self.counters.find_one_and_update(
            {"_id": "seq"},
            {"$inc": {"value": len(events)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if top is None:  # pragma: no cover - an upsert returning the document after always finds it
            raise RuntimeError("sequence counter upsert returned no document")
        first_seq = int(top["value"]) - len(events) + 1
        now = dt.datetime.now(dt.UTC)
        docs: list[dict[str, Any]] = [
            {
                "_id": str(uuid.uuid4()),
                "aggregate_id": aggregate_id,
                "aggregate_kind": aggregate_id.split(":", 1)[0],
                "version": e.originator_version,
                "type": e.event_type,
                "data": e.model_dump(mode="json"),
                "region": e.region_id,
                "municipality": e.municipality_id,
                "school": e.school_id,
                "time": now,
                "seq": first_seq + i,
                "published": False,
            }
            for i, e in enumerate(events)
        ]
        try:
            await self.events.insert_many(docs, ordered=True)
        except (DuplicateKeyError, BulkWriteError) as exc:
            inserted = _inserted_count(exc)
            if inserted:  # pragma: no cover - the first event conflicts, or none does
                raise RuntimeError(f"{aggregate_id}: partial append of {inserted}") from exc
            raise ConcurrencyError(
                aggregate_id, expected_version, await self.version(aggregate_id)
            ) from exc
        return [d["_id"] for d in docs]

    async def index_put(self, aggregate_id: str, version: int, doc: dict[str, Any]) -> None:
        """The lookup index of aggregates (a read model, rebuildable from the events)."""
        await self.index.update_one(
            {"_id": aggregate_id}, {"$set": {**doc, "version": version}}, upsert=True
        )

    async def index_find(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return [d async for d in self.index.find(query)]


def decode(doc: dict[str, Any]) -> DomainEvent:
    cls = event_class(doc["type"])
    event = cls.model_validate(doc["data"])
    assert isinstance(event, DomainEvent)
    return event


def _inserted_count(exc: Exception) -> int:
    if isinstance(exc, BulkWriteError):
        return int(exc.details.get("nInserted", 0))
    return 0
