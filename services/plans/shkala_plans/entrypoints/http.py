"""HTTP routes of the plans service: translate requests and delegate to the service layer.

Every route authenticates (bearer JWT) and checks the tenant: a school sees only its own
roadmaps and recommendations, a municipality its own and its schools', the region all.
Edits carry ``expected_version``; a stale one is answered 409 (optimistic concurrency).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shkala_contracts import Tenant
from shkala_contracts.events.plans import Deadline, LinkedIndicator, RowStatus
from shkala_contracts.vocabulary import AcademicYear, Direction, OrgId
from shkala_plans.adapters.xlsx import roadmap_xlsx
from shkala_plans.domain.deadlines import occurrences, parse_deadline
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
from shkala_plans.service_layer import services, tenancy
from shkala_plans.service_layer.services import Deps
from shkala_runtime.auth import CurrentPrincipal, Principal, Role, authorize
from shkala_runtime.problems import Problem

router = APIRouter(tags=["plans"])
PLANNERS = (Role.REGION, Role.MUNICIPALITY)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def deps(request: Request) -> Deps:
    return request.app.state.plans_deps


def templates(request: Request) -> dict[str, Template]:
    return request.app.state.plans_templates


DepsDep = Annotated[Deps, Depends(deps)]


def tenant_of(agg: Aggregate) -> Tenant:
    return Tenant(region=agg.region or "", municipality=agg.municipality, school=agg.school)


async def load_for(d: Deps, cls: type[Any], aggregate_id: str, who: Principal) -> Any:
    agg = await services.load(d, cls, aggregate_id)
    if agg.version == 0:
        raise NotFound(f"{aggregate_id} does not exist")
    who.require(tenant_of(agg))
    return agg


def versioned(response: Response, agg: Aggregate) -> None:
    response.headers["ETag"] = f'"{agg.version}"'


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
async def parse(body: ParseIn, who: CurrentPrincipal) -> dict[str, Any]:
    d = parse_deadline(body.text)
    today = dt.date.today()
    return {
        **d.model_dump(mode="json"),
        "next_due": [
            x.isoformat() for x in occurrences(d, today, today.replace(year=today.year + 1))
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


@router.post("/roadmaps", status_code=201)
async def create_roadmap(
    body: RoadmapIn, request: Request, response: Response, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    settings = request.app.state.settings
    await tenancy.authorize_new_plan(
        d.orgs,
        who,
        region=settings.region_id,
        municipality=body.municipality_id,
        school=body.school_id,
        what="a roadmap",
    )
    template = None
    if body.template_id:
        template = templates(request).get(body.template_id)
        if template is None:
            raise Problem(
                422, "Unknown template", f"no template {body.template_id}", type="validation"
            )
    r = await services.create_roadmap(
        d,
        region=settings.region_id,
        municipality=body.municipality_id,
        school=body.school_id,
        title=body.title,
        starts_on=body.starts_on or dt.date.today(),
        from_year=body.from_year,
        to_year=body.to_year,
        template=template,
    )
    versioned(response, r)
    response.headers["Location"] = f"/roadmaps/{r.id}"
    return roadmap_view(r)


def scoped_query(who: Principal, kind: str, **asked: str | None) -> dict[str, Any]:
    """An index query within the caller's tenant, narrowed by the filters asked for; a filter
    outside the tenant is refused rather than allowed to widen it."""
    query: dict[str, Any] = {"kind": kind, "region": who.region}
    if who.role is Role.MUNICIPALITY:
        query["municipality"] = who.municipality
    elif who.role is Role.SCHOOL:
        query["school"] = who.school
    for field, value in asked.items():
        if not value:
            continue
        if query.get(field, value) != value:
            raise Problem(
                403,
                "Forbidden",
                f"a {who.role.value} token cannot list {field} {value}",
                type="forbidden",
            )
        query[field] = value
    return query


@router.get("/roadmaps")
async def list_roadmaps(
    who: CurrentPrincipal, d: DepsDep, municipality_id: str | None = None
) -> list[dict[str, Any]]:
    query = scoped_query(who, "roadmap", municipality=municipality_id)
    docs = await d.store.index_find(query)
    return [
        {
            "id": x["_id"],
            "title": x.get("title"),
            "version": x["version"],
            "municipality_id": x.get("municipality"),
            "school_id": x.get("school"),
        }
        for x in docs
    ]


@router.get("/roadmaps/{roadmap_id}")
async def get_roadmap(
    roadmap_id: str, response: Response, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    r = await load_for(d, Roadmap, roadmap_id, who)
    versioned(response, r)
    return roadmap_view(r)


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


async def _edit(
    d: Deps,
    roadmap_id: str,
    who: Principal,
    expected: int,
    decide: Any,
    response: Response,
    schools: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An edit of a roadmap the caller may act on, naming only ``schools`` the caller may
    name and the roadmap's tenant holds."""
    roadmap = await load_for(d, Roadmap, roadmap_id, who)
    await tenancy.authorize_schools(d.orgs, who, schools, owner=tenant_of(roadmap), what="roadmap")
    r, _ = await services.execute(d, Roadmap, roadmap_id, decide, expected)
    versioned(response, r)
    return roadmap_view(r)


@router.post("/roadmaps/{roadmap_id}/sections")
async def add_section(
    roadmap_id: str, body: SectionIn, response: Response, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    spec = SectionSpec(body.title, body.direction, body.coordinator, body.executors)
    return await _edit(
        d, roadmap_id, who, body.expected_version, lambda r: r.decide_add_section(spec), response
    )


@router.post("/roadmaps/{roadmap_id}/rows")
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
    return await _edit(
        d,
        roadmap_id,
        who,
        body.expected_version,
        lambda r: r.decide_add_row(spec),
        response,
        schools=body.target_schools,
    )


@router.patch("/roadmaps/{roadmap_id}/rows/{row_id}")
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
    return await _edit(
        d,
        roadmap_id,
        who,
        body.expected_version,
        lambda r: r.decide_revise_row(row_id, **changes),
        response,
        schools=body.target_schools or (),
    )


@router.post("/roadmaps/{roadmap_id}/rows/{row_id}/status")
async def change_status(
    roadmap_id: str,
    row_id: str,
    body: StatusIn,
    response: Response,
    who: CurrentPrincipal,
    d: DepsDep,
) -> dict[str, Any]:
    return await _edit(
        d,
        roadmap_id,
        who,
        body.expected_version,
        lambda r: r.decide_change_status(
            row_id, body.status, body.report, body.evidence, body.occurrence
        ),
        response,
    )


@router.get("/roadmaps/{roadmap_id}/export.xlsx")
async def export_xlsx(
    roadmap_id: str, who: CurrentPrincipal, d: DepsDep, today: dt.date | None = None
) -> Response:
    r = await load_for(d, Roadmap, roadmap_id, who)
    return Response(
        roadmap_xlsx(r, today or dt.date.today()),
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
    region = Tenant(region=request.app.state.settings.region_id)
    authorize(who, [region], roles=[Role.REGION], action="run the deadline scheduler of")
    events = await services.run_scheduler(d, body.today or dt.date.today(), body.lead_days)
    return {"events": [{"type": e.event_type, **e.model_dump(mode="json")} for e in events]}


# --------------------------------------------------------------------------- recommendations


class RecommendationIn(Body):
    municipality_id: OrgId
    school_id: OrgId
    direction: Direction
    period: AcademicYear
    indicator_id: str | None = None
    indicator_value: float | None = None
    target_value: float | None = None
    text: str = Field(min_length=1, max_length=20000)


@router.post("/recommendations", status_code=201)
async def issue_recommendation(
    body: RecommendationIn, request: Request, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    region = request.app.state.settings.region_id
    await tenancy.authorize_new_plan(
        d.orgs,
        who,
        region=region,
        municipality=body.municipality_id,
        school=body.school_id,
        roles=PLANNERS,
        what="a recommendation (issued to schools, not by them)",
    )
    data = body.model_dump(exclude={"municipality_id", "school_id"})
    rec, _ = await services.execute(
        d,
        Recommendation,
        services.new_id("recommendation"),
        lambda a: a.decide_issue(
            region=region, municipality=body.municipality_id, school=body.school_id, **data
        ),
        must_exist=False,
    )
    assert rec.issued is not None
    return {"id": rec.id, "version": rec.version, **rec.issued.model_dump(mode="json")}


@router.get("/recommendations")
async def list_recommendations(
    who: CurrentPrincipal, d: DepsDep, school_id: str | None = None
) -> list[dict[str, Any]]:
    query = scoped_query(who, "recommendation", school=school_id)
    return [
        {"id": x["_id"], **{k: x.get(k) for k in ("school", "direction", "period", "indicator_id")}}
        for x in await d.store.index_find(query)
    ]


# --------------------------------------------------------------------------- measures


class MeasureIn(Body):
    municipality_id: OrgId
    title: str = Field(min_length=1, max_length=4000)
    direction: Direction
    target_schools: tuple[OrgId, ...] = Field(min_length=1)
    indicators: tuple[LinkedIndicator, ...] = Field(min_length=1)
    baseline_period: AcademicYear
    evaluation_period: AcademicYear
    recommendation_ids: tuple[str, ...] = ()
    roadmap_row: str | None = None


@router.post("/measures", status_code=201)
async def take_measure(
    body: MeasureIn, request: Request, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    region = request.app.state.settings.region_id
    owner = await tenancy.authorize_new_plan(
        d.orgs,
        who,
        region=region,
        municipality=body.municipality_id,
        schools=body.target_schools,
        roles=PLANNERS,
        what="a measure",
    )
    for rec_id in body.recommendation_ids:
        rec = await _named(d, Recommendation, rec_id, who)
        tenancy.require_within(owner, [tenant_of(rec)], "measure")
    if body.roadmap_row:
        roadmap = await _named(d, Roadmap, body.roadmap_row.split("/", 1)[0], who)
        tenancy.require_within(owner, [tenant_of(roadmap)], "measure")
    m, _ = await services.execute(
        d,
        Measure,
        services.new_id("measure"),
        lambda a: a.decide_take(
            region=region,
            municipality=body.municipality_id,
            **body.model_dump(exclude={"municipality_id"})
            | {
                "indicators": body.indicators,
                "target_schools": body.target_schools,
                "recommendation_ids": body.recommendation_ids,
            },
        ),
        must_exist=False,
    )
    # values may already be there (a measure taken after the evaluation period closed)
    await services.evaluate_measure(d, m.id, trigger="indicator_events", require_complete=True)
    assert m.taken is not None
    return {"id": m.id, "version": m.version, **m.taken.model_dump(mode="json")}


async def _named(d: Deps, cls: type[Any], aggregate_id: str, who: Principal) -> Any:
    """A plan object named in a request body: it exists (else 422) and the caller reaches it."""
    try:
        return await load_for(d, cls, aggregate_id, who)
    except NotFound as exc:
        raise tenancy.UnknownUnit(str(exc)) from exc


async def load_measure(d: Deps, measure_id: str, who: Principal) -> Measure:
    """A measure the caller may act on, with every target school within its reach."""
    m: Measure = await load_for(d, Measure, measure_id, who)
    assert m.taken is not None
    await tenancy.authorize_reach(d.orgs, who, m.taken.target_schools)
    return m


@router.get("/measures/{measure_id}")
async def get_measure(measure_id: str, who: CurrentPrincipal, d: DepsDep) -> dict[str, Any]:
    m = await load_measure(d, measure_id, who)
    assert m.taken is not None
    ev = await services.load(d, EffectivenessEvaluation, EffectivenessEvaluation.id_for(measure_id))
    return {
        "id": m.id,
        "version": m.version,
        **m.taken.model_dump(mode="json"),
        "evaluation": ev.latest.model_dump(mode="json") if ev.latest else None,
    }


@router.post("/measures/{measure_id}/evaluate")
async def evaluate_measure(measure_id: str, who: CurrentPrincipal, d: DepsDep) -> dict[str, Any]:
    await load_measure(d, measure_id, who)
    ev = await services.evaluate_measure(d, measure_id, trigger="request", require_complete=False)
    if ev is None or ev.latest is None:
        raise Problem(
            409,
            "Not evaluable yet",
            "no target school has values for both periods yet",
            type="not-evaluable",
        )
    return ev.latest.model_dump(mode="json")


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
    region = request.app.state.settings.region_id
    who.require(Tenant(region=region, municipality=municipality_id))
    base = {"region": region, "municipality": municipality_id}
    coordinator: str | None = None
    executors: list[str] = []
    goals: list[dict[str, Any]] = []
    for doc in await d.store.index_find({**base, "kind": "roadmap"}):
        r = await services.load(d, Roadmap, doc["_id"])
        for s in r.sections.values():
            if s.direction is not direction:
                continue
            coordinator = coordinator or s.coordinator
            executors.extend(x for x in s.executors if x not in executors)
            goals.extend(
                {
                    "roadmap_id": r.id,
                    "row_id": x.row_id,
                    "number": x.number,
                    "activity": x.activity,
                    "deadline": x.deadline.text,
                    "status": x.status.value,
                    "overdue": bool(x.overdue_signalled) and not x.closed,
                }
                for x in r.rows.values()
                if x.section_id == s.section_id
            )
    recs = await d.store.index_find(
        {**base, "kind": "recommendation", "direction": direction.value}
    )
    measures = await d.store.index_find({**base, "kind": "measure", "direction": direction.value})
    indicator_ids = sorted({i for m in measures for i in m.get("indicator_ids", [])})
    schools = sorted({s for m in measures for s in m.get("target_schools", [])})
    periods = sorted({m[k] for m in measures for k in ("baseline_period", "evaluation_period")})
    values = await d.values.values_for(schools, [period] if period else periods)
    evaluations = {
        x["measure_id"]: x["verdict"]
        for x in await d.store.index_find({**base, "kind": "evaluation"})
    }
    return {
        "municipality_id": municipality_id,
        "direction": direction.value,
        "coordinator": coordinator,
        "executors": executors,
        "goals": goals,
        "indicators": indicator_ids,
        "monitoring": {"values": len(values), "schools": schools, "periods": periods},
        "recommendations": [
            {"id": x["_id"], "school": x.get("school"), "indicator_id": x.get("indicator_id")}
            for x in recs
        ],
        "measures": [
            {
                "id": x["_id"],
                "title": x.get("title"),
                "evaluation_period": x.get("evaluation_period"),
            }
            for x in measures
        ],
        "effectiveness": [
            {"measure_id": k, "verdict": v}
            for k, v in evaluations.items()
            if k in {m["_id"] for m in measures}
        ],
    }


__all__ = ["Deadline", "router"]
