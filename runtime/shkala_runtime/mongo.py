"""MongoDB access through PyMongo's async API (``AsyncMongoClient``), see docs/adr/0001."""

from __future__ import annotations

from pymongo import AsyncMongoClient
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
