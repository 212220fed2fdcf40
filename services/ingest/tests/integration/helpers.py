"""Shared by the ingest integration tests: the app in-process and a plain Kafka reader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from shkala_ingest.bootstrap import bootstrap
from shkala_ingest.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.settings import ServiceSettings

REGION = "demo"


def ingest_settings(base: ServiceSettings, **overrides: Any) -> Settings:
    values = base.model_dump()
    values.update(service_name="ingest", log_json=False, **overrides)
    return Settings.model_validate(values)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    service = bootstrap(settings)
    app = service.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=120) as c:
            yield c


def auth(settings: Settings, role: str, **tenant: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, role, **tenant)}"}


def org_units_csv(schools: list[tuple[str, str]]) -> bytes:
    """(municipality, school) pairs in the demo region, as a UTF-8 `;` CSV."""
    lines = ["Код региона;Регион;Код МО;Муниципалитет;Код ОО;Наименование ОО;Тип ОО"]
    for mun, school in schools:
        lines.append(f"{REGION};Демо-область;{mun};МО {mun};{school};Школа {school};СОШ")
    return ("\n".join(lines) + "\n").encode()


async def register(
    client: httpx.AsyncClient, settings: Settings, schools: list[tuple[str, str]]
) -> None:
    r = await client.post(
        "/imports/org-units",
        headers=auth(settings, "region"),
        files={"file": ("org.csv", org_units_csv(schools), "text/csv")},
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "completed", r.text


async def read_topic(settings: Settings, base_topic: str) -> list[ConsumerRecord]:
    """Everything committed on a topic up to its current end, read by a plain consumer."""
    topic = settings.topic_name(base_topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        isolation_level="read_committed",  # an aborted import is not on the log for anyone
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        parts = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        while [tp for tp in parts if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(*parts, timeout_ms=1000, max_records=20_000)
            records.extend(r for rs in batch.values() for r in rs)
    finally:
        await consumer.stop()
    return records


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return parts
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    raise AssertionError(f"topic {topic} not found")
