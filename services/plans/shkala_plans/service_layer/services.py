"""The unit of work every plans use case runs through: load an aggregate, decide, append the
events at the loaded version (optimistic concurrency) to the event store, whose outbox takes
them to Kafka, and keep the aggregate's index summary. Plus the small interfaces (Protocols)
the use cases are given: the event store, the indicator values, the indicators catalogue and
the org-unit registry. The use cases themselves live beside it, one module per aggregate:
``roadmaps``, ``recommendations`` (recommendations), ``measures`` (measures and their
effectiveness), ``periods``, ``responsibles`` (roster, duties, lifecycles), ``cycle_view``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.indicators import IndicatorValueChanged, ListMembershipChanged
from shkala_contracts.events.plans import Better
from shkala_plans.adapters.event_store import ConcurrencyError
from shkala_plans.domain.model import (
    Aggregate,
    EffectivenessEvaluation,
    Measure,
    NotFound,
    Recommendation,
    Roadmap,
)
from shkala_plans.service_layer.tenancy import OrgRegistry, owner_of
from shkala_runtime.auth import Principal

log = logging.getLogger(__name__)
A = TypeVar("A", bound=Aggregate)


class PlanStore(Protocol):
    """The plans event store with its outbox (``adapters/event_store.py``): an append at a
    stale version raises ``ConcurrencyError`` and appends nothing; every appended event is
    also an outbox entry, in the same write."""

    async def setup(self) -> None: ...

    async def load(self, aggregate_id: str) -> list[DomainEvent]: ...

    async def append(
        self, aggregate_id: str, expected_version: int, events: Sequence[DomainEvent]
    ) -> list[str]: ...

    async def index_put(self, aggregate_id: str, version: int, doc: dict[str, Any]) -> None: ...

    async def index_find(self, query: dict[str, Any]) -> list[dict[str, Any]]: ...


class IndicatorValueStore(Protocol):
    """School indicator values and ШНОР/ШНСУ membership per period, as read from the
    indicators topic (``adapters/indicator_values.py``)."""

    async def setup(self) -> None: ...

    async def record(
        self, events: Sequence[IndicatorValueChanged | ListMembershipChanged]
    ) -> None: ...

    async def values_for(
        self, schools: Iterable[str], periods: Iterable[str]
    ) -> dict[tuple[str, str, str], float]: ...

    async def membership_for(self, schools: Iterable[str]) -> list[tuple[str, str, str, str]]: ...


class IndicatorCatalogue(Protocol):
    """The indicators service's catalogue (``adapters/indicator_catalogue.py``): which way
    each indicator improves. ``None`` for an id the catalogue does not define; raises
    ``CatalogueUnavailable`` when it cannot be asked."""

    async def better(self, indicator_id: str) -> Better | None: ...


class CatalogueUnavailable(Exception):
    """The indicators catalogue could not be read (HTTP 503: try again shortly)."""


class NoCatalogue:
    """A deployment without an indicators catalogue: every lookup is refused as unavailable
    rather than guessed."""

    async def better(self, indicator_id: str) -> Better | None:
        raise CatalogueUnavailable("no indicators catalogue is configured (SHKALA_INDICATORS_URL)")


@dataclass
class Deps:
    store: PlanStore
    values: IndicatorValueStore
    orgs: OrgRegistry
    nudge: Callable[[], None] = lambda: None  # wakes the outbox relay after an append
    catalogue: IndicatorCatalogue = field(default_factory=NoCatalogue)
    today: Callable[[], dt.date] = dt.date.today  # the clock
    # a school's ВПР task deficits (proposals.VprTasks); None: proposals come without them
    vpr_tasks: Any = None


def new_id(kind: str) -> str:
    return f"{kind}:{uuid.uuid4().hex[:16]}"


async def load(deps: Deps, cls: type[A], aggregate_id: str) -> A:
    return cls.fold(aggregate_id, await deps.store.load(aggregate_id))


async def execute(
    deps: Deps,
    cls: type[A],
    aggregate_id: str,
    decide: Callable[[A], Sequence[DomainEvent]],
    expected_version: int | None = None,
    *,
    must_exist: bool = True,
) -> tuple[A, list[DomainEvent]]:
    """Load, decide, append at the loaded version (optimistic concurrency), fold."""
    agg = await load(deps, cls, aggregate_id)
    if must_exist and agg.version == 0:
        raise NotFound(f"{aggregate_id} does not exist")
    if expected_version is not None and expected_version != agg.version:
        raise ConcurrencyError(aggregate_id, expected_version, agg.version)
    events = list(decide(agg))
    if events:
        await deps.store.append(aggregate_id, agg.version, events)
        for e in events:
            agg.apply(e)
        await deps.store.index_put(aggregate_id, agg.version, summary(agg))
        deps.nudge()
    return agg, events


async def load_for(deps: Deps, cls: type[A], aggregate_id: str, who: Principal) -> A:
    """An aggregate that exists (else NotFound) and is within the caller's tenant."""
    agg = await load(deps, cls, aggregate_id)
    if agg.version == 0:
        raise NotFound(f"{aggregate_id} does not exist")
    who.require(owner_of(agg))
    return agg


def summary(agg: Aggregate) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": agg.kind,
        "region": agg.region,
        "municipality": agg.municipality,
        "school": agg.school,
    }
    index_fields = getattr(agg, "index_fields", None)  # aggregates of the newer modules
    if index_fields is not None:
        doc |= index_fields()
    if isinstance(agg, Roadmap):
        doc |= {
            "title": agg.title,
            "directions": sorted({s.direction.value for s in agg.sections.values() if s.direction}),
        }
    elif isinstance(agg, Measure) and agg.taken:
        t = agg.taken
        doc |= {
            "title": t.title,
            "direction": t.direction.value,
            "target_schools": list(t.target_schools),
            "indicator_ids": [i.indicator_id for i in t.indicators],
            "indicators": [
                {"indicator_id": i.indicator_id, "better": i.better.value} for i in t.indicators
            ],
            "baseline_period": t.baseline_period,
            "evaluation_period": t.evaluation_period,
            "status": agg.status.value,
        }
    elif isinstance(agg, Recommendation) and agg.issued:
        doc |= {
            "direction": agg.issued.direction.value,
            "period": agg.issued.period,
            "indicator_id": agg.issued.indicator_id,
            "indicator_value": agg.issued.indicator_value,
            "target_value": agg.issued.target_value,
            "status": agg.status.value,
        }
    elif isinstance(agg, EffectivenessEvaluation) and agg.latest:
        doc |= {"measure_id": agg.latest.measure_id, "verdict": agg.latest.verdict.value}
    return doc
