"""HTTP routes of the proposals of targeted recommendations (предложения адресных рекомендаций):
parse the request, call one use case of ``service_layer.proposals``, render the answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from shkala_contracts.vocabulary import AcademicYear
from shkala_plans.entrypoints.plumbing import Body, DepsDep
from shkala_plans.service_layer import proposals
from shkala_runtime.auth import CurrentPrincipal
from shkala_runtime.params import OrgUnitFilter

router = APIRouter(tags=["proposals"])

ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The proposal's school is outside the caller's tenant or direction"},
    404: {"description": "No such proposal (or the data no longer propose it)"},
    409: {"description": "The proposal was decided meanwhile (version conflict)"},
    422: {"description": "Already decided, or the recommendation's checks refused it"},
    503: {"description": "The indicators catalogue could not be asked; nothing was changed"},
}


@router.get("/proposals")
async def list_proposals(
    who: CurrentPrincipal,
    d: DepsDep,
    period: Annotated[AcademicYear, Query(examples=["2025/26"])],
    municipality_id: OrgUnitFilter = None,
    school_id: OrgUnitFilter = None,
    status: Literal["pending", "accepted", "dismissed"] | None = None,
) -> dict[str, Any]:
    """Every proposal for the period within the caller's tenant: by problem position,
    risk group and level of management, each citing the values that triggered it."""
    return await proposals.list_proposals(
        d, who, period=period, municipality=municipality_id, school=school_id, status=status
    )


@router.get("/proposals/{proposal_id}", responses=ERRORS)
async def get_proposal(proposal_id: str, who: CurrentPrincipal, d: DepsDep) -> dict[str, Any]:
    return await proposals.get_proposal(d, who, proposal_id)


class AcceptIn(Body):
    text: str | None = Field(
        default=None, max_length=20000, description="The recommendation's text, if edited"
    )
    deadline: str | None = Field(
        default=None,
        max_length=2000,
        description="A deadline as the roadmaps write them («до 01.03.2026», «Апрель 2026»)",
    )


class DismissIn(Body):
    reason: str = Field(min_length=1, max_length=4000)


@router.post("/proposals/{proposal_id}/accept", status_code=201, responses=ERRORS)
async def accept_proposal(
    proposal_id: str, who: CurrentPrincipal, d: DepsDep, body: AcceptIn | None = None
) -> dict[str, Any]:
    body = body or AcceptIn()
    decided, rec = await proposals.accept_proposal(
        d, who, proposal_id, text=body.text, deadline=body.deadline
    )
    assert rec.issued is not None
    return {
        **decided,
        "recommendation": {
            "id": rec.id,
            "version": rec.version,
            **rec.issued.model_dump(mode="json"),
        },
    }


@router.post("/proposals/{proposal_id}/dismiss", responses=ERRORS)
async def dismiss_proposal(
    proposal_id: str, body: DismissIn, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    return await proposals.dismiss_proposal(d, who, proposal_id, reason=body.reason)
