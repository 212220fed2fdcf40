"""The live stream: every instance reads the public topics from their end (no consumer group,
nothing committed) and hands each event to the SSE listeners whose tenant and filters match.

Every event a listener is sent carries a cursor (``domain/stream_cursor.py``) as its SSE id;
a client that reconnects with ``Last-Event-ID`` is first replayed what the log holds between
its cursor and the moment it reconnected, read from Kafka, then continues live. A listener
that falls too far behind is ended rather than thinned, so its client reconnects and resumes
without a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from shkala_contracts import DomainEvent
from shkala_notify.domain import stream_cursor
from shkala_notify.domain.stream_cursor import Partition
from shkala_notify.domain.subscriptions import EventFacts, Filters, Owner, matches
from shkala_notify.service_layer.fanout import to_cloudevent
from shkala_notify.service_layer.names import NAMED_TYPES, OrgNames
from shkala_runtime.consuming import decode
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

Sent = tuple[str, dict[str, Any] | None]
"""What a session yields: (SSE id, CloudEvent), or (id, None) for a bare checkpoint."""


@dataclass(eq=False)
class Listener:
    owner: Owner
    filters: Filters
    queue: asyncio.Queue[tuple[dict[str, Any], Partition, int]]
    seen: dict[Partition, int]
    """The next offset per partition the hub has handed this listener (sent or skipped)."""
    start: dict[Partition, int]
    """Where the hub stood when the listener was added: live events begin there."""
    overflowed: bool = False


@dataclass
class Session:
    """One client's position while it is being sent events."""

    layout: list[Partition]
    cursor: dict[Partition, int] = field(default_factory=dict)

    def id(self) -> str:
        return stream_cursor.encode(self.layout, self.cursor)

    def advance(self, tp: Partition, next_offset: int) -> bool:
        """False when the client has already seen this position (it came from ahead)."""
        if next_offset <= self.cursor.get(tp, 0):
            return False
        self.cursor[tp] = next_offset
        return True


class LiveHub:
    def __init__(
        self,
        names: OrgNames,
        queue_size: int = 1000,
        settings: ServiceSettings | None = None,
        checkpoint_s: float = 15.0,
    ) -> None:
        self._names = names
        self._listeners: set[Listener] = set()
        self._queue_size = queue_size
        self._settings = settings
        self._checkpoint_s = checkpoint_s
        self.layout: list[Partition] = []
        self.positions: dict[Partition, int] = {}
        """The next offset the hub will read, per partition of the streamed topics."""

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def start_at(self, positions: dict[Partition, int]) -> None:
        self.layout = sorted(positions)
        self.positions = dict(positions)

    def publish(self, ce: dict[str, Any] | None, tp: Partition, offset: int) -> None:
        facts = EventFacts.of(ce) if ce is not None else None
        for listener in list(self._listeners):
            if (
                facts is not None
                and ce is not None
                and not listener.overflowed
                and matches(listener.owner, listener.filters, facts)
            ):
                if listener.queue.full():  # ended, then resumed by the client from its cursor
                    listener.overflowed = True
                else:
                    listener.queue.put_nowait((ce, tp, offset + 1))
            if not listener.overflowed:
                listener.seen[tp] = offset + 1
        self.positions[tp] = max(self.positions.get(tp, 0), offset + 1)

    @contextlib.asynccontextmanager
    async def listen(self, owner: Owner, filters: Filters) -> AsyncIterator[Listener]:
        listener = Listener(
            owner,
            filters,
            asyncio.Queue(self._queue_size),
            seen=dict(self.positions),
            start=dict(self.positions),
        )
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    async def feed(self, records: Sequence[Any]) -> None:
        for record in records:
            tp = (record.topic, record.partition)
            ce = None
            try:
                d = decode(record)
                if isinstance(d.event, NAMED_TYPES):
                    await self._names.remember([d], store=False)
                elif isinstance(d.event, DomainEvent):
                    ce = await to_cloudevent(d, self._names)
            except Exception as exc:  # dead-lettering is the durable consumer's job
                log.debug("live stream skips undecodable record: %s", exc)
            self.publish(ce, tp, record.offset)

    def resume_point(self, last_event_id: str | None) -> dict[Partition, int] | None:
        """The positions a ``Last-Event-ID`` names; None when absent or not this stream's."""
        if not last_event_id:
            return None
        return stream_cursor.decode(self.layout, last_event_id)

    async def session(
        self, listener: Listener, resume_from: dict[Partition, int] | None
    ) -> AsyncIterator[Sent]:
        """What one client is sent: the replay from its cursor (if any), then live events,
        with a checkpoint id while nothing matches; ends when the listener overflowed."""
        session = Session(self.layout, dict(listener.start))
        if resume_from is not None:
            session.cursor = dict(resume_from)
            async for sent in self._replay(listener, session, stop=listener.start):
                yield sent
            for tp, offset in listener.start.items():
                session.cursor[tp] = max(session.cursor.get(tp, 0), offset)
            yield session.id(), None
        last_id = session.id()
        while True:
            if listener.queue.empty():
                if listener.overflowed:
                    return
                for tp, offset in listener.seen.items():  # all handed over: sent or skipped
                    session.cursor[tp] = max(session.cursor.get(tp, 0), offset)
            try:
                ce, tp, next_offset = await asyncio.wait_for(
                    listener.queue.get(), self._checkpoint_s
                )
            except TimeoutError:
                if session.id() != last_id:
                    last_id = session.id()
                    yield last_id, None
                continue
            if session.advance(tp, next_offset):
                last_id = session.id()
                yield last_id, ce

    async def _replay(
        self, listener: Listener, session: Session, stop: dict[Partition, int]
    ) -> AsyncIterator[Sent]:
        wanted = {tp: stop[tp] for tp in self.layout if session.cursor.get(tp, 0) < stop[tp]}
        if not wanted or self._settings is None:
            return
        consumer = AIOKafkaConsumer(
            isolation_level="read_committed",  # an aborted import is not data
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            client_id=f"{self._settings.kafka_client_prefix}-{self._settings.service_name}-replay",
            group_id=None,
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            parts = {tp: TopicPartition(*tp) for tp in wanted}
            consumer.assign(list(parts.values()))
            for tp, kafka_tp in parts.items():
                consumer.seek(kafka_tp, session.cursor.get(tp, 0))
            while wanted:
                batches = await consumer.getmany(*parts.values(), timeout_ms=1000)
                for kafka_tp, records in batches.items():
                    tp = (kafka_tp.topic, kafka_tp.partition)
                    for record in records:
                        if tp not in wanted or record.offset >= wanted[tp]:
                            break
                        ce = await self._replayed(record, listener)
                        if session.advance(tp, record.offset + 1) and ce is not None:
                            yield session.id(), ce
                for tp in list(wanted):
                    # by position, not the last record: transaction markers take offsets too
                    if await consumer.position(parts[tp]) >= wanted[tp]:
                        session.advance(tp, wanted[tp])
                        del wanted[tp]
                        consumer.pause(parts[tp])
        finally:
            await consumer.stop()

    async def _replayed(self, record: Any, listener: Listener) -> dict[str, Any] | None:
        try:
            d = decode(record)
        except Exception:
            return None
        if not isinstance(d.event, DomainEvent):
            return None
        ce = await to_cloudevent(d, self._names)
        return ce if matches(listener.owner, listener.filters, EventFacts.of(ce)) else None


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
            isolation_level="read_committed",  # an aborted import is not data
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
        positions = {}
        for tp in consumer.assignment():
            positions[(tp.topic, tp.partition)] = await consumer.position(tp)
        self._hub.start_at(positions)
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
