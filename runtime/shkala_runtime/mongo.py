"""MongoDB access through PyMongo's async API (``AsyncMongoClient``), see docs/adr/0001."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shkala_runtime.settings import ServiceSettings


def make_client(settings: ServiceSettings) -> AsyncMongoClient:
    return AsyncMongoClient(
        settings.mongo_url,
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        appname=f"shkala-{settings.service_name}",
        tz_aware=True,
    )


def database(client: AsyncMongoClient, settings: ServiceSettings) -> AsyncDatabase:
    return client[settings.mongo_database]


async def ping(client: AsyncMongoClient) -> None:
    await client.admin.command("ping")


UPDATES_PER_COMMAND = 20
"""FerretDB 1.24 holds a pooled PostgreSQL connection per update statement until the whole
command ends (ADR 0002, trap 1): one `bulk_write` of 400 updates took every connection of the
pool and wedged the server for every service. Updates go in commands of at most this many."""


async def bulk_update(
    collection: AsyncCollection, ops: Sequence[Any], per_command: int = UPDATES_PER_COMMAND
) -> None:
    """``bulk_write`` of update/upsert operations, ``per_command`` statements per command."""
    for i in range(0, len(ops), per_command):
        await collection.bulk_write(list(ops[i : i + per_command]), ordered=False)


async def find_each(
    collection: AsyncCollection,
    field: str,
    values: Iterable[Any],
    query: Mapping[str, Any] | None = None,
    projection: Mapping[str, Any] | None = None,
    *,
    scan_over: int | None = None,
) -> list[dict[str, Any]]:
    """The documents whose ``field`` is one of ``values`` (and match ``query``), one equality
    find per value. FerretDB 1.24 cannot push ``$in`` down to PostgreSQL (ADR 0002, trap 3):
    a ``$in`` of 3 ids reads and decodes the whole collection, an equality uses its index.
    ``scan_over``: with more values than that, one ``$in`` instead (a small collection read
    once costs less than that many equalities)."""
    wanted = list(dict.fromkeys(values))  # each once, in order
    if scan_over is not None and len(wanted) > scan_over:
        found = collection.find({**(query or {}), field: {"$in": wanted}}, projection)
        return [d async for d in found]
    out: list[dict[str, Any]] = []
    for value in wanted:
        out += [d async for d in collection.find({**(query or {}), field: value}, projection)]
    return out
