"""In-memory stand-ins for the use cases' dependencies (unit tests only)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shkala_runtime.transactions import Record


class FakeStore:
    def __init__(self, schools: dict[str, dict[str, Any]]) -> None:
        self._schools = schools
        self.streams: dict[str, dict[str, tuple[str, int]]] = {}

    async def schools(self) -> dict[str, dict[str, Any]]:
        return dict(self._schools)

    async def known(self, partition: str) -> dict[str, tuple[str, int]]:
        return dict(self.streams.get(partition, {}))

    async def record(self, partition: str, published: Sequence[tuple[str, str, int]]) -> None:
        s = self.streams.setdefault(partition, {})
        for oid, h, v in published:
            s[oid] = (h, v)


@dataclass
class FakeTransaction:
    sent: list[Record] = field(default_factory=list)
    positions: dict[str, dict[str, int]] = field(default_factory=dict)

    async def send(self, records: Iterable[Record]) -> None:
        for r in records:
            self.sent.append(r)
            self.positions.setdefault(r.topic, {})["0"] = len(self.sent) - 1


class FakePublisher:
    def __init__(self) -> None:
        self.committed: list[Record] = []

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeTransaction]:
        tx = FakeTransaction()
        yield tx
        self.committed.extend(tx.sent)


class FakeImportStore(FakeStore):
    """What the import use case keeps of its runs and idempotency claims, in memory."""

    def __init__(self, schools: dict[str, dict[str, Any]]) -> None:
        super().__init__(schools)
        self.imports: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, str] = {}

    async def claim(self, keys: Sequence[str], import_id: str, content_hash: str) -> str | None:
        for k in keys:
            if k in self.claims:
                return self.claims[k]
        self.claims.update(dict.fromkeys(keys, import_id))
        return None

    async def release(self, import_id: str) -> None:
        self.claims = {k: v for k, v in self.claims.items() if v != import_id}

    async def create_import(self, doc: dict[str, Any]) -> None:
        self.imports[doc["_id"]] = dict(doc)

    async def update_import(self, import_id: str, fields: dict[str, Any]) -> None:
        self.imports[import_id].update(fields)

    async def get_import(self, import_id: str) -> dict[str, Any] | None:
        return self.imports.get(import_id)


@dataclass
class FakeImportTransaction(FakeTransaction):
    acked: int = 0

    async def send(self, records: Iterable[Record]) -> None:
        records = list(records)
        await super().send(records)
        self.acked += len(records)

    async def flush(self) -> None:
        return None


class FakeImportPublisher(FakePublisher):
    """Commits what a transaction sent only when its block ends without an error (an
    aborted Kafka transaction: a read_committed consumer never sees it)."""

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeImportTransaction]:  # type: ignore[override]
        tx = FakeImportTransaction()
        yield tx
        self.committed.extend(tx.sent)
