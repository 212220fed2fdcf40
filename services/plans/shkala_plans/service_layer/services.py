"""Use cases of the plans service. Dependencies come in as arguments (store, values, relay)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.indicators import IndicatorValueChanged, ListMembershipChanged
from shkala_plans.adapters.event_store import ConcurrencyError, EventStore
from shkala_plans.adapters.indicator_values import IndicatorValues, listed_function
from shkala_plans.domain.effectiveness import evaluate
from shkala_plans.domain.model import (
    Aggregate,
    EffectivenessEvaluation,
    Measure,
    NotFound,
    Recommendation,
    Roadmap,
    RowSpec,
    SectionSpec,
)
from shkala_plans.domain.templates import Template
from shkala_plans.service_layer.tenancy import OrgRegistry

log = logging.getLogger(__name__)
A = TypeVar("A", bound=Aggregate)


@dataclass
class Deps:
    store: EventStore
    values: IndicatorValues
    orgs: OrgRegistry
    nudge: Callable[[], None] = lambda: None


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
            "baseline_period": t.baseline_period,
            "evaluation_period": t.evaluation_period,
            "status": agg.status.value,
        }
    elif isinstance(agg, Recommendation) and agg.issued:
        doc |= {
            "direction": agg.issued.direction.value,
            "period": agg.issued.period,
            "indicator_id": agg.issued.indicator_id,
            "status": agg.status.value,
        }
    elif isinstance(agg, EffectivenessEvaluation) and agg.latest:
        doc |= {"measure_id": agg.latest.measure_id, "verdict": agg.latest.verdict.value}
    return doc


# --------------------------------------------------------------------------- roadmaps


def template_specs(template: Template) -> tuple[list[SectionSpec], list[RowSpec]]:
    sections = [
        SectionSpec(s.title, s.direction, s.coordinator, s.executors, section_id=s.key)
        for s in template.sections
    ]
    rows = [
        RowSpec(
            activity=r.activity or "(без названия)",
            deadline=r.deadline,
            section_id=r.section_key,
            number=r.number,
            responsible=r.responsible,
            expected_result=r.expected_result,
        )
        for r in template.rows
    ]
    return sections, rows


async def create_roadmap(
    deps: Deps,
    *,
    region: str,
    municipality: str,
    school: str | None,
    title: str,
    starts_on: dt.date,
    from_year: int | None = None,
    to_year: int | None = None,
    template: Template | None = None,
) -> Roadmap:
    sections, rows = template_specs(template) if template else ([], [])
    roadmap_id = new_id("roadmap")
    agg, _ = await execute(
        deps,
        Roadmap,
        roadmap_id,
        lambda r: r.decide_create(
            region=region,
            municipality=municipality,
            school=school,
            title=title,
            starts_on=starts_on,
            from_year=from_year or (template.from_year if template else None),
            to_year=to_year or (template.to_year if template else None),
            template_id=template.id if template else None,
            sections=sections,
            rows=rows,
        ),
        must_exist=False,
    )
    return agg


async def run_scheduler(deps: Deps, today: dt.date, lead_days: int = 14) -> list[DomainEvent]:
    """Row-due and row-overdue events for every roadmap (idempotent: each once)."""
    out: list[DomainEvent] = []
    for doc in await deps.store.index_find({"kind": Roadmap.kind}):
        for _attempt in range(3):
            try:
                _, events = await execute(
                    deps, Roadmap, doc["_id"], lambda r: r.decide_check_deadlines(today, lead_days)
                )
                out.extend(events)
                break
            except ConcurrencyError:  # an edit got in first: decide again on the new state
                continue
    return out


# --------------------------------------------------------------------------- effectiveness


async def evaluate_measure(
    deps: Deps, measure_id: str, *, trigger: str, require_complete: bool
) -> EffectivenessEvaluation | None:
    measure = await load(deps, Measure, measure_id)
    if measure.taken is None:
        raise NotFound(f"{measure_id} does not exist")
    t = measure.taken
    values = await deps.values.values_for(
        t.target_schools, (t.baseline_period, t.evaluation_period)
    )
    listed = listed_function(await deps.values.membership_for(t.target_schools))
    result, complete = evaluate(t, values, listed, trigger=trigger)
    if result is None or (require_complete and not complete):
        return None
    evaluation_id = EffectivenessEvaluation.id_for(measure_id)
    for _attempt in range(3):
        try:
            agg, _ = await execute(
                deps,
                EffectivenessEvaluation,
                evaluation_id,
                lambda ev: ev.decide_record(measure, result),
                must_exist=False,
            )
            return agg
        except ConcurrencyError:
            continue
    raise ConcurrencyError(evaluation_id, -1)


async def on_indicator_events(
    deps: Deps, events: Sequence[IndicatorValueChanged | ListMembershipChanged]
) -> list[str]:
    """Keep the values, then evaluate every measure whose evaluation period they touch.
    Returns the measures evaluated."""
    relevant = [e for e in events if isinstance(e, IndicatorValueChanged | ListMembershipChanged)]
    if not relevant:
        return []
    await deps.values.record(relevant)
    periods = sorted({e.period for e in relevant})
    schools = sorted({e.school_id for e in relevant if e.school_id})
    measures = await deps.store.index_find(
        {
            "kind": Measure.kind,
            "$or": [{"evaluation_period": {"$in": periods}}, {"baseline_period": {"$in": periods}}],
            "target_schools": {"$in": schools},
        }
    )
    done = []
    for doc in measures:
        if await evaluate_measure(
            deps, doc["_id"], trigger="indicator_events", require_complete=True
        ):
            done.append(doc["_id"])
    return done
