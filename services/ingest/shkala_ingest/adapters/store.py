"""What ingest keeps in MongoDB (per-collection operations only: FerretDB has no transactions).

- ``imports``: one document per import (status, progress, counts, the rejection problem).
- ``import_keys``: ``_id`` = idempotency key or content hash (scoped to kind and caller),
  pointing to the import that claimed it; the unique ``_id`` settles races.
- ``originators.<school>``: per fact stream (originator id) the hash of the last published content
  and its version, so a resubmission is skipped or published as a correction; written as packs
  (``{pack: family, p: binary}``, 32 bytes a stream), read with the older one-document-per-stream
  form (``{_id: oid, h, v}``) too.
- ``org_units``: the registry of regions, municipalities and schools (loaded by the
  ``org-units`` format after Kafka acknowledged the registration events).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from bson import Binary
from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shkala_runtime.mongo import bulk_update

DUPLICATE_KEY = 11000


# FerretDB on SQLite writes one statement at a time: hundreds of schools' writes sent at once
# only queue inside it (seen: a 1 M-row import stalled for minutes with 420 in flight)
STREAM_CONCURRENCY = 4
PACK_STREAMS = 100_000
"""Streams per pack document (3.2 MB, well below the 16 MB document limit)."""


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
        """Content hash and version of every fact stream of one school (partition key)."""
        state: dict[str, tuple[str, int]] = {}
        async with self._streams_gate:
            async for d in self._streams(partition).find({}):
                if "p" in d:  # a pack: (digest 16 | hash 12 | version 4) per stream
                    family, packed = d["pack"], bytes(d["p"])
                    for i in range(0, len(packed), 32):
                        oid = f"{family}:{packed[i : i + 16].hex()}"
                        v = int.from_bytes(packed[i + 28 : i + 32], "big")
                        prev = state.get(oid)
                        if prev is None or prev[1] < v:
                            state[oid] = (packed[i + 16 : i + 28].hex(), v)
                else:  # one document per stream (written before packs)
                    v = int(d["v"])
                    prev = state.get(d["_id"])
                    if prev is None or prev[1] < v:
                        state[d["_id"]] = (d["h"], v)
        return state

    async def record(self, partition: str, published: Iterable[tuple[str, str, int]]) -> None:
        """Remember ``(originator_id, content_hash, version)`` of acknowledged events: packed,
        32 bytes a stream, a document per family and ``PACK_STREAMS`` streams (a million
        one-row documents would take FerretDB about a minute; a few hundred packs take
        well under a second). The highest version of a stream wins when read back."""
        packs: dict[str, bytearray] = {}
        marks: list[Any] = []  # a stream marked otherwise (withdrawn): a document of its own
        for oid, h, v in published:
            if len(h) != 24:
                marks.append(ReplaceOne({"_id": oid}, {"_id": oid, "h": h, "v": v}, upsert=True))
                continue
            family, _, digest = oid.rpartition(":")
            packs.setdefault(family, bytearray()).extend(
                bytes.fromhex(digest) + bytes.fromhex(h) + v.to_bytes(4, "big")
            )
        docs = [
            {"_id": f"pack:{uuid.uuid4().hex}", "pack": family, "p": Binary(bytes(b[i : i + step]))}
            for family, b in packs.items()
            for step in (PACK_STREAMS * 32,)
            for i in range(0, len(b), step)
        ]
        async with self._streams_gate:
            if docs:
                await self._streams(partition).insert_many(docs, ordered=False)
            await bulk_update(self._streams(partition), marks)

    # --- org-unit registry -----------------------------------------------------------

    async def schools(self) -> dict[str, dict[str, Any]]:
        """Every registered school by id."""
        return {d["school_id"]: d async for d in self.org_units.find({"unit": "school"})}

    async def registry(self) -> list[dict[str, Any]]:
        """The whole registry (regions, municipalities, schools): one read, FerretDB scans."""
        return [d async for d in self.org_units.find({})]

    async def register(self, units: Sequence[dict[str, Any]]) -> None:
        ops = [ReplaceOne({"_id": u["_id"]}, u, upsert=True) for u in units]
        await bulk_update(self.org_units, ops)  # updates in small commands (FerretDB)


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused with different content."""

    def __init__(self, import_id: str) -> None:
        super().__init__(import_id)
        self.import_id = import_id


__all__ = ["DuplicateKeyError", "IdempotencyConflict", "IngestStore"]
