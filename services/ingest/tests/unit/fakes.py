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
