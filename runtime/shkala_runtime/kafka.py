"""Kafka plumbing: topic creation, the FastStream broker, and the event publisher.

Publishing goes through one idempotent aiokafka producer (``acks=all``) with many sends in
flight: each event has its own CloudEvents headers, which FastStream's ``publish_batch``
cannot express, and awaiting one ``publish`` per event caps throughput at a few hundred/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import RecordMetadata
from faststream.kafka import KafkaBroker
from opentelemetry import propagate

from shkala_contracts import Envelope, Event, Tenant, TopicSpec, all_topics
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)


async def ensure_topics(
    settings: ServiceSettings, specs: Iterable[TopicSpec] | None = None
) -> list[str]:
    """Create the catalogue's topics that do not exist yet; returns the names created."""
    specs = list(specs or all_topics())
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.kafka_client_prefix}-{settings.service_name}-admin",
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(
                settings.topic_name(s.name),
                num_partitions=settings.kafka_topic_partitions or s.partitions,
                replication_factor=settings.kafka_replication_factor,
                topic_configs={"retention.ms": str(s.retention_ms)},
            )
            for s in specs
            if settings.topic_name(s.name) not in existing
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service won the race
                await admin.create_topics(new)
        return [t.name for t in new]
    finally:
        await admin.close()


def make_broker(settings: ServiceSettings, **kwargs: object) -> KafkaBroker:
    """The FastStream broker a service subscribes with (publishing uses EventPublisher)."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"{settings.kafka_client_prefix}-{settings.service_name}",
        acks="all",
        enable_idempotence=True,
        **kwargs,  # type: ignore[arg-type]
    )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event ready to send: the event, its envelope, and the topic it goes to."""

    event: Event
    envelope: Envelope

    @classmethod
    def of(
        cls, event: Event, *, source: str, tenant: Tenant, originator_version: int = 1
    ) -> Outgoing:
        env = Envelope.for_event(
            event, source=source, tenant=tenant, originator_version=originator_version
        )
        return cls(event, env)


class EventPublisher:
    """Publishes events with CloudEvents headers; returns once Kafka acknowledged them all."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._settings.kafka_bootstrap_servers,
                client_id=f"{self._settings.kafka_client_prefix}-{self._settings.service_name}-pub",
                acks="all",
                enable_idempotence=True,
                linger_ms=self._settings.kafka_linger_ms,
                max_batch_size=self._settings.kafka_max_batch_bytes,
                max_request_size=max(self._settings.kafka_max_batch_bytes, 1_048_576),
            )
            await producer.start()
            self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, items: Sequence[Outgoing]) -> list[RecordMetadata]:
        """Send all, with many sends in flight; raises if any was not acknowledged."""
        if self._producer is None:
            raise RuntimeError("EventPublisher.start() was not called")
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # one trace context for the whole batch
        trace = carrier.get("traceparent"), carrier.get("tracestate")
        futures = []
        for item in items:
            env = item.envelope if item.envelope.traceparent else item.envelope.with_trace(*trace)
            futures.append(
                await self._producer.send(
                    self._settings.topic_name(item.event.topic),
                    value=item.event.model_dump_json().encode(),
                    key=item.event.partition_key().encode(),
                    headers=env.to_headers(),
                )
            )
        return list(await asyncio.gather(*futures))

    async def send_raw(
        self, topic: str, value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> RecordMetadata:
        if self._producer is None:
            raise RuntimeError("EventPublisher.start() was not called")
        fut = await self._producer.send(topic, value=value, key=key, headers=headers)
        return await fut
