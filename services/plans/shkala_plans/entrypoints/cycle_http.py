"""HTTP routes of the roster (coordinators, executors: ``service_layer.responsibles``) and of
the cycle view per direction (``service_layer.cycle_view``) and Ishimbay's technological card.
What a coordinator or executor may change is their use cases' (``service_layer.duties``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from shkala_contracts.events.cycle import Duty
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.cycle_card import CARD_ID
from shkala_plans.domain.roster import Roster
from shkala_plans.service_layer import cycle_view, responsibles
from shkala_plans.service_layer.services import Deps
from shkala_runtime.auth import CurrentPrincipal

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
