"""The public page (no sign-in): aggregates per municipality and for the region, small groups
suppressed (``SHKALA_WEB_PUBLIC_MIN_GROUP``)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shkala_runtime.auth import Role, issue_token
from shkala_web.adapters.api import Upstreams
from shkala_web.domain import public
from shkala_web.domain.format import LISTS
from shkala_web.entrypoints.common import catalogue_cache, render, settings_of
from shkala_web.service_layer.pages import Catalogue, recent_periods

router = APIRouter(include_in_schema=False)
_CACHE: dict[str, tuple[float, dict[str, Any]]] = {}


async def _gather(request: Request, period: str | None) -> dict[str, Any]:
    settings = settings_of(request)
    up: Upstreams = request.app.state.upstreams
    # the page is public: the workspace reads aggregates with its own region token
    api = up.as_user(issue_token(settings, Role.REGION, subject="web-public"))
    cat = await catalogue_cache(request).get(api)
    periods = recent_periods(dt.date.today(), 4)
    chosen = period if period in periods else None
    columns = Catalogue.key_columns(cat)
    summary: dict[str, Any] = {}
    for p in [chosen] if chosen else periods:
        summary = await api.get("indicators", "/region/summary", period=p, indicator=columns)
        if summary.get("region") or chosen:
            chosen = p
            break
    units = (await api.get("indicators", "/org-units"))["units"]
    names = {u["id"]: u.get("name") or u["id"] for u in units}
    n = settings.web_public_min_group
    by_id = Catalogue.by_id(cat)

    def unit(c: str) -> str | None:
        u: str | None = by_id.get(c, {}).get("unit")
        return u

    schools_by_mun: dict[str, int] = {}
    for u in units:
        if u["kind"] == "school":
            schools_by_mun[u["municipality_id"]] = schools_by_mun.get(u["municipality_id"], 0) + 1
    muns = sorted((u["id"] for u in units if u["kind"] == "municipality"), key=names.__getitem__)
    return {
        "period": chosen or periods[0],
        "periods": periods,
        "min_group": n,
        "columns": columns,
        "cat": Catalogue.by_id(cat),
        "region_name": names.get(settings.region_id, "Регион"),
        "region": {c: public.value(summary.get("region", {}).get(c), n, unit(c)) for c in columns},
        "rows": [
            {
                "id": m,
                "name": names[m],
                "schools": schools_by_mun.get(m, 0),
                "values": {
                    c: public.value(summary.get("municipalities", {}).get(m, {}).get(c), n, unit(c))
                    for c in columns
                },
                "lists": {
                    name: summary.get("list_counts", {}).get(name, {}).get(m, 0) for name in LISTS
                },
            }
            for m in muns
        ],
        "lists": LISTS,
        "list_totals": {
            name: sum(summary.get("list_counts", {}).get(name, {}).values()) for name in LISTS
        },
        "updated": (summary.get("freshness") or {}).get("applied_at"),
    }


@router.get("/public")
async def public_page(request: Request) -> Response:
    period = request.query_params.get("period")
    key = period or ""
    cached = _CACHE.get(key)
    if cached and time.monotonic() - cached[0] < 30:
        data = cached[1]
    else:
        data = await _gather(request, period)
        _CACHE[key] = (time.monotonic(), data)
    return render(request, "public.html", None, p=data)
