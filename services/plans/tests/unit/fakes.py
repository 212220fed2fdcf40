"""In-memory fakes of the plans event store (with its outbox flag), the indicator values, the
indicators catalogue and the org-unit registry, for unit tests of single use cases. Same
contract as the MongoDB adapters: an append at a stale version raises ConcurrencyError and
appends nothing; every appended event is an outbox entry until marked published."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.org_units import MunicipalityRegistered, SchoolRegistered
from shkala_contracts.events.plans import Better
from shkala_plans.adapters.event_store import ConcurrencyError
from shkala_plans.domain.proposals import Definition, TaskDeficit
from shkala_plans.service_layer.services import CatalogueUnavailable, Deps


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
    """School indicator values {(school, indicator, period): value} and ШНОР/ШНСУ membership
    records (school, list, period, entered|left), as the indicators topic left them."""

    values: dict[tuple[str, str, str], float] = field(default_factory=dict)
    membership: list[tuple[str, str, str, str]] = field(default_factory=list)
    # what proposals cite beside the value: (school, indicator, period) -> numerator etc.
    details: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    reasons: dict[tuple[str, str, str], tuple[str, ...]] = field(default_factory=dict)

    async def setup(self) -> None:
        return None

    async def values_for(
        self, schools: Iterable[str], periods: Iterable[str]
    ) -> dict[tuple[str, str, str], float]:
        wanted_s, wanted_p = set(schools), set(periods)
        return {k: v for k, v in self.values.items() if k[0] in wanted_s and k[2] in wanted_p}

    async def membership_for(self, schools: Iterable[str]) -> list[tuple[str, str, str, str]]:
        wanted = set(schools)
        return [x for x in self.membership if x[0] in wanted]

    async def record(self, events: Any) -> None:
        for e in events:
            if hasattr(e, "indicator_id") and e.school_id and e.new_value is not None:
                self.values[(e.school_id, e.indicator_id, e.period)] = float(e.new_value)
                self.details[(e.school_id, e.indicator_id, e.period)] = {
                    "numerator": e.numerator,
                    "denominator": e.denominator,
                    "definition_version": e.definition_version,
                }
            elif hasattr(e, "risk_list") and e.school_id:
                self.membership.append((e.school_id, e.risk_list.value, e.period, e.change.value))
                self.reasons[(e.school_id, e.risk_list.value, e.period)] = tuple(e.reasons)

    async def cited_for(
        self, period: str, schools: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        wanted = None if schools is None else set(schools)
        return [
            {
                "school": s,
                "indicator": i,
                "period": p,
                "value": v,
                **self.details.get((s, i, p), {}),
            }
            for (s, i, p), v in self.values.items()
            if p == period and (wanted is None or s in wanted)
        ]

    async def lists_for(
        self, period: str, schools: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        wanted = None if schools is None else set(schools)
        return [
            {
                "school": s,
                "list": li,
                "period": p,
                "change": c,
                "reasons": list(self.reasons.get((s, li, p), ())),
            }
            for s, li, p, c in self.membership
            if p == period and (wanted is None or s in wanted)
        ]


# The catalogue the use-case tests work with: id -> which way it improves (as the indicators
# service's catalogue.yaml says for these ids).
CATALOGUE = {
    "vpr_mark2_share_math": Better.LOWER,
    "ege_high_scorers_share": Better.HIGHER,
}


@dataclass
class FakeCatalogue:
    known: dict[str, Better] = field(default_factory=lambda: dict(CATALOGUE))
    down: bool = False  # the indicators service does not answer
    asked: list[str] = field(default_factory=list)
    # name, direction, threshold per id (proposals cite them); tests set what they need
    defined: dict[str, Definition] = field(default_factory=dict)

    async def definitions(self) -> dict[str, Definition]:
        if self.down:
            raise CatalogueUnavailable("the indicators catalogue did not answer")
        return dict(self.defined)

    async def better(self, indicator_id: str) -> Better | None:
        self.asked.append(indicator_id)
        if self.down:
            raise CatalogueUnavailable("the indicators catalogue did not answer")
        return self.known.get(indicator_id)


@dataclass
class FakeVprTasks:
    """The indicators service's ВПР task deficits: school -> rows; ``down``: no answer."""

    rows: dict[str, list[TaskDeficit]] = field(default_factory=dict)
    down: bool = False
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def deficits(self, school: str, period: str) -> list[TaskDeficit]:
        from shkala_plans.service_layer.proposals import VprTasksUnavailable

        self.asked.append((school, period))
        if self.down:
            raise VprTasksUnavailable("indicators did not answer")
        return list(self.rows.get(school, []))


# The registry the use-case tests work in: municipality -> its schools, region "r".
REGISTRY = {"m1": ("s1", "s2", "s3"), "m2": ("s4",)}


def fake_deps(
    registry: dict[str, tuple[str, ...]] = REGISTRY, region: str = "r"
) -> tuple[Deps, FakeEventStore]:
    store = FakeEventStore()
    deps = Deps(store, FakeValues(), FakeOrgs(region, registry), catalogue=FakeCatalogue())
    return deps, store


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

    async def schools_of(self, municipality: str) -> list[str]:
        return sorted(s for s, m in self.school.items() if m == municipality)
