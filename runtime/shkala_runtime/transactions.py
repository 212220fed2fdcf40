"""Publishing at the broker's rate, atomically: librdkafka (``confluent-kafka``) producers
with ``acks=all``, idempotence and Kafka transactions.

A caller opens one transaction for a unit of work (an import), sends records already
encoded (:class:`Record`: value encoded once, CloudEvents headers built without a model,
see :func:`fact_headers`), and the transaction commits only when the unit succeeds; on any
error it aborts, and a ``read_committed`` consumer sees none of it. A process killed
mid-transaction leaves it open on the broker: the next producer with the same
``transactional.id`` (the same slot after a restart) fences and aborts it at start.

Producers are pooled by slot (``transactional.id`` = ``<prefix><service>-<instance>-<slot>``),
one transaction per producer at a time; more concurrent units wait for a free slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from shkala_contracts import Tenant
from shkala_contracts.envelope import CONTENT_TYPE, SCHEMA_URI, SPECVERSION
from shkala_runtime.metrics import EVENTS_PUBLISHED
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

Header = tuple[str, bytes]
LogPositions = dict[str, dict[str, int]]
"""``{topic: {partition (as text): offset of the last record written}}``."""


@dataclass(slots=True)
class Record:
    """One message, ready: real topic name, key, value and headers."""

    topic: str
    key: bytes
    value: bytes
    headers: list[Header]
    event_type: str = ""


def event_ids(n: int) -> list[bytes]:
    """``n`` random (version 4) UUIDs as CloudEvents ids, made in one go (``uuid4()`` per
    event was a tenth of the publishing time)."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])
    h = raw.hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-{h[i + 16 : i + 20]}-"
        f"{h[i + 20 : i + 32]}".encode()
        for i in range(0, 32 * n, 32)
    ]


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


class HeaderTemplate:
    """CloudEvents binary-mode headers of one event type from one source: the constant part
    encoded once, the per-event part (id, subject, originator, version, tenant) per call.
    Produces the same headers as :meth:`shkala_contracts.Envelope.to_headers`."""

    def __init__(self, event_type: str, source: str) -> None:
        self.event_type = event_type
        self._head = [
            ("ce_source", source.encode()),
            ("ce_type", event_type.encode()),
            ("ce_specversion", SPECVERSION.encode()),
        ]
        self._schema = ("ce_dataschema", SCHEMA_URI.format(type=event_type).encode())
        self._ctype = ("content-type", CONTENT_TYPE.encode())
        self._tenants: dict[Tenant, list[Header]] = {}

    def _tenant(self, tenant: Tenant) -> list[Header]:
        cached = self._tenants.get(tenant)
        if cached is None:
            cached = [("ce_region", tenant.region.encode())]
            if tenant.municipality is not None:
                cached.append(("ce_municipality", tenant.municipality.encode()))
            if tenant.school is not None:
                cached.append(("ce_school", tenant.school.encode()))
            self._tenants[tenant] = cached
        return cached

    def headers(
        self,
        *,
        originator_id: str,
        version: int,
        tenant: Tenant,
        time: bytes,
        trace: Sequence[Header] = (),
        event_id: bytes | None = None,
    ) -> list[Header]:
        oid = originator_id.encode()
        return [
            ("ce_id", event_id or str(uuid.uuid4()).encode()),
            *self._head,
            ("ce_time", time),
            ("ce_subject", oid),
            self._schema,
            self._ctype,
            *self._tenant(tenant),
            ("ce_originatorid", oid),
            ("ce_originatorversion", str(version).encode()),
            *trace,
        ]


@dataclass
class Transaction:
    """Records sent inside one Kafka transaction; ``positions`` once delivered."""

    producer: Producer
    service: str
    positions: LogPositions = field(default_factory=dict)
    sent: int = 0
    acked: int = 0
    _failed: KafkaError | None = None
    _counts: dict[str, int] = field(default_factory=dict)

    def _delivered(self, err: KafkaError | None, msg: Any, n: int = 1) -> None:
        """The report of a key's last record in one :meth:`send`, standing for its ``n``
        records: a partition delivers in order, and any failed record fails the commit."""
        if err is not None:
            if self._failed is None:
                self._failed = err
            return
        self.acked += n
        parts = self.positions.setdefault(msg.topic(), {})
        p = str(msg.partition())
        if msg.offset() > parts.get(p, -1):
            parts[p] = msg.offset()

    async def send(self, records: Iterable[Record]) -> None:
        """Hand records to librdkafka (non-blocking; waits only while its queue is full)."""
        produce, poll = self.producer.produce, self.producer.poll
        records = list(records)
        # one delivery report per key and call (each partition's last offset is some key's
        # last record): a Python callback per record cost more than producing it
        last: dict[bytes, int] = {}
        weight: dict[bytes, int] = {}
        for i, r in enumerate(records):
            last[r.key] = i
            weight[r.key] = weight.get(r.key, 0) + 1
        reports = {i: functools.partial(self._delivered, n=weight[k]) for k, i in last.items()}
        n = 0
        for i, r in enumerate(records):
            cb = reports.get(i)
            while True:
                try:
                    if cb is None:
                        produce(r.topic, r.value, r.key, headers=r.headers)  # type: ignore[arg-type]
                    else:
                        produce(r.topic, r.value, r.key, headers=r.headers, on_delivery=cb)  # type: ignore[arg-type]
                    break
                except BufferError:  # local queue full: let deliveries drain
                    poll(0)
                    await asyncio.sleep(0.005)
            n += 1
            if r.event_type:
                self._counts[r.event_type] = self._counts.get(r.event_type, 0) + 1
            if n % 2000 == 0:
                poll(0)
                await asyncio.sleep(0)
        poll(0)
        self.sent += n
        self._check()

    async def flush(self) -> None:
        """Wait until every record sent so far was acknowledged (acks=all)."""
        while await asyncio.to_thread(self.producer.flush, 1.0):
            pass
        self._check()

    def _check(self) -> None:
        if self._failed is not None:
            raise KafkaException(self._failed)

    def count_published(self) -> None:
        for event_type, n in self._counts.items():
            EVENTS_PUBLISHED.labels(self.service, event_type).inc(n)


class TransactionalPublisher:
    """A pool of transactional librdkafka producers; ``async with publisher.transaction()``."""

    def __init__(self, settings: ServiceSettings, *, instance: str = "0", slots: int = 2) -> None:
        self._settings = settings
        self._instance = instance
        self._slots = slots
        self._free: asyncio.Queue[Producer] | None = None
        self._all: list[Producer] = []

    def _config(self, slot: int) -> dict[str, Any]:
        s = self._settings
        return {
            "bootstrap.servers": s.kafka_bootstrap_servers,
            "client.id": f"{s.kafka_client_prefix}-{s.service_name}-tx{slot}",
            "transactional.id": (f"{s.kafka_topic_prefix}{s.service_name}-{self._instance}-{slot}"),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": max(s.kafka_linger_ms, 20),
            "batch.size": max(s.kafka_max_batch_bytes, 1_048_576),
            # enough for a second at the broker's rate; more only grows the producer's RSS
            "queue.buffering.max.messages": 200_000,
            "queue.buffering.max.kbytes": 32 * 1024,
            "compression.type": "none",  # aiokafka consumers lack lz4/zstd codecs
            "transaction.timeout.ms": 300_000,
            "message.timeout.ms": 300_000,
        }

    async def start(self) -> None:
        """Create the slots' producers; each fences (aborts) what a killed predecessor with
        the same transactional.id left open."""
        if self._free is not None:
            return
        free: asyncio.Queue[Producer] = asyncio.Queue()
        for slot in range(self._slots):
            producer = Producer(self._config(slot))
            await asyncio.to_thread(producer.init_transactions, 60)
            self._all.append(producer)
            free.put_nowait(producer)
        self._free = free

    async def stop(self) -> None:
        for producer in self._all:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(producer.flush, 5)
        self._all.clear()
        self._free = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        if self._free is None:
            raise RuntimeError("TransactionalPublisher.start() was not called")
        producer = await self._free.get()
        healthy = True
        try:
            producer.begin_transaction()
            tx = Transaction(producer, self._settings.service_name)
            try:
                yield tx
                await tx.flush()
                await asyncio.to_thread(producer.commit_transaction, 120)
                tx.count_published()
            except BaseException:
                try:
                    await asyncio.to_thread(producer.abort_transaction, 60)
                except KafkaException:
                    healthy = False
                    log.warning("a transaction could not be aborted; its producer is replaced")
                raise
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            if isinstance(err, KafkaError) and (err.fatal() or err.txn_requires_abort()):
                healthy = False
            raise
        finally:
            if not healthy:
                producer = await self._replace(producer)
            self._free.put_nowait(producer)

    async def _replace(self, old: Producer) -> Producer:
        slot = self._all.index(old)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(old.flush, 1)
        new = Producer(self._config(slot))
        await asyncio.to_thread(new.init_transactions, 60)
        self._all[slot] = new
        return new
