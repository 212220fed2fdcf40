"""Use cases of targeted recommendations (адресные рекомендации): a municipality (or the
region) issues one to a school for a direction and period, with the indicator gap it answers;
listing them within the caller's tenant; reading one; their lifecycle (issued → accepted → in
progress → done / withdrawn). A coordinator issues and moves on those of their directions.
"""

from __future__ import annotations

from typing import Any

from shkala_contracts.events.cycle import RecommendationStatus
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.lifecycles import decide_recommendation_status
from shkala_plans.domain.model import NotFound, Recommendation
from shkala_plans.service_layer import tenancy
from shkala_plans.service_layer.duties import require_direction
from shkala_plans.service_layer.indicator_refs import known_indicator
from shkala_plans.service_layer.periods import actor_of
from shkala_plans.service_layer.services import Deps, execute, load, new_id
from shkala_runtime.auth import Principal, Role, authorize

PLANNERS = (Role.REGION, Role.MUNICIPALITY)


async def issue_recommendation(
    deps: Deps,
    who: Principal,
    *,
    region: str,
    municipality: str,
    school: str,
    direction: Direction,
    period: str,
    text: str,
    indicator_id: str | None = None,
    indicator_value: float | None = None,
    target_value: float | None = None,
    recommendation_id: str | None = None,
) -> Recommendation:
    """Issued to a school by its municipality or the region, never by a school; the
    indicator it names must be the catalogue's. ``recommendation_id``: an accepted proposal's
    own (one recommendation per proposal)."""
    await tenancy.authorize_new_plan(
        deps.orgs,
        who,
        region=region,
        municipality=municipality,
        school=school,
        roles=PLANNERS,
        what="a recommendation (issued to schools, not by them)",
    )
    require_direction(who, direction, "issue a recommendation")
    if indicator_id is not None:
        await known_indicator(deps.catalogue, indicator_id, "body.indicator_id")
    rec, _ = await execute(
        deps,
        Recommendation,
        recommendation_id or new_id("recommendation"),
        lambda a: a.decide_issue(
            region=region,
            municipality=municipality,
            school=school,
            direction=direction,
            period=period,
            indicator_id=indicator_id,
            indicator_value=indicator_value,
            target_value=target_value,
            text=text,
        ),
        must_exist=False,
    )
    return rec


async def list_recommendations(
    deps: Deps, who: Principal, *, school: str | None = None
) -> list[dict[str, Any]]:
    query = tenancy.scoped_query(who, Recommendation.kind, school=school)
    return [
        {"id": x["_id"], **{k: x.get(k) for k in ("school", "direction", "period", "indicator_id")}}
        for x in await deps.store.index_find(query)
    ]


async def get_recommendation(deps: Deps, who: Principal, recommendation_id: str) -> Recommendation:
    rec = await load(deps, Recommendation, recommendation_id)
    if rec.issued is None:
        raise NotFound(f"{recommendation_id} does not exist")
    authorize(who, [tenancy.owner_of(rec)], action="see")
    return rec


async def change_recommendation_status(
    deps: Deps,
    who: Principal,
    recommendation_id: str,
    status: RecommendationStatus,
    report: str | None = None,
    expected_version: int | None = None,
) -> Recommendation:
    """Its school reports on it; its municipality (a coordinator: of its direction) or the
    region manages it (the lifecycle's rules: ``domain.lifecycles``)."""
    rec = await load(deps, Recommendation, recommendation_id)
    if rec.issued is None:
        raise NotFound(f"{recommendation_id} does not exist")
    authorize(who, [tenancy.owner_of(rec)], action="change")
    require_direction(who, rec.issued.direction, "move this recommendation on")
    agg, _ = await execute(
        deps,
        Recommendation,
        recommendation_id,
        lambda r: decide_recommendation_status(r, actor_of(who), status, report),
        expected_version,
    )
    return agg
