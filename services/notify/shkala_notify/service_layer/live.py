"""The live stream: every instance reads the public topics from their end (no consumer group,
nothing committed) and hands each event to the SSE listeners whose tenant and filters match."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer

from shkala_contracts import DomainEvent
from shkala_notify.domain.subscriptions import EventFacts, Filters, Owner, matches
from shkala_notify.service_layer.fanout import to_cloudevent
from shkala_notify.service_layer.names import ORG_UNIT_TYPES, OrgNames
from shkala_runtime.consuming import decode
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Listener:
    owner: Owner
    filters: Filters
    queue: asyncio.Queue[dict[str, Any]]


class LiveHub:
    def __init__(self, names: OrgNames, queue_size: int = 1000) -> None:
        self._names = names
        self._listeners: set[Listener] = set()
        self._queue_size = queue_size

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def publish(self, ce: dict[str, Any]) -> None:
        facts = EventFacts.of(ce)
        for listener in list(self._listeners):
            if matches(listener.owner, listener.filters, facts):
                if listener.queue.full():  # a slow dashboard loses the oldest, not the stream
                    listener.queue.get_nowait()
                listener.queue.put_nowait(ce)

    @contextlib.asynccontextmanager
    async def listen(self, owner: Owner, filters: Filters) -> AsyncIterator[Listener]:
        listener = Listener(owner, filters, asyncio.Queue(self._queue_size))
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    async def feed(self, records: Sequence[Any]) -> None:
        for record in records:
            try:
                d = decode(record)
            except Exception as exc:  # dead-lettering is the durable consumer's job
                log.debug("live stream skips undecodable record: %s", exc)
                continue
            if isinstance(d.event, ORG_UNIT_TYPES):
                await self._names.remember([d], store=False)
            elif isinstance(d.event, DomainEvent):
                self.publish(await to_cloudevent(d, self._names))


class LiveConsumer:
    """Tails the topics from their current end, on every instance."""

    def __init__(self, settings: ServiceSettings, topics: Sequence[str], hub: LiveHub) -> None:
        self._settings = settings
        self._topics = list(topics)
        self._hub = hub
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            client_id=f"{self._settings.kafka_client_prefix}-{self._settings.service_name}-live",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        await consumer.start()
        # Resolve the end offsets now, so nothing published after start() is missed.
        for _ in range(50):
            if consumer.assignment():
                break
            await asyncio.sleep(0.1)
        for tp in consumer.assignment():
            await consumer.position(tp)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(), name="notify-live-consumer")

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=500)
                for records in batches.values():
                    await self._hub.feed(records)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live stream consumer failed; continuing")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
