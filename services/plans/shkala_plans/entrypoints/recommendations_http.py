"""HTTP routes of recommendations, measures, their lifecycles and effectiveness, and the short
summary of a direction's management cycle: parse the request, call one use case of
``service_layer.recommendations`` / ``measures`` / ``cycle_view``, render the answer.
Coordinator tokens write only through the ``duty_aware`` routes (their use cases check the
direction).

A recommendation's or measure's indicator must be in the indicators catalogue (else 422
naming the field and the value); the direction in which it improves is the catalogue's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from shkala_contracts.events.cycle import MeasureStatus, RecommendationStatus
from shkala_contracts.events.plans import Better
from shkala_contracts.vocabulary import AcademicYear, Direction, OrgId
from shkala_plans.domain.model import EffectivenessEvaluation, Measure, Recommendation
from shkala_plans.entrypoints.plumbing import Body, DepsDep, duty_aware, region_of
from shkala_plans.service_layer import cycle_view, measures, recommendations, support
from shkala_runtime.auth import CurrentPrincipal
from shkala_runtime.params import OrgUnitFilter

router = APIRouter(tags=["plans"])

CATALOGUE_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"description": "The indicators catalogue could not be asked; nothing was changed"}
}


# --------------------------------------------------------------------------- recommendations


class RecommendationIn(Body):
    municipality_id: OrgId
    school_id: OrgId
    direction: Direction
    period: AcademicYear
    indicator_id: str | None = Field(
        default=None, description="An indicator of the indicators catalogue (its id)"
    )
    indicator_value: float | None = None
    target_value: float | None = None
    text: str = Field(min_length=1, max_length=20000)


@router.post("/recommendations", status_code=201, responses=CATALOGUE_DOWN)
@duty_aware
async def issue_recommendation(
    body: RecommendationIn, request: Request, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    rec = await recommendations.issue_recommendation(
        d,
        who,
        region=region_of(request),
        municipality=body.municipality_id,
        school=body.school_id,
        direction=body.direction,
        period=body.period,
        text=body.text,
        indicator_id=body.indicator_id,
        indicator_value=body.indicator_value,
        target_value=body.target_value,
    )
    assert rec.issued is not None
    return {"id": rec.id, "version": rec.version, **rec.issued.model_dump(mode="json")}


@router.get("/recommendations")
async def list_recommendations(
    who: CurrentPrincipal, d: DepsDep, school_id: OrgUnitFilter = None
) -> list[dict[str, Any]]:
    return await recommendations.list_recommendations(d, who, school=school_id)


class RecommendationStatusIn(Body):
    expected_version: int | None = Field(default=None, ge=1)
    status: RecommendationStatus
    report: str | None = Field(default=None, max_length=20000)


def recommendation_view(r: Recommendation) -> dict[str, Any]:
    assert r.issued is not None
    return {
        "id": r.id,
        "version": r.version,
        **r.issued.model_dump(mode="json"),
        "status": r.status.value,
        "reports": r.reports,
    }


@router.get("/recommendations/{recommendation_id}")
async def get_recommendation(
    recommendation_id: str, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    return recommendation_view(await recommendations.get_recommendation(d, who, recommendation_id))


@router.post("/recommendations/{recommendation_id}/status")
@duty_aware
async def recommendation_status(
    recommendation_id: str, body: RecommendationStatusIn, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    r = await recommendations.change_recommendation_status(
        d, who, recommendation_id, body.status, body.report, body.expected_version
    )
    return recommendation_view(r)


# --------------------------------------------------------------------------- measures


class MeasureIndicatorIn(Body):
    indicator_id: str = Field(
        min_length=1, max_length=80, description="An indicator of the indicators catalogue"
    )
    better: Better | None = Field(
        default=None,
        description="Which way it improves: the catalogue's. Leave it out; if given it must"
        " agree with the catalogue",
    )


class MeasureIn(Body):
    municipality_id: OrgId
    title: str = Field(min_length=1, max_length=4000)
    direction: Direction
    target_schools: tuple[OrgId, ...] = Field(min_length=1)
    indicators: tuple[MeasureIndicatorIn, ...] = Field(min_length=1)
    baseline_period: AcademicYear
    evaluation_period: AcademicYear
    recommendation_ids: tuple[str, ...] = ()
    roadmap_row: str | None = None


@router.post("/measures", status_code=201, responses=CATALOGUE_DOWN)
@duty_aware
async def take_measure(
    body: MeasureIn, request: Request, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    m = await measures.take_measure(
        d,
        who,
        region=region_of(request),
        municipality=body.municipality_id,
        title=body.title,
        direction=body.direction,
        target_schools=body.target_schools,
        indicators=[(i.indicator_id, i.better) for i in body.indicators],
        baseline_period=body.baseline_period,
        evaluation_period=body.evaluation_period,
        recommendation_ids=body.recommendation_ids,
        roadmap_row=body.roadmap_row,
    )
    assert m.taken is not None
    return {"id": m.id, "version": m.version, **m.taken.model_dump(mode="json")}


@router.get("/measures", summary="The measures in the caller's tenant (a municipality's)")
async def list_measures(
    who: CurrentPrincipal,
    d: DepsDep,
    municipality_id: OrgUnitFilter = None,
    full: Annotated[
        bool,
        Query(
            description="Each measure whole with its evaluation, as `GET /measures/{id}` "
            "gives it (measures naming a school beyond the caller's reach left out)"
        ),
    ] = False,
) -> list[dict[str, Any]]:
    if full:
        return [
            _measure(m, ev)
            for m, ev in await measures.measures_in_full(d, who, municipality=municipality_id)
        ]
    return await measures.list_measures(d, who, municipality=municipality_id)


@router.get("/measures/{measure_id}")
async def get_measure(measure_id: str, who: CurrentPrincipal, d: DepsDep) -> dict[str, Any]:
    return _measure(*await measures.get_measure(d, who, measure_id))


def _measure(m: Measure, ev: EffectivenessEvaluation) -> dict[str, Any]:
    assert m.taken is not None
    return {
        "id": m.id,
        "version": m.version,
        **m.taken.model_dump(mode="json"),
        "evaluation": ev.latest.model_dump(mode="json") if ev.latest else None,
    }


@router.post("/measures/{measure_id}/evaluate")
@duty_aware
async def evaluate_measure(measure_id: str, who: CurrentPrincipal, d: DepsDep) -> dict[str, Any]:
    ev = await measures.evaluate_on_request(d, who, measure_id)
    assert ev.latest is not None
    return ev.latest.model_dump(mode="json")


class MeasureStatusIn(Body):
    expected_version: int | None = Field(default=None, ge=1)
    status: MeasureStatus
    report: str | None = Field(default=None, max_length=20000)


@router.post("/measures/{measure_id}/status")
@duty_aware
async def measure_status(
    measure_id: str, body: MeasureStatusIn, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    m = await measures.change_measure_status(
        d, who, measure_id, body.status, body.report, body.expected_version
    )
    assert m.taken is not None
    return {
        "id": m.id,
        "version": m.version,
        "title": m.taken.title,
        "status": m.status.value,
        "reports": m.reports,
    }


@router.get(
    "/support-indicators",
    summary="Seed 002's support indicators plans counts: ШНОР/ШНСУ schools given a "
    "recommendation; staff-shortage measures and the understaffed schools they reach",
)
async def support_indicators(
    who: CurrentPrincipal,
    d: DepsDep,
    period: AcademicYear,
    municipality_id: OrgUnitFilter = None,
) -> dict[str, Any]:
    """The share of the schools on ШНОР or ШНСУ in the period given a targeted
    recommendation for it, and the staff-shortage measures of the period with the share of
    understaffed schools they reach, with the schools counted (the network-pair and
    list-dynamics shares are the indicators service's ``GET /support-indicators``)."""
    return await support.support_indicators(d, who, period, municipality_id)


# --------------------------------------------------------------------------- management cycle


@router.get("/cycle/{municipality_id}/{direction}")
async def management_cycle(
    municipality_id: str,
    direction: Direction,
    request: Request,
    who: CurrentPrincipal,
    d: DepsDep,
    period: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """The six steps of seed 002's technological map for one direction of one municipality:
    coordinator and executors, goals (roadmap rows), indicators and their monitoring,
    recommendations, measures and their effectiveness."""
    return await cycle_view.management_cycle(
        d,
        who,
        region=region_of(request),
        municipality=municipality_id,
        direction=direction,
        period=period,
    )
