"""The analytical pages: region, municipality, school card."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from shkala_runtime.auth import Role
from shkala_web.entrypoints.common import (
    catalogue_cache,
    choose_period,
    period_options,
    render,
)
from shkala_web.entrypoints.session import CurrentUser, api_for, current_user
from shkala_web.service_layer import pages

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    if not request.session.get("token"):
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(current_user(request).home, status_code=303)


@router.get("/region")
async def region(request: Request, user: CurrentUser) -> Response:
    api = api_for(request, user)
    if user.principal.role is not Role.REGION:
        return RedirectResponse(user.home, status_code=303)
    cat = await catalogue_cache(request).get(api)
    period = await choose_period(request, api, user)
    data = await pages.region_page(api, cat, period)
    return render(
        request,
        "region.html",
        user,
        d=data,
        cat=pages.Catalogue.by_id(cat),
        periods=period_options(period),
    )


async def _municipality(request: Request, user: CurrentUser, mun: str) -> dict[str, Any]:
    api = api_for(request, user)
    cat = await catalogue_cache(request).get(api)
    period = await choose_period(request, api, user)
    q = request.query_params
    order = "desc" if q.get("order") == "desc" else "asc"
    only = q.get("list") or None
    data = await pages.municipality_page(api, cat, mun, period, q.get("sort") or None, order, only)
    return {"d": data, "cat": pages.Catalogue.by_id(cat), "periods": period_options(period)}


@router.get("/mo/{mun}")
async def municipality(request: Request, mun: str, user: CurrentUser) -> Response:
    ctx = await _municipality(request, user, mun)
    return render(request, "municipality.html", user, **ctx)


@router.get("/mo/{mun}/table")
async def municipality_table(request: Request, mun: str, user: CurrentUser) -> Response:
    """The schools table alone: htmx swaps it on sorting, filtering and live updates."""
    ctx = await _municipality(request, user, mun)
    return render(request, "_schools_table.html", user, **ctx)


@router.get("/schools/{school}")
async def school(request: Request, school: str, user: CurrentUser) -> Response:
    api = api_for(request, user)
    cat = await catalogue_cache(request).get(api)
    period = await choose_period(request, api, user)
    data = await pages.school_page(api, cat, school, period)
    charts = {
        i["id"]: {
            "periods": [v["period"] for v in i["trend"]],
            "values": [v["value"] for v in i["trend"]],
            "threshold": (i.get("threshold") or {}).get("value"),
            "name": i["name"]["ru"],
        }
        for i in data["indicators"]
        if i["trend"]
    }
    return render(
        request,
        "school.html",
        user,
        d=data,
        periods=period_options(period),
        charts_json=json.dumps(charts, ensure_ascii=False),
        default_chart=next(
            (i["id"] for i in data["indicators"] if i["at_risk_now"] and i["trend"]),
            next(iter(charts), None),
        ),
    )


@router.get("/schools/{school}/vpr")
async def school_vpr(request: Request, school: str, user: CurrentUser) -> Response:
    """The card's ВПР section alone: per-task success as a heatmap, the deficits marked."""
    api = api_for(request, user)
    period = await choose_period(request, api, user)
    data = await pages.school_vpr(api, school, period)
    return render(request, "_school_vpr.html", user, d=data)


@router.get("/schools/{school}/indicators")
async def school_indicators(request: Request, school: str, user: CurrentUser) -> Response:
    """The indicators table of the card alone (live updates)."""
    api = api_for(request, user)
    cat = await catalogue_cache(request).get(api)
    period = await choose_period(request, api, user)
    data = await pages.school_page(api, cat, school, period)
    return render(request, "_school_indicators.html", user, d=data)


@router.get("/mo/{mun}/directions/{direction}")
async def direction(request: Request, mun: str, direction: str, user: CurrentUser) -> Response:
    """Per-direction view (направление): the direction's indicators for every school."""
    api = api_for(request, user)
    period = await choose_period(request, api, user)
    data = await pages.direction_page(api, mun, direction, period)
    return render(request, "direction.html", user, d=data, periods=period_options(period))
