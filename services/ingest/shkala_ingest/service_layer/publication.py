"""Publishing one import's accepted facts inside its Kafka transaction.

Per school, the stored content hash and version of every fact stream decide: unknown ⇒
version 1, identical ⇒ skipped, changed ⇒ correction with version + 1. What was sent is
kept packed (32 bytes a fact) and written to the store only after the transaction committed:
an aborted import leaves the stream state as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from shkala_ingest.service_layer.validation import Accepted
from shkala_runtime.tracing import current_trace_headers
from shkala_runtime.transactions import (
    HeaderTemplate,
    Record,
    Transaction,
    event_ids,
    now_text,
)

RECORD_BATCH = 50_000


class StreamStore(Protocol):
    async def known(self, partition: str) -> dict[str, tuple[str, int]]: ...

    async def record(self, partition: str, published: Sequence[tuple[str, str, int]]) -> None: ...


class Publication:
    def __init__(self, store: StreamStore, source: str, topic_name: object) -> None:
        self.store = store
        self.source = source
        self.topic_name = topic_name  # settings.topic_name
        self._state: dict[str, dict[str, tuple[str, int]]] = {}
        self._templates: dict[str, HeaderTemplate] = {}
        self._topics: dict[str, str] = {}
        # (school, originator family) → packed (digest 16 | hash 12 | version 4)
        self._sent: dict[tuple[str, str], bytearray] = {}
        self.published = 0
        self.unchanged = 0
        self.corrections = 0
        self.counts: dict[str, int] = {}

    async def send(self, tx: Transaction, part: Sequence[Accepted]) -> None:
        keys = [a.school for a in part]
        new = sorted({k for k in keys if k not in self._state})
        if new:
            found = await asyncio.gather(*(self.store.known(k) for k in new))
            self._state.update(zip(new, found, strict=True))
        parent, state = current_trace_headers()
        trace = [("traceparent", parent.encode())] if parent else []
        if parent and state:
            trace.append(("tracestate", state.encode()))
        time = now_text().encode()
        out: list[Record] = []
        ids = event_ids(len(part))
        for a, school, event_id in zip(part, keys, ids, strict=True):
            prev = self._state[school].get(a.oid)
            if prev is not None and prev[0] == a.hash:
                self.unchanged += 1
                continue
            version = prev[1] + 1 if prev is not None else 1
            if version > 1:
                self.corrections += 1
            event_type = a.event_type
            template = self._templates.get(event_type)
            if template is None:
                template = self._templates[event_type] = HeaderTemplate(event_type, self.source)
                self._topics[event_type] = self.topic_name(a.topic)  # type: ignore[operator]
            out.append(
                Record(
                    self._topics[event_type],
                    school.encode(),
                    a.body,
                    template.headers(
                        originator_id=a.oid,
                        version=version,
                        tenant=a.tenant,
                        time=time,
                        trace=trace,
                        event_id=event_id,
                    ),
                    event_type,
                )
            )
            self.counts[event_type] = self.counts.get(event_type, 0) + 1
            family, _, digest = a.oid.rpartition(":")
            packed = self._sent.setdefault((school, family), bytearray())
            packed += bytes.fromhex(digest) + bytes.fromhex(a.hash) + version.to_bytes(4, "big")
        await tx.send(out)
        self.published += len(out)

    async def record(self) -> None:
        """After the commit: remember what was published, per school, in few large writes
        (FerretDB pays per statement)."""
        jobs = []
        sent, self._sent = self._sent, {}
        for (school, family), packed in sent.items():
            items = [
                (
                    f"{family}:{packed[i : i + 16].hex()}",
                    packed[i + 16 : i + 28].hex(),
                    int.from_bytes(packed[i + 28 : i + 32], "big"),
                )
                for i in range(0, len(packed), 32)
            ]
            for j in range(0, len(items), RECORD_BATCH):
                jobs.append(self.store.record(school, items[j : j + RECORD_BATCH]))
            if len(jobs) >= 8:
                await asyncio.gather(*jobs)
                jobs = []
        await asyncio.gather(*jobs)
