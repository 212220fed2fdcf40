"""Fixtures every test tree shares.

Tests under ``integration/`` and ``e2e/`` run on the real local Kafka broker and FerretDB
(``make infra-up``; ``make test`` starts them). When those are not reachable such tests
fail with the reason; they are never skipped.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shkala_runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        if "e2e" in parts:
            item.add_marker(pytest.mark.e2e)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def infra() -> None:
    """The real infrastructure is up; fails (never skips) when it is not."""
    base = ServiceSettings()
    host, port = base.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)
    missing = []
    if not _reachable(host, int(port)):
        missing.append(f"Kafka at {base.kafka_bootstrap_servers}")
    if not _reachable("127.0.0.1", 27017):
        missing.append("FerretDB at 127.0.0.1:27017")
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not reachable: run `make infra-up` "
            "(or `make test`, which starts them)",
            pytrace=False,
        )


@pytest.fixture
def run_id() -> str:
    """Unique per test: prefixes ids, groups and databases so tests never see each other."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def test_settings(infra: None, run_id: str) -> AsyncIterator[ServiceSettings]:
    """Settings with topics and a database of this test's own (the database is dropped after)."""
    from shkala_runtime.mongo import make_client

    settings = ServiceSettings(
        service_name=f"test-{run_id}",
        mongo_database=f"t_{run_id}",
        kafka_topic_prefix=f"t{run_id}.",
        kafka_topic_partitions=2,
    )
    yield settings
    client = make_client(settings)
    try:
        await client.drop_database(settings.mongo_database)
    finally:
        await client.close()
    from support.topics import delete_topics

    await asyncio.to_thread(
        delete_topics, settings.kafka_bootstrap_servers, settings.kafka_topic_prefix
    )


@pytest.fixture(scope="session", autouse=True)
def _delete_test_topics() -> Iterator[None]:
    """Topics of service processes (end-to-end tests) go when the session ends."""
    yield
    from support.topics import delete_remembered

    delete_remembered()
