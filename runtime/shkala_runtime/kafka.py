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
from aiokafka.errors import (
    InvalidProducerIdMapping,
    OutOfOrderSequenceNumber,
    TopicAlreadyExistsError,
    UnknownProducerId,
)
from aiokafka.structs import RecordMetadata
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from shkala_contracts import Envelope, Event, Tenant, TopicSpec, all_topics
from shkala_runtime.metrics import EVENTS_PUBLISHED
from shkala_runtime.settings import ServiceSettings
from shkala_runtime.tracing import current_trace_headers, tracer

log = logging.getLogger(__name__)

# errors after which the idempotent producer never recovers on its own
PRODUCER_STATE_LOST = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerIdMapping)


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
        # FastStream logs every message received/processed: keep that at DEBUG, in our format.
        logger=logging.getLogger("shkala.faststream"),
        log_level=logging.DEBUG,
        middlewares=(
            KafkaTelemetryMiddleware(),
            KafkaPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name),
        ),
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
        # The event continues the trace of whatever caused it (the upload, the fact).
        parent, state = current_trace_headers()
        env = Envelope.for_event(
            event,
            source=source,
            tenant=tenant,
            originator_version=originator_version,
            traceparent=parent,
            tracestate=state,
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

    async def _renew(self, exc: Exception) -> None:
        """The broker lost this producer's sequence state (it restarted, or the id expired):
        every later send fails the same way until a new producer id starts clean. The caller
        sees the error and retries the batch (consumers are idempotent)."""
        log.warning("renewing the Kafka producer after %s", type(exc).__name__)
        old, self._producer = self._producer, None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.stop()
        await self.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, items: Sequence[Outgoing]) -> list[RecordMetadata]:
        """Send all, with many sends in flight; raises if any was not acknowledged."""
        if self._producer is None:
            raise RuntimeError("EventPublisher.start() was not called")
        with tracer.start_as_current_span(
            "publish batch",
            attributes={"shkala.events": len(items), "shkala.service": self._settings.service_name},
        ):
            batch_trace = current_trace_headers()
            futures = []
            for item in items:
                env = item.envelope
                if not env.traceparent and batch_trace[0]:
                    env = env.with_trace(*batch_trace)
                futures.append(
                    await self._producer.send(
                        self._settings.topic_name(item.event.topic),
                        value=item.event.model_dump_json().encode(),
                        key=item.event.partition_key().encode(),
                        headers=env.to_headers(),
                    )
                )
            try:
                acks = list(await asyncio.gather(*futures))
            except PRODUCER_STATE_LOST as exc:
                await self._renew(exc)
                raise
        for item in items:
            EVENTS_PUBLISHED.labels(self._settings.service_name, item.event.event_type).inc()
        return acks

    async def send_raw(
        self, topic: str, value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> RecordMetadata:
        if self._producer is None:
            raise RuntimeError("EventPublisher.start() was not called")
        fut = await self._producer.send(topic, value=value, key=key, headers=headers)
        return await fut
