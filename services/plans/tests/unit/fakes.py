"""In-memory fakes of the plans event store (with its outbox flag), the indicator values and
the org-unit registry, for unit tests of single use cases. Same contract as the MongoDB
adapters: an append at a stale version raises ConcurrencyError and appends nothing; every
appended event is an outbox entry until marked published."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.org_units import MunicipalityRegistered, SchoolRegistered
from shkala_plans.adapters.event_store import ConcurrencyError
from shkala_plans.service_layer.services import Deps


def _matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    for key, want in query.items():
        if key == "$or":
            if not any(_matches(doc, q) for q in want):
                return False
            continue
        have = doc.get(key)
        if isinstance(want, dict) and "$in" in want:
            values = have if isinstance(have, list) else [have]
            if not set(values) & set(want["$in"]):
                return False
        elif isinstance(have, list) and not isinstance(want, list):
            if want not in have:
                return False
        elif have != want:
            return False
    return True


@dataclass
class FakeEventStore:
    streams: dict[str, list[DomainEvent]] = field(default_factory=dict)
    outbox: list[DomainEvent] = field(default_factory=list)
    index: dict[str, dict[str, Any]] = field(default_factory=dict)
    appends: int = 0

    async def setup(self) -> None:
        return None

    @property
    def appended(self) -> int:
        """Events appended in all (a refused command appends none)."""
        return sum(len(s) for s in self.streams.values())

    async def load(self, aggregate_id: str) -> list[DomainEvent]:
        return list(self.streams.get(aggregate_id, []))

    async def version(self, aggregate_id: str) -> int:
        return len(self.streams.get(aggregate_id, []))

    async def append(
        self, aggregate_id: str, expected_version: int, events: Sequence[DomainEvent]
    ) -> list[str]:
        stream = self.streams.setdefault(aggregate_id, [])
        if len(stream) != expected_version:
            raise ConcurrencyError(aggregate_id, expected_version, len(stream))
        for i, e in enumerate(events, start=1):
            if e.originator_id != aggregate_id or e.originator_version != expected_version + i:
                raise ValueError(f"event {e.originator_id}@{e.originator_version} out of place")
        stream.extend(events)
        self.outbox.extend(events)
        self.appends += 1
        return [f"{aggregate_id}@{e.originator_version}" for e in events]

    async def index_put(self, aggregate_id: str, version: int, doc: dict[str, Any]) -> None:
        self.index[aggregate_id] = {
            **self.index.get(aggregate_id, {}),
            **doc,
            "version": version,
            "_id": aggregate_id,
        }

    async def index_find(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return [dict(d) for d in self.index.values() if _matches(d, query)]

    def types(self) -> list[str]:
        return [e.event_type.split(".")[-2] for e in self.outbox]


@dataclass
class FakeValues:
    async def setup(self) -> None:
        return None

    async def values_for(self, schools: Any, periods: Any) -> dict[Any, Any]:
        return {}

    async def membership_for(self, schools: Any) -> list[Any]:
        return []

    async def record(self, events: Any) -> None:
        return None


# The registry the use-case tests work in: municipality -> its schools, region "r".
REGISTRY = {"m1": ("s1", "s2", "s3"), "m2": ("s4",)}


def fake_deps(
    registry: dict[str, tuple[str, ...]] = REGISTRY, region: str = "r"
) -> tuple[Deps, FakeEventStore]:
    store = FakeEventStore()
    return Deps(store, FakeValues(), FakeOrgs(region, registry)), store  # type: ignore[arg-type]


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
