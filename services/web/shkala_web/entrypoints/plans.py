"""Roadmaps, recommendations and measures: pages and the forms that change them."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from shkala_runtime.auth import Role
from shkala_web.adapters.api import UpstreamError
from shkala_web.entrypoints.common import catalogue_cache, choose_period, render, settings_of
from shkala_web.entrypoints.session import CurrentUser, api_for, csrf_form
from shkala_web.service_layer import pages

router = APIRouter(include_in_schema=False)


@router.get("/roadmaps")
async def roadmaps(request: Request, user: CurrentUser) -> Response:
    api = api_for(request, user)
    found = await pages.roadmap_list(api, None)
    templates = await api.get("plans", "/templates")
    units = (await api.get("indicators", "/org-units"))["units"]
    return render(
        request,
        "roadmaps.html",
        user,
        roadmaps=found,
        templates=templates,
        municipalities=[u for u in units if u["kind"] == "municipality"],
        schools=[u for u in units if u["kind"] == "school"],
        names={u["id"]: u.get("name") for u in units},
    )


@router.post("/roadmaps", dependencies=[Depends(csrf_form)])
async def create_roadmap(
    request: Request,
    user: CurrentUser,
    template_id: Annotated[str, Form()],
    title: Annotated[str, Form()] = "",
    municipality_id: Annotated[str | None, Form()] = None,
    school_id: Annotated[str | None, Form()] = None,
) -> Response:
    api = api_for(request, user)
    p = user.principal
    mun = p.municipality or municipality_id
    school = p.school or school_id or None
    if school and not mun:
        units = (await api.get("indicators", "/org-units"))["units"]
        mun = next((u["municipality_id"] for u in units if u["id"] == school), None)
    template = await api.get("plans", f"/templates/{template_id}")
    body = {
        "municipality_id": mun,
        "school_id": school,
        "title": title.strip() or f"Дорожная карта по шаблону «{template['title']}»",
        "template_id": template_id,
    }
    created = await api.send("plans", "POST", "/roadmaps", body)
    return RedirectResponse(f"/roadmaps/{created['id']}", status_code=303)


@router.get("/roadmaps/{roadmap_id}")
async def roadmap(request: Request, roadmap_id: str, user: CurrentUser) -> Response:
    api = api_for(request, user)
    r = await api.get("plans", f"/roadmaps/{roadmap_id}")
    today = dt.date.today()
    view = pages.roadmap_rows(r, today, settings_of(request).web_due_soon_days)
    return render(request, "roadmap.html", user, r=r, v=view, today=today.isoformat())


@router.get("/roadmaps/{roadmap_id}/export.xlsx")
async def roadmap_xlsx(request: Request, roadmap_id: str, user: CurrentUser) -> Response:
    """plans' own XLSX of the roadmap (overdue rows marked there), passed through."""
    api = api_for(request, user)
    r = await api.request("plans", "GET", f"/roadmaps/{roadmap_id}/export.xlsx")
    if r.status_code >= 400:
        raise UpstreamError("plans", r.status_code, r.json())
    return Response(
        r.content,
        media_type=r.headers.get("content-type"),
        headers={"Content-Disposition": r.headers.get("content-disposition", "attachment")},
    )


@router.post("/roadmaps/{roadmap_id}/rows/{row_id}/status", dependencies=[Depends(csrf_form)])
async def change_status(
    request: Request,
    roadmap_id: str,
    row_id: str,
    user: CurrentUser,
    status: Annotated[str, Form()],
    expected_version: Annotated[int, Form()],
    report: Annotated[str, Form()] = "",
) -> Response:
    api = api_for(request, user)
    body = {"expected_version": expected_version, "status": status, "report": report or None}
    try:
        await api.send("plans", "POST", f"/roadmaps/{roadmap_id}/rows/{row_id}/status", body)
    except UpstreamError as exc:
        if exc.status != 409:
            raise
        return RedirectResponse(
            f"/roadmaps/{roadmap_id}?conflict={row_id}#row-{row_id}", status_code=303
        )
    return RedirectResponse(f"/roadmaps/{roadmap_id}?saved={row_id}#row-{row_id}", status_code=303)


@router.get("/measures")
async def measures(request: Request, user: CurrentUser) -> Response:
    api = api_for(request, user)
    p = user.principal
    units = (await api.get("indicators", "/org-units"))["units"]
    names = {u["id"]: u.get("name") for u in units}
    period = await choose_period(request, api, user)
    school = request.query_params.get("school")

    async def measures_found() -> list[dict[str, Any]]:
        if p.role is Role.SCHOOL:
            return []
        # a municipality's, or (the region) every measure of the region in one answer
        return await pages.measures_of(api, p.municipality)

    async def card() -> dict[str, Any] | None:
        return await api.get("indicators", f"/schools/{school}") if school else None

    # the page's reads are independent of one another: asked at once, not in turn
    found, recs, cat, shown, card_ = await asyncio.gather(
        measures_found(),
        api.get("plans", "/recommendations"),
        catalogue_cache(request).get(api),
        _pending_proposals(api, user, period, school),
        card(),
    )
    at_risk: list[dict[str, object]] = []
    for i in (card_ or {}).get("indicators", []):
        now = next((v for v in i["trend"] if v["period"] == period), None)
        if now and now.get("at_risk"):
            at_risk.append({**i, "now": now})
    return render(
        request,
        "measures.html",
        user,
        **shown,
        measures=found,
        recs=recs,
        names=names,
        cat=pages.Catalogue.by_id(cat),
        schools=[u for u in units if u["kind"] == "school"],
        school=school,
        at_risk=at_risk,
        period=period,
        next_period=pages.shift(period, 1),
    )


@router.post("/recommendations", dependencies=[Depends(csrf_form)])
async def issue_recommendation(
    request: Request,
    user: CurrentUser,
    school_id: Annotated[str, Form()],
    indicator_id: Annotated[str, Form()],
    text: Annotated[str, Form()],
    period: Annotated[str, Form()],
) -> Response:
    api = api_for(request, user)
    cat = pages.Catalogue.by_id(await catalogue_cache(request).get(api))
    card = await api.get("indicators", f"/schools/{school_id}")
    ind = next(i for i in card["indicators"] if i["id"] == indicator_id)
    now = next((v for v in ind["trend"] if v["period"] == period), None)
    body = {
        "municipality_id": card["school"]["municipality_id"],
        "school_id": school_id,
        "direction": cat[indicator_id]["direction"],
        "period": period,
        "indicator_id": indicator_id,
        "indicator_value": now["value"] if now else None,
        "target_value": (cat[indicator_id].get("threshold") or {}).get("value"),
        "text": text,
    }
    await api.send("plans", "POST", "/recommendations", body)
    return RedirectResponse(f"/measures?school={school_id}&issued=1", status_code=303)


@router.post("/measures", dependencies=[Depends(csrf_form)])
async def take_measure(
    request: Request,
    user: CurrentUser,
    title: Annotated[str, Form()],
    school_ids: Annotated[list[str], Form()],
    indicator_ids: Annotated[list[str], Form()],
    baseline_period: Annotated[str, Form()],
    evaluation_period: Annotated[str, Form()],
) -> Response:
    api = api_for(request, user)
    cat = pages.Catalogue.by_id(await catalogue_cache(request).get(api))
    units = {u["id"]: u for u in (await api.get("indicators", "/org-units"))["units"]}
    mun = user.principal.municipality or units[school_ids[0]]["municipality_id"]
    body = {
        "municipality_id": mun,
        "title": title,
        "direction": cat[indicator_ids[0]]["direction"],
        "target_schools": school_ids,
        "indicators": [
            {"indicator_id": i, "better": "higher" if cat[i]["better"] == "up" else "lower"}
            for i in indicator_ids
        ],
        "baseline_period": baseline_period,
        "evaluation_period": evaluation_period,
    }
    await api.send("plans", "POST", "/measures", body)
    return RedirectResponse("/measures?taken=1", status_code=303)


PROPOSALS_SHOWN = 30  # without a school chosen: the page stays readable


async def _pending_proposals(
    api: Any, user: Any, period: str, school: str | None
) -> dict[str, Any]:
    """plans' pending proposals of targeted recommendations for the measures page (not for
    schools: they are decided by the municipality); a failure leaves the rest of the page."""
    if user.principal.role is Role.SCHOOL:
        return {"proposals": [], "proposals_incomplete": [], "proposals_error": None}
    params = {"period": period, "status": "pending", **({"school_id": school} if school else {})}
    try:
        body = await api.get("plans", "/proposals", **params)
    except UpstreamError as exc:
        return {
            "proposals": [],
            "proposals_incomplete": [],
            "proposals_error": f"Предложения сейчас недоступны (plans ответил {exc.status}).",
        }
    found = body["proposals"]
    notes = list(body.get("incomplete", []))
    if not school and len(found) > PROPOSALS_SHOWN:
        notes.insert(0, f"Показаны {PROPOSALS_SHOWN} из {len(found)}: выберите школу ниже.")
        found = found[:PROPOSALS_SHOWN]
    return {"proposals": found, "proposals_incomplete": notes, "proposals_error": None}


def _back(school: str, what: str) -> str:
    return f"/measures?{'school=' + quote(school) + '&' if school else ''}{what}=1#proposals"


@router.post("/proposals/{proposal_id}/accept", dependencies=[Depends(csrf_form)])
async def accept_proposal(
    request: Request,
    proposal_id: str,
    user: CurrentUser,
    text: Annotated[str, Form()] = "",
    deadline: Annotated[str, Form()] = "",
    school: Annotated[str, Form()] = "",
) -> Response:
    api = api_for(request, user)
    body = {"text": text.strip() or None, "deadline": deadline.strip() or None}
    await api.send("plans", "POST", f"/proposals/{quote(proposal_id)}/accept", body)
    return RedirectResponse(_back(school, "accepted"), status_code=303)


@router.post("/proposals/{proposal_id}/dismiss", dependencies=[Depends(csrf_form)])
async def dismiss_proposal(
    request: Request,
    proposal_id: str,
    user: CurrentUser,
    reason: Annotated[str, Form()],
    school: Annotated[str, Form()] = "",
) -> Response:
    api = api_for(request, user)
    await api.send("plans", "POST", f"/proposals/{quote(proposal_id)}/dismiss", {"reason": reason})
    return RedirectResponse(_back(school, "dismissed"), status_code=303)
