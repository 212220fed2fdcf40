"""Consuming events: decode the envelope, dead-letter what cannot be processed, commit after.

Every subscriber of every service goes through :func:`subscribe_events`, so the delivery
rules live in one place: at-least-once (the offset is committed only after the handler
returned), a transient failure (the handler raises) rewinds the batch for redelivery, and a
message that cannot be processed goes to ``<topic>.dlq`` with the reason while the
partition keeps moving.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.structs import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import Consumer, KafkaMessage
from pydantic import ValidationError

from shkala_contracts import Envelope, EnvelopeError, Event, event_class
from shkala_contracts.topics import DEAD_LETTER_SUFFIX
from shkala_runtime.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_CONSUMED

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LogPosition:
    """Where an event sits in the log; projections store it with the state it produced."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Delivered:
    envelope: Envelope
    event: Event
    position: LogPosition
    record: ConsumerRecord[bytes, bytes]
    timestamp_ms: int


Rejection = tuple[Delivered, str]
BatchHandler = Callable[[Sequence[Delivered]], Awaitable[Sequence[Rejection]]]


class DeadLetters:
    """Writes a message that cannot be processed to its topic's dead-letter topic."""

    def __init__(self, send_raw: Callable[..., Awaitable[Any]], consumer_group: str) -> None:
        self._send_raw = send_raw
        self._group = consumer_group
        self.count = 0

    async def send(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        headers = [
            *(record.headers or ()),
            ("x-dlq-reason", reason[:2000].encode()),
            ("x-dlq-consumer-group", self._group.encode()),
            ("x-dlq-original-topic", record.topic.encode()),
            ("x-dlq-original-partition", str(record.partition).encode()),
            ("x-dlq-original-offset", str(record.offset).encode()),
        ]
        await self._send_raw(record.topic + DEAD_LETTER_SUFFIX, record.value, record.key, headers)
        self.count += 1
        DEAD_LETTERS.labels(self._group, record.topic).inc()
        log.warning(
            "dead-lettered %s[%s]@%s: %s",
            record.topic,
            record.partition,
            record.offset,
            reason[:200],
        )


def decode(record: ConsumerRecord[bytes, bytes]) -> Delivered:
    """Envelope from headers, event from the value; raises ValueError on anything off."""
    envelope = Envelope.from_headers(record.headers or ())
    cls = event_class(envelope.type)
    if record.value is None:
        raise ValueError("empty message value")
    event = cls.model_validate_json(record.value)
    return Delivered(
        envelope,
        event,
        LogPosition(record.topic, record.partition, record.offset),
        record,
        record.timestamp,
    )


async def _ignore_body(_: Any) -> None:
    """Skip FastStream's JSON decoding: events are validated by their pydantic models."""
    return None


def subscribe_events(
    broker: KafkaBroker,
    *topics: str,
    group_id: str,
    handler: BatchHandler,
    dead_letters: DeadLetters,
    max_records: int = 2000,
    max_partition_fetch_bytes: int = 1 << 20,
    listener: ConsumerRebalanceListener | None = None,
    partition_assignment_strategy: Sequence[type[AbstractPartitionAssignor]] = (
        RoundRobinPartitionAssignor,
    ),
    decoder: Callable[[ConsumerRecord[bytes, bytes]], Delivered] | None = None,
) -> Any:
    """Register a batch subscriber with commit-after-processing and dead-lettering.

    A consumer whose cost is per batch more than per event (a projection) asks for large
    batches: ``max_records`` and the bytes fetched per partition bound how large.

    A consumer that keeps state per partition passes a rebalance ``listener`` (load the
    state of assigned partitions and seek to where it resumes, drop revoked ones; the
    subscriber returned has the aiokafka ``consumer`` once started) and, when its topics are
    co-partitioned by the same key, the range assignor (partition *i* of every topic to the
    same instance). ``decoder`` replaces :func:`decode` for a consumer that checks what it
    reads more cheaply (it must raise ``ValueError`` for what it cannot take: dead-lettered)."""
    decoding = decoder or decode

    subscriber = broker.subscriber(
        *topics,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        max_partition_fetch_bytes=max_partition_fetch_bytes,
        auto_offset_reset="earliest",
        isolation_level="read_committed",  # an import is all on the log or none of it
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_ignore_body,
        listener=listener,
        partition_assignment_strategy=partition_assignment_strategy,
    )

    @subscriber
    async def on_batch(message: KafkaMessage, consumer: Consumer) -> None:
        raw = message.raw_message
        records: tuple[ConsumerRecord[bytes, bytes], ...] = (
            raw if isinstance(raw, tuple) else (raw,)
        )
        good: list[Delivered] = []
        for record in records:
            try:
                good.append(decoding(record))
            except (EnvelopeError, ValidationError, KeyError, ValueError) as exc:
                await dead_letters.send(record, f"undecodable: {exc}")
        for delivered, reason in await handler(good) if good else ():
            await dead_letters.send(delivered.record, reason)
        for d in good:
            EVENTS_CONSUMED.labels(group_id, d.envelope.type).inc()
        _record_lag(consumer, group_id, records)

    return subscriber


def _record_lag(
    consumer: AIOKafkaConsumer, group_id: str, records: tuple[ConsumerRecord[bytes, bytes], ...]
) -> None:
    last: dict[tuple[str, int], int] = {}
    for r in records:
        last[(r.topic, r.partition)] = max(r.offset, last.get((r.topic, r.partition), -1))
    for (topic, partition), offset in last.items():
        highwater = consumer.highwater(TopicPartition(topic, partition))
        if highwater is not None:
            CONSUMER_LAG.labels(group_id, topic, str(partition)).set(max(highwater - offset - 1, 0))
