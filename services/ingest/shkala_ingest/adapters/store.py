"""What ingest keeps in MongoDB (per-collection operations only: FerretDB has no transactions).

- ``imports``: one document per import (status, progress, counts, the rejection problem).
- ``import_keys``: ``_id`` = idempotency key or content hash (scoped to kind and caller),
  pointing to the import that claimed it; the unique ``_id`` settles races.
- ``originators.<school>``: per fact stream (originator id) the hash of the last published content
  and its version, so a resubmission is skipped or published as a correction.
- ``org_units``: the registry of regions, municipalities and schools (loaded by the
  ``org-units`` format after Kafka acknowledged the registration events).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shkala_ingest.domain.streams import FACT_FAMILY

DUPLICATE_KEY = 11000
UPDATES_PER_COMMAND = 20

"""FerretDB holds a pooled PostgreSQL connection per update statement until the whole
command ends: one command with more statements than the pool (50-200) never returns and
wedges the server for every client. Updates and upserts go in commands of at most this."""


# FerretDB on SQLite writes one statement at a time: hundreds of schools' writes sent at once
# only queue inside it (seen: a 1 M-row import stalled for minutes with 420 in flight)
STREAM_CONCURRENCY = 4


class IngestStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self._streams_gate = asyncio.Semaphore(STREAM_CONCURRENCY)
        self.db = db
        self.imports = db["imports"]
        self.keys = db["import_keys"]
        self.org_units = db["org_units"]

    # --- imports ---------------------------------------------------------------------

    async def create_import(self, doc: dict[str, Any]) -> None:
        await self.imports.insert_one(doc)

    async def update_import(self, import_id: str, fields: dict[str, Any]) -> None:
        await self.imports.update_one({"_id": import_id}, {"$set": fields})

    async def running_imports(self, instance: str) -> list[dict[str, Any]]:
        """Imports this instance left ``processing`` (it stopped or was killed meanwhile)."""
        return [d async for d in self.imports.find({"status": "processing", "instance": instance})]

    async def get_import(self, import_id: str) -> dict[str, Any] | None:
        return await self.imports.find_one({"_id": import_id})

    # --- idempotency -----------------------------------------------------------------

    async def claim(self, keys: Sequence[str], import_id: str, content_hash: str) -> str | None:
        """Claim every key for ``import_id``; the id of an earlier import holding one of
        them, else None. Keys this call inserted are re-pointed to the earlier import."""
        docs = [{"_id": k, "import_id": import_id, "content_hash": content_hash} for k in keys]
        try:
            await self.keys.insert_many(docs, ordered=False)
            return None
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise
        held = [d async for d in self.keys.find({"_id": {"$in": list(keys)}})]
        earlier = [d for d in held if d["import_id"] != import_id]
        if not earlier:  # pragma: no cover - the duplicate was released meanwhile
            return await self.claim(keys, import_id, content_hash)
        first = earlier[0]
        if first.get("content_hash") != content_hash:
            raise IdempotencyConflict(first["import_id"])
        mine = [d["_id"] for d in held if d["import_id"] == import_id]
        if mine:
            await self.keys.update_many(
                {"_id": {"$in": mine}}, {"$set": {"import_id": first["import_id"]}}
            )
        return str(first["import_id"])

    async def release(self, import_id: str) -> None:
        await self.keys.delete_many({"import_id": import_id})

    # --- originators -----------------------------------------------------------------
    # One collection per partition key (school): FerretDB on SQLite answers every filter,
    # even ``_id`` equality and ``$in``, with a full scan, so the state an import needs is
    # read whole per school (small) and new streams are appended (fast), never looked up
    # one by one in one big collection. MongoDB would do either well.

    def _streams(self, partition: str) -> Any:
        return self.db[f"originators.{partition}"]

    async def known(self, partition: str) -> dict[str, tuple[str, int]]:
        """Content hash and version of every fact stream of one stream partition (a school
        and a fact family, :func:`stream_partition`): a school-context upload reads the
        school's context streams, not its hundreds of thousands of attendance streams."""
        school, _, family = partition.partition(".")
        async with self._streams_gate:
            out: dict[str, tuple[str, int]] = {}
            if family:  # streams recorded before the split (one collection per school)
                prefix = f"{FACT_FAMILY}{family}:"
                async for d in self._streams(school).find({}, {"h": 1, "v": 1}):
                    if d["_id"].startswith(prefix):
                        out[d["_id"]] = (d["h"], int(d["v"]))
            async for d in self._streams(partition).find({}, {"h": 1, "v": 1}):
                out[d["_id"]] = (d["h"], int(d["v"]))
            return out

    async def record(self, partition: str, published: Iterable[tuple[str, str, int]]) -> None:
        """Remember ``(originator_id, content_hash, version)`` of acknowledged events."""
        ops: list[Any] = []
        for oid, h, v in published:
            if v == 1:
                ops.append(InsertOne({"_id": oid, "h": h, "v": v}))
            else:
                ops.append(UpdateOne({"_id": oid}, {"$set": {"h": h, "v": v}}, upsert=True))
        if not ops:
            return
        async with self._streams_gate:
            await self._write_streams(partition, ops)

    async def _write_streams(self, partition: str, ops: list[Any]) -> None:
        inserts = [o for o in ops if isinstance(o, InsertOne)]
        updates = [o for o in ops if not isinstance(o, InsertOne)]
        if inserts:
            await self._insert_streams(partition, inserts)
        for i in range(0, len(updates), UPDATES_PER_COMMAND):
            await self._streams(partition).bulk_write(
                updates[i : i + UPDATES_PER_COMMAND], ordered=False
            )

    async def _insert_streams(self, partition: str, ops: list[Any]) -> None:
        streams = self._streams(partition)
        try:
            await streams.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            # a concurrent import of the same stream inserted it first: keep the newest
            retry = []
            for err in exc.details.get("writeErrors", []):
                if err.get("code") != DUPLICATE_KEY:
                    raise
                doc = ops[err["index"]]._doc
                retry.append(
                    UpdateOne(
                        {"_id": doc["_id"], "v": {"$lt": doc["v"]}},
                        {"$set": {"h": doc["h"], "v": doc["v"]}},
                    )
                )
            for i in range(0, len(retry), UPDATES_PER_COMMAND):
                await streams.bulk_write(retry[i : i + UPDATES_PER_COMMAND], ordered=False)

    # --- org-unit registry -----------------------------------------------------------

    async def schools(self) -> dict[str, dict[str, Any]]:
        """Every registered school by id."""
        return {d["school_id"]: d async for d in self.org_units.find({"unit": "school"})}

    async def registry(self) -> list[dict[str, Any]]:
        """The whole registry (regions, municipalities, schools): one read, FerretDB scans."""
        return [d async for d in self.org_units.find({})]

    async def register(self, units: Sequence[dict[str, Any]]) -> None:
        ops = [ReplaceOne({"_id": u["_id"]}, u, upsert=True) for u in units]
        for i in range(0, len(ops), UPDATES_PER_COMMAND):
            await self.org_units.bulk_write(ops[i : i + UPDATES_PER_COMMAND], ordered=False)


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused with different content."""

    def __init__(self, import_id: str) -> None:
        super().__init__(import_id)
        self.import_id = import_id


__all__ = ["DuplicateKeyError", "IdempotencyConflict", "IngestStore"]
