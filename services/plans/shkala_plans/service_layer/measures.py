"""Use cases of measures (меры, управленческие решения) and their effectiveness (анализ
эффективности принятых мер): take a measure on target schools with linked indicators (each
improving in the direction the indicators catalogue gives), read it with its latest
evaluation, evaluate it on request, evaluate every measure the indicators topic touches, and
move it on (planned → running → finished → evaluated). A coordinator takes, evaluates and
moves on the measures of their directions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar

from shkala_contracts.events.cycle import MeasureStatus
from shkala_contracts.events.indicators import IndicatorValueChanged, ListMembershipChanged
from shkala_contracts.events.plans import Better
from shkala_contracts.vocabulary import Direction
from shkala_plans.adapters.event_store import ConcurrencyError
from shkala_plans.adapters.indicator_values import listed_function
from shkala_plans.domain.effectiveness import evaluate
from shkala_plans.domain.lifecycles import decide_measure_status
from shkala_plans.domain.model import (
    Aggregate,
    EffectivenessEvaluation,
    Measure,
    NotFound,
    Recommendation,
    Roadmap,
)
from shkala_plans.service_layer import tenancy
from shkala_plans.service_layer.duties import require_direction
from shkala_plans.service_layer.indicator_refs import linked_indicators
from shkala_plans.service_layer.periods import actor_of
from shkala_plans.service_layer.recommendations import PLANNERS
from shkala_plans.service_layer.services import Deps, execute, load, load_for, new_id
from shkala_runtime.auth import Forbidden, Principal, authorize

A = TypeVar("A", bound=Aggregate)


class NotEvaluable(Exception):
    """No target school has values for both periods yet (HTTP 409)."""


async def _named(deps: Deps, cls: type[A], aggregate_id: str, who: Principal) -> A:
    """A plan object named in a request body: it exists (else 422) and the caller reaches it."""
    try:
        return await load_for(deps, cls, aggregate_id, who)
    except NotFound as exc:
        raise tenancy.UnknownUnit(str(exc)) from exc


async def take_measure(
    deps: Deps,
    who: Principal,
    *,
    region: str,
    municipality: str,
    title: str,
    direction: Direction,
    target_schools: tuple[str, ...],
    indicators: Sequence[tuple[str, Better | None]],
    baseline_period: str,
    evaluation_period: str,
    recommendation_ids: tuple[str, ...] = (),
    roadmap_row: str | None = None,
) -> Measure:
    """A measure of the municipality on its schools, answering its recommendations and
    roadmap rows. ``indicators``: (indicator id, the better direction the caller states or
    None); the catalogue decides the direction. Evaluated at once if the values are there
    (a measure taken after its evaluation period closed)."""
    owner = await tenancy.authorize_new_plan(
        deps.orgs,
        who,
        region=region,
        municipality=municipality,
        schools=target_schools,
        roles=PLANNERS,
        what="a measure",
    )
    require_direction(who, direction, "take a measure")
    for rec_id in recommendation_ids:
        rec = await _named(deps, Recommendation, rec_id, who)
        tenancy.require_within(owner, [tenancy.owner_of(rec)], "measure")
    if roadmap_row:
        roadmap = await _named(deps, Roadmap, roadmap_row.split("/", 1)[0], who)
        tenancy.require_within(owner, [tenancy.owner_of(roadmap)], "measure")
    linked = await linked_indicators(deps.catalogue, indicators)
    m, _ = await execute(
        deps,
        Measure,
        new_id("measure"),
        lambda a: a.decide_take(
            region=region,
            municipality=municipality,
            title=title,
            direction=direction,
            target_schools=target_schools,
            indicators=linked,
            baseline_period=baseline_period,
            evaluation_period=evaluation_period,
            recommendation_ids=recommendation_ids,
            roadmap_row=roadmap_row,
        ),
        must_exist=False,
    )
    await evaluate_measure(deps, m.id, trigger="indicator_events", require_complete=True)
    return m


async def load_measure(deps: Deps, who: Principal, measure_id: str) -> Measure:
    """A measure the caller may act on, with every target school within its reach."""
    m = await load_for(deps, Measure, measure_id, who)
    assert m.taken is not None
    await tenancy.authorize_reach(deps.orgs, who, m.taken.target_schools)
    return m


async def get_measure(
    deps: Deps, who: Principal, measure_id: str
) -> tuple[Measure, EffectivenessEvaluation]:
    m = await load_measure(deps, who, measure_id)
    ev = await load(deps, EffectivenessEvaluation, EffectivenessEvaluation.id_for(measure_id))
    return m, ev


async def measures_in_full(
    deps: Deps, who: Principal, *, municipality: str | None = None
) -> list[tuple[Measure, EffectivenessEvaluation]]:
    """Every measure in the caller's tenant (a municipality's, when asked) with its
    evaluation, as ``get_measure`` gives each one — one registry lookup for all their target
    schools (a page of measures asked for each in turn: ~30 ms a measure). A measure naming a
    school beyond the caller's reach is left out, as ``get_measure`` refuses it."""
    listed = await list_measures(deps, who, municipality=municipality)
    loaded = await asyncio.gather(
        *(
            asyncio.gather(
                load(deps, Measure, x["id"]),
                load(deps, EffectivenessEvaluation, EffectivenessEvaluation.id_for(x["id"])),
            )
            for x in listed
        )
    )
    schools = sorted({s for m, _ in loaded if m.taken for s in m.taken.target_schools})
    known = await deps.orgs.schools(schools)
    out: list[tuple[Measure, EffectivenessEvaluation]] = []
    for m, ev in loaded:
        if m.taken is None:  # listed, then gone (an index is rebuildable, not the truth)
            continue
        try:
            who.require(tenancy.owner_of(m))
            tenancy.check_reach(who, m.taken.target_schools, known)
        except Forbidden:
            continue
        out.append((m, ev))
    return out


async def evaluate_on_request(
    deps: Deps, who: Principal, measure_id: str
) -> EffectivenessEvaluation:
    """Evaluate with what is there (not every pair needs both values); NotEvaluable when no
    pair has both yet."""
    m = await load_measure(deps, who, measure_id)
    assert m.taken is not None
    require_direction(who, m.taken.direction, "evaluate this measure")
    ev = await evaluate_measure(deps, measure_id, trigger="request", require_complete=False)
    if ev is None or ev.latest is None:
        raise NotEvaluable("no target school has values for both periods yet")
    return ev


async def evaluate_measure(
    deps: Deps, measure_id: str, *, trigger: str, require_complete: bool
) -> EffectivenessEvaluation | None:
    """Record the measure's effectiveness; a new event only when the figures change."""
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


async def list_measures(
    deps: Deps, who: Principal, *, municipality: str | None = None
) -> list[dict[str, Any]]:
    """The measures in the caller's tenant (a municipality's, when asked): their index
    entries — id, title, direction, target schools, periods, status."""
    query = tenancy.scoped_query(who, Measure.kind, municipality=municipality)
    fields: tuple[str, ...] = ("municipality", "title", "direction", "target_schools")
    fields += ("indicator_ids", "baseline_period", "evaluation_period", "status")
    return sorted(
        (
            {"id": x["_id"], **{k: x.get(k) for k in fields}}
            for x in await deps.store.index_find(query)
        ),
        key=lambda m: m["id"],
    )


async def change_measure_status(
    deps: Deps,
    who: Principal,
    measure_id: str,
    status: MeasureStatus,
    report: str | None = None,
    expected_version: int | None = None,
) -> Measure:
    """Its municipality (a coordinator: of its direction) or the region moves it on;
    ``evaluated`` needs an evaluation on record."""
    measure = await load(deps, Measure, measure_id)
    if measure.taken is None:
        raise NotFound(f"{measure_id} does not exist")
    authorize(who, [tenancy.owner_of(measure)], action="change")
    require_direction(who, measure.taken.direction, "move this measure on")
    evaluation = await load(
        deps, EffectivenessEvaluation, EffectivenessEvaluation.id_for(measure_id)
    )
    agg, _ = await execute(
        deps,
        Measure,
        measure_id,
        lambda m: decide_measure_status(
            m, actor_of(who), status, report, evaluated=evaluation.latest is not None
        ),
        expected_version,
    )
    return agg
