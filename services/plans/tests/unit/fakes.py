"""In-memory fakes of the plans service's dependencies (unit tests of one use case)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.org_units import MunicipalityRegistered, SchoolRegistered


class FakeOrgs:
    """The org-unit registry: municipality -> schools, all in one region."""

    def __init__(self, region: str, registry: dict[str, tuple[str, ...]]) -> None:
        self.region = region
        self.mun = set(registry)
        self.school = {s: m for m, schools in registry.items() for s in schools}

    async def record(
        self, events: Sequence[tuple[SchoolRegistered | MunicipalityRegistered, int]]
    ) -> None:
        for e, _ in events:
            self.mun.add(e.municipality_id)
            if isinstance(e, SchoolRegistered):
                self.school[e.school_id] = e.municipality_id

    async def schools(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        return {i: (self.region, self.school[i]) for i in ids if i in self.school}

    async def municipalities(self, ids: Iterable[str]) -> dict[str, str]:
        return {i: self.region for i in ids if i in self.mun}


class FakeStore:
    """The event store and its aggregate index, in memory (no concurrency of its own)."""

    def __init__(self) -> None:
        self.streams: dict[str, list[DomainEvent]] = {}
        self.index: dict[str, dict[str, Any]] = {}

    @property
    def appended(self) -> int:
        return sum(len(s) for s in self.streams.values())

    async def load(self, aggregate_id: str) -> list[DomainEvent]:
        return list(self.streams.get(aggregate_id, []))

    async def append(
        self, aggregate_id: str, expected_version: int, events: Sequence[DomainEvent]
    ) -> list[str]:
        stream = self.streams.setdefault(aggregate_id, [])
        assert len(stream) == expected_version, (aggregate_id, expected_version)
        stream.extend(events)
        return [f"{aggregate_id}@{e.originator_version}" for e in events]

    async def index_put(self, aggregate_id: str, version: int, doc: dict[str, Any]) -> None:
        self.index[aggregate_id] = {**doc, "_id": aggregate_id, "version": version}

    async def index_find(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return [d for d in self.index.values() if all(d.get(k) == v for k, v in query.items())]
