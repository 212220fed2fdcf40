"""The outbox relay: stored events with ``published: false`` go to Kafka, in store order.

Exactly once on the topic without transactions (docs/adr/0004):
- an event is published with its stored ``_id`` as CloudEvents id;
- after Kafka acknowledged a batch, the relay marks it published and records the topic's
  offsets it has reached (the checkpoint);
- if it dies between the acknowledgement and the mark, the next relay (or this one after a
  failed publish) first *reconciles*: it reads the topic from the checkpoint to the end and
  marks every event whose id it finds there as published, so nothing is sent twice; what is
  not on the topic is still ``published: false`` and is sent, so nothing is lost.
- one relay at a time: a lease document, renewed while running, taken over when expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import RecordMetadata
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shkala_contracts import Envelope, Tenant
from shkala_contracts.events.plans import TOPIC
from shkala_plans.adapters.event_store import COUNTERS, EVENTS, decode
from shkala_runtime.kafka import Outgoing
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)


class Publisher(Protocol):
    async def publish(self, items: Sequence[Outgoing]) -> list[RecordMetadata]: ...


STOP_GRACE_S = 10.0


class OutboxRelay:
    def __init__(
        self,
        db: AsyncDatabase,
        publisher: Publisher,
        settings: ServiceSettings,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        lease_seconds: float = 15.0,
    ) -> None:
        self.events = db[EVENTS]
        self.state = db[COUNTERS]
        self.publisher = publisher
        self.settings = settings
        self.topic = settings.topic_name(TOPIC)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.owner = uuid.uuid4().hex
        self._needs_reconcile = True
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    # ---- lifecycle
    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="plans-outbox-relay")

    async def stop(self) -> None:
        """Let the current step finish, then end. Not a bare cancel: cancelling the relay
        while it starts or stops an aiokafka client (reconcile, right after start) could hang
        the shutdown for good (seen in the tests: a service stopped within milliseconds)."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait({self._task}, timeout=STOP_GRACE_S)
        if not done:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=STOP_GRACE_S)
        self._task = None
        await self.state.update_one(
            {"_id": "relay-lease", "owner": self.owner}, {"$set": {"expires": _now()}}
        )

    def nudge(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                while not self._stopping and await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # the broker or database is away: reconcile, then retry
                log.exception("outbox relay failed; will reconcile and retry")
                self._needs_reconcile = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    # ---- one step
    async def run_once(self) -> int:
        """Publish one batch of pending events; returns how many (0: nothing to do)."""
        if not await self._hold_lease():
            self._needs_reconcile = True  # someone else may publish meanwhile
            return 0
        if self._needs_reconcile:
            await self.reconcile()
        docs = [
            d
            async for d in self.events.find({"published": False})
            .sort("seq", ASCENDING)
            .limit(self.batch_size)
        ]
        if not docs:
            return 0
        items = [self._outgoing(d) for d in docs]
        try:
            metadata = await self.publisher.publish(items)
        except BaseException:
            self._needs_reconcile = True  # did Kafka get any of them? find out first
            raise
        await self.events.update_many(
            {"_id": {"$in": [d["_id"] for d in docs]}}, {"$set": {"published": True}}
        )
        offsets: dict[str, int] = {}
        for md in metadata:
            key = str(md.partition)
            offsets[key] = max(offsets.get(key, 0), md.offset + 1)
        await self._advance_checkpoint(offsets)
        self.published += len(docs)
        return len(docs)

    def _outgoing(self, doc: dict[str, Any]) -> Outgoing:
        event = decode(doc)
        envelope = Envelope.for_event(
            event,
            source=self.settings.source,
            tenant=Tenant(
                region=doc["region"], municipality=doc["municipality"], school=doc["school"]
            ),
            id=doc["_id"],
            time=doc["time"],
        )
        return Outgoing(event, envelope)

    async def reconcile(self) -> int:
        """Mark as published what is already on the topic past the checkpoint."""
        checkpoint = await self.state.find_one({"_id": "relay-checkpoint"}) or {}
        start: dict[str, int] = checkpoint.get("offsets", {})
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            described = await admin.describe_topics([self.topic])
        finally:
            await admin.close()
        tps = [
            TopicPartition(self.topic, p["partition"])
            for d in described
            if d.get("error_code") == 0
            for p in d.get("partitions", [])
        ]
        consumer = AIOKafkaConsumer(
            isolation_level="read_committed",  # an aborted import is not data
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            client_id=f"{self.settings.kafka_client_prefix}-plans-outbox-reconcile",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        seen: list[str] = []
        reached: dict[str, int] = {}
        try:
            if tps:
                consumer.assign(tps)
                end = await consumer.end_offsets(tps)
                for tp in tps:
                    consumer.seek(tp, start.get(str(tp.partition), 0))
                remaining = {tp for tp in tps if await consumer.position(tp) < end[tp]}
                while remaining:
                    batch = await consumer.getmany(*remaining, timeout_ms=1000)
                    for records in batch.values():
                        for r in records:
                            ce_id = dict(r.headers or ()).get("ce_id")
                            if ce_id:
                                seen.append(ce_id.decode())
                    remaining = {tp for tp in remaining if await consumer.position(tp) < end[tp]}
                reached = {str(tp.partition): end[tp] for tp in tps}
        finally:
            await consumer.stop()
        marked = 0
        for i in range(0, len(seen), 1000):
            res = await self.events.update_many(
                {"_id": {"$in": seen[i : i + 1000]}, "published": False},
                {"$set": {"published": True}},
            )
            marked += res.modified_count
        await self._advance_checkpoint(reached)
        self._needs_reconcile = False
        if marked:
            log.warning("outbox reconcile: %d events were already on %s", marked, self.topic)
        return marked

    async def _advance_checkpoint(self, offsets: dict[str, int]) -> None:
        if offsets:
            await self.state.update_one(
                {"_id": "relay-checkpoint"},
                {"$max": {f"offsets.{p}": o for p, o in offsets.items()}},
                upsert=True,
            )

    async def _hold_lease(self) -> bool:
        now = _now()
        try:
            await self.state.update_one(
                {"_id": "relay-lease", "$or": [{"owner": self.owner}, {"expires": {"$lt": now}}]},
                {
                    "$set": {
                        "owner": self.owner,
                        "expires": now + dt.timedelta(seconds=self.lease_seconds),
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
