"""HTTP routes of templates, deadlines, roadmaps and the deadline scheduler: parse the request,
call one use case of ``service_layer.roadmaps``, render the answer.

Every route authenticates (bearer JWT) and checks the tenant: a school sees only its own
roadmaps, a municipality its own and its schools', the region all. Coordinator and executor
tokens write only through the ``duty_aware`` routes (their use cases check the duty). Edits carry
``expected_version``; a stale one is answered 409 (optimistic concurrency).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from shkala_contracts.events.plans import RowStatus
from shkala_contracts.vocabulary import Direction, OrgId
from shkala_plans.adapters.xlsx import roadmap_xlsx
from shkala_plans.domain.deadlines import occurrences, parse_deadline
from shkala_plans.domain.model import Roadmap, RowSpec, SectionSpec
from shkala_plans.entrypoints.plumbing import (
    Body,
    DepsDep,
    duty_aware,
    region_of,
    templates,
    versioned,
)
from shkala_plans.service_layer import roadmaps
from shkala_runtime.auth import CurrentPrincipal
from shkala_runtime.params import OrgUnitFilter
from shkala_runtime.problems import Problem

router = APIRouter(tags=["plans"])


# --------------------------------------------------------------------------- templates


@router.get("/templates")
async def list_templates(request: Request, who: CurrentPrincipal) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "seed": t.seed,
            "title": t.title,
            "sections": len(t.sections),
            "rows": len(t.rows),
            "structured_deadlines": t.structured,
            "needs_review": len(t.rows) - t.structured,
        }
        for t in templates(request).values()
    ]


@router.get("/templates/{template_id}")
async def get_template(template_id: str, request: Request, who: CurrentPrincipal) -> Any:
    t = templates(request).get(template_id)
    if t is None:
        raise Problem(404, "Not found", f"no template {template_id}", type="not-found")
    return {
        "id": t.id,
        "title": t.title,
        "from_year": t.from_year,
        "to_year": t.to_year,
        "sections": [asdict(s) for s in t.sections],
        "rows": [{**asdict(r), "deadline": r.deadline.model_dump(mode="json")} for r in t.rows],
    }


class ParseIn(Body):
    text: str = Field(max_length=2000)


@router.post("/deadlines/parse")
@duty_aware
async def parse(body: ParseIn, who: CurrentPrincipal, d: DepsDep) -> dict[str, Any]:
    parsed = parse_deadline(body.text)
    today = d.today()
    return {
        **parsed.model_dump(mode="json"),
        "next_due": [
            x.isoformat() for x in occurrences(parsed, today, today.replace(year=today.year + 1))
        ][:12],
    }


# --------------------------------------------------------------------------- roadmaps


class RoadmapIn(Body):
    municipality_id: OrgId
    school_id: OrgId | None = None
    title: str = Field(min_length=1, max_length=2000)
    template_id: str | None = None
    from_year: int | None = Field(default=None, ge=2000, le=2100)
    to_year: int | None = Field(default=None, ge=2000, le=2100)
    starts_on: dt.date | None = None


def roadmap_view(r: Roadmap) -> dict[str, Any]:
    return {
        "id": r.id,
        "version": r.version,
        "title": r.title,
        "region_id": r.region,
        "municipality_id": r.municipality,
        "school_id": r.school,
        "template_id": r.template_id,
        "from_year": r.from_year,
        "to_year": r.to_year,
        "starts_on": r.starts_on,
        "sections": [asdict(s) for s in r.sections.values()],
        "rows": [
            {
                "row_id": x.row_id,
                "section_id": x.section_id,
                "number": x.number,
                "activity": x.activity,
                "deadline": x.deadline.model_dump(mode="json"),
                "responsible": x.responsible,
                "expected_result": x.expected_result,
                "indicator_ids": x.indicator_ids,
                "target_schools": x.target_schools,
                "status": x.status.value,
                "reports": x.reports,
                "evidence": x.evidence,
                "overdue": sorted(x.overdue_signalled)[-1:] if not x.closed else [],
            }
            for x in r.rows.values()
        ],
    }


def _answer(response: Response, r: Roadmap) -> dict[str, Any]:
    versioned(response, r)
    return roadmap_view(r)


@router.post("/roadmaps", status_code=201)
@duty_aware
async def create_roadmap(
    body: RoadmapIn, request: Request, response: Response, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    r = await roadmaps.create_roadmap(
        d,
        who,
        region=region_of(request),
        municipality=body.municipality_id,
        school=body.school_id,
        title=body.title,
        starts_on=body.starts_on,
        from_year=body.from_year,
        to_year=body.to_year,
        template_id=body.template_id,
        templates=templates(request),
    )
    response.headers["Location"] = f"/roadmaps/{r.id}"
    return _answer(response, r)


@router.get("/roadmaps")
async def list_roadmaps(
    who: CurrentPrincipal, d: DepsDep, municipality_id: OrgUnitFilter = None
) -> list[dict[str, Any]]:
    return await roadmaps.list_roadmaps(d, who, municipality=municipality_id)


@router.get("/roadmaps/{roadmap_id}")
async def get_roadmap(
    roadmap_id: str, response: Response, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    return _answer(response, await roadmaps.get_roadmap(d, who, roadmap_id))


class SectionIn(Body):
    expected_version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=4000)
    direction: Direction | None = None
    coordinator: str | None = None
    executors: tuple[str, ...] = ()


class RowIn(Body):
    expected_version: int = Field(ge=1)
    activity: str = Field(min_length=1, max_length=20000)
    deadline: str = Field(
        default="", max_length=2000, description="As written, e.g. до 01.09 ежегодно"
    )
    section_id: str | None = None
    number: str | None = None
    responsible: tuple[str, ...] = ()
    expected_result: str | None = None
    indicator_ids: tuple[str, ...] = ()
    target_schools: tuple[OrgId, ...] = ()


class RowPatch(Body):
    expected_version: int = Field(ge=1)
    activity: str | None = None
    deadline: str | None = None
    responsible: tuple[str, ...] | None = None
    expected_result: str | None = None
    indicator_ids: tuple[str, ...] | None = None
    target_schools: tuple[OrgId, ...] | None = None


class StatusIn(Body):
    expected_version: int = Field(ge=1)
    status: RowStatus
    report: str | None = Field(default=None, max_length=20000)
    evidence: tuple[str, ...] = ()
    occurrence: dt.date | None = None


@router.post("/roadmaps/{roadmap_id}/sections")
@duty_aware
async def add_section(
    roadmap_id: str, body: SectionIn, response: Response, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    spec = SectionSpec(body.title, body.direction, body.coordinator, body.executors)
    r = await roadmaps.add_section(d, who, roadmap_id, spec, body.expected_version)
    return _answer(response, r)


@router.post("/roadmaps/{roadmap_id}/rows")
@duty_aware
async def add_row(
    roadmap_id: str, body: RowIn, response: Response, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    spec = RowSpec(
        activity=body.activity,
        deadline=parse_deadline(body.deadline),
        section_id=body.section_id,
        number=body.number,
        responsible=body.responsible,
        expected_result=body.expected_result,
        indicator_ids=body.indicator_ids,
        target_schools=body.target_schools,
    )
    r = await roadmaps.add_row(d, who, roadmap_id, spec, body.expected_version)
    return _answer(response, r)


@router.patch("/roadmaps/{roadmap_id}/rows/{row_id}")
@duty_aware
async def revise_row(
    roadmap_id: str,
    row_id: str,
    body: RowPatch,
    response: Response,
    who: CurrentPrincipal,
    d: DepsDep,
) -> dict[str, Any]:
    changes = body.model_dump(exclude={"expected_version"}, exclude_none=True)
    if "deadline" in changes:
        changes["deadline"] = parse_deadline(changes["deadline"])
    for k in ("responsible", "indicator_ids", "target_schools"):
        if k in changes:
            changes[k] = tuple(changes[k])
    r = await roadmaps.revise_row(d, who, roadmap_id, row_id, changes, body.expected_version)
    return _answer(response, r)


@router.post("/roadmaps/{roadmap_id}/rows/{row_id}/status")
@duty_aware
async def change_status(
    roadmap_id: str,
    row_id: str,
    body: StatusIn,
    response: Response,
    who: CurrentPrincipal,
    d: DepsDep,
) -> dict[str, Any]:
    r = await roadmaps.change_row_status(
        d,
        who,
        roadmap_id,
        row_id,
        status=body.status,
        expected_version=body.expected_version,
        report=body.report,
        evidence=body.evidence,
        occurrence=body.occurrence,
    )
    return _answer(response, r)


@router.get("/roadmaps/{roadmap_id}/export.xlsx")
async def export_xlsx(
    roadmap_id: str, who: CurrentPrincipal, d: DepsDep, today: dt.date | None = None
) -> Response:
    r = await roadmaps.get_roadmap(d, who, roadmap_id)
    return Response(
        roadmap_xlsx(r, today or d.today()),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{r.id.replace(":", "-")}.xlsx"',
            "ETag": f'"{r.version}"',
        },
    )


# --------------------------------------------------------------------------- scheduler


class SchedulerIn(Body):
    today: dt.date | None = None
    lead_days: int = Field(default=14, ge=0, le=90)


@router.post("/scheduler/run")
async def run_scheduler(
    body: SchedulerIn, request: Request, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    events = await roadmaps.run_scheduler_as(
        d, who, region=region_of(request), today=body.today, lead_days=body.lead_days
    )
    return {"events": [{"type": e.event_type, **e.model_dump(mode="json")} for e in events]}
