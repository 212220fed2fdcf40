"""HTTP routes of the roster (coordinators, executors) and of the recommendation and measure
lifecycles, plus ``duty_guard``: the check that narrows what a coordinator or executor token
may change through the roadmap, recommendation and measure routes of
``entrypoints.roadmaps_http`` and ``entrypoints.recommendations_http``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from shkala_contracts.events.cycle import Duty, MeasureStatus, RecommendationStatus
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.cycle_card import CARD_ID
from shkala_plans.domain.model import Measure, NotFound, Recommendation
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.roster import Roster
from shkala_plans.service_layer import cycle_view, recommendations, responsibles
from shkala_plans.service_layer.services import Deps, load
from shkala_runtime.auth import CurrentPrincipal, Role

# an org-unit id as events carry it: checked here (422), not first where the event is built
MunicipalityId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]

router = APIRouter(tags=["coordinators and lifecycles"])


def _deps(request: Request) -> Deps:
    return request.app.state.plans_deps


DepsDep = Annotated[Deps, Depends(_deps)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- roster


class ResponsibleIn(Body):
    person_id: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.@\-]+$")
    duty: Duty
    directions: tuple[Direction, ...] = Field(min_length=1)
    position: str | None = Field(default=None, max_length=400)


def roster_view(r: Roster, municipality: str) -> dict[str, Any]:
    return {
        "municipality_id": municipality,
        "version": r.version,
        "people": [
            {
                "person_id": p.person_id,
                "ref": f"person:{p.person_id}",
                "duty": p.duty.value,
                "directions": [d.value for d in p.directions],
                "position": p.position,
            }
            for p in sorted(r.people.values(), key=lambda p: p.person_id)
        ],
    }


@router.get("/roster/{municipality_id}", summary="Coordinators and executors per direction")
async def get_roster(
    municipality_id: MunicipalityId, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    return roster_view(await responsibles.roster_of(d, who, municipality_id), municipality_id)


@router.put("/roster/{municipality_id}/people", summary="Appoint (or re-appoint) a person")
async def assign(
    municipality_id: MunicipalityId, body: ResponsibleIn, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    r = await responsibles.assign(
        d,
        who,
        municipality=municipality_id,
        person_id=body.person_id,
        duty=body.duty,
        directions=body.directions,
        position=body.position,
    )
    return roster_view(r, municipality_id)


@router.delete("/roster/{municipality_id}/people/{person_id}", summary="Remove a person")
async def remove(
    municipality_id: MunicipalityId, person_id: str, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    r = await responsibles.remove(d, who, municipality=municipality_id, person_id=person_id)
    return roster_view(r, municipality_id)


# --------------------------------------------------------------------------- lifecycles


class RecommendationStatusIn(Body):
    expected_version: int | None = Field(default=None, ge=1)
    status: RecommendationStatus
    report: str | None = Field(default=None, max_length=20000)


class MeasureStatusIn(Body):
    expected_version: int | None = Field(default=None, ge=1)
    status: MeasureStatus
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
async def recommendation_status(
    recommendation_id: str, body: RecommendationStatusIn, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    r = await responsibles.change_recommendation_status(
        d, who, recommendation_id, body.status, body.report, body.expected_version
    )
    return recommendation_view(r)


@router.post("/measures/{measure_id}/status")
async def measure_status(
    measure_id: str, body: MeasureStatusIn, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    m = await responsibles.change_measure_status(
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


# --------------------------------------------------------------------------- the guard

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


async def duty_guard(request: Request, who: CurrentPrincipal) -> None:
    """Runs before every route of ``roadmaps_http`` and ``recommendations_http``. For a
    coordinator or executor: deny by default, allow the changes of their directions
    (coordinator) or the reports on rows naming them (executor). (That a row's ``person:``
    responsibles are on the roster is the row use cases' own check.)"""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    method = request.method
    params = request.path_params
    d: Deps = request.app.state.plans_deps
    body: dict[str, Any] = {}
    if method not in READ_METHODS:
        try:
            parsed = await request.json()
            body = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            body = {}
    if who.duty is None or method in READ_METHODS or path == "/deadlines/parse":
        return
    what = f"{method} {path}"
    if path == "/roadmaps" and method == "POST":
        if who.duty is not Role.COORDINATOR:
            raise NotAllowed("an executor reports on their rows; roadmaps are made by others")
        return
    if path == "/roadmaps/{roadmap_id}/sections":
        responsibles.require_direction(who, body.get("direction"), "add this section")
        await responsibles.check_roadmap_change(d, who, params["roadmap_id"])
        return
    if path == "/roadmaps/{roadmap_id}/rows":
        await responsibles.check_roadmap_change(
            d, who, params["roadmap_id"], section_id=body.get("section_id") or ""
        )
        return
    if path == "/roadmaps/{roadmap_id}/rows/{row_id}":
        await responsibles.check_roadmap_change(
            d, who, params["roadmap_id"], row_id=params["row_id"]
        )
        return
    if path == "/roadmaps/{roadmap_id}/rows/{row_id}/status":
        if who.duty is Role.EXECUTOR and body.get("status") not in ("in_progress", "done"):
            raise NotAllowed("an executor reports a row in progress or done; others cancel it")
        await responsibles.check_roadmap_change(
            d, who, params["roadmap_id"], row_id=params["row_id"], report=True
        )
        return
    if path in ("/recommendations", "/measures") and method == "POST":
        responsibles.require_direction(who, body.get("direction"), f"use {path} there")
        return
    if path == "/measures/{measure_id}/evaluate":
        m = await load(d, Measure, params["measure_id"])
        if m.taken is None:
            raise NotFound(f"{params['measure_id']} does not exist")
        responsibles.require_direction(who, m.taken.direction, "evaluate this measure")
        return
    raise NotAllowed(f"a {who.duty.value} token cannot call {what}")


# --------------------------------------------------------------------------- cycle view


@router.get(
    "/cycle/{municipality_id}/{direction}/steps",
    summary="The six steps of a direction's cycle for a municipality (technological card)",
)
async def cycle_steps(
    municipality_id: str,
    direction: Direction,
    request: Request,
    who: CurrentPrincipal,
    d: DepsDep,
    period: str | None = None,
) -> dict[str, Any]:
    return await cycle_view.direction_cycle(
        d,
        who,
        municipality=municipality_id,
        direction=direction,
        period=period,
        card=request.app.state.plans_cycle_card,
    )


@router.get(
    "/cycle/{municipality_id}/{direction}/schools/{school_id}",
    summary="The same six steps for one school",
)
async def school_cycle_steps(
    municipality_id: str,
    direction: Direction,
    school_id: str,
    request: Request,
    who: CurrentPrincipal,
    d: DepsDep,
    period: str | None = None,
) -> dict[str, Any]:
    return await cycle_view.direction_cycle(
        d,
        who,
        municipality=municipality_id,
        direction=direction,
        school=school_id,
        period=period,
        card=request.app.state.plans_cycle_card,
    )


@router.get("/cycle-card", summary="Ishimbay's technological card of the management cycle")
async def get_cycle_card(request: Request, who: CurrentPrincipal) -> dict[str, Any]:
    return {
        "template_id": CARD_ID,
        "steps": [asdict(s) for s in request.app.state.plans_cycle_card],
    }
