"""What every page route shares: templates, the period a page shows, rendering."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from shkala_web.entrypoints.session import User, page_context
from shkala_web.service_layer.pages import Catalogue, Reader, recent_periods
from shkala_web.settings import Settings


def templates(request: Request) -> Jinja2Templates:
    t: Jinja2Templates = request.app.state.templates
    return t


def settings_of(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


def catalogue_cache(request: Request) -> Catalogue:
    c: Catalogue = request.app.state.catalogue
    return c


def render(
    request: Request, name: str, user: User | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    return templates(request).TemplateResponse(
        request, name, page_context(request, user, **ctx), status_code=status
    )


_PERIODS: dict[str, tuple[str, float]] = {}


async def choose_period(request: Request, api: Reader, user: User) -> str:
    """The period asked for, else the configured one, else the newest with data in the user's
    scope (from one school card's trend; kept a minute)."""
    asked = request.query_params.get("period")
    if asked and len(asked) == 7 and asked[4] == "/":
        return asked
    settings = settings_of(request)
    if settings.web_default_period:
        return settings.web_default_period
    p = user.principal
    key = f"{p.region}|{p.municipality}|{p.school}"
    cached = _PERIODS.get(key)
    if cached and time.monotonic() - cached[1] < 60:
        return cached[0]
    fallback = recent_periods(dt.date.today())[0]
    period = fallback
    school = p.school
    if school is None:
        units = await api.get("indicators", "/org-units")
        school = next((u["id"] for u in units["units"] if u["kind"] == "school"), None)
    if school:
        card = await api.get("indicators", f"/schools/{school}")
        periods = sorted({v["period"] for i in card["indicators"] for v in i["trend"]})
        if periods:
            period = periods[-1]
    _PERIODS[key] = (period, time.monotonic())
    return period


def period_options(current: str) -> list[str]:
    options = recent_periods(dt.date.today(), 4)
    if current not in options:
        options.append(current)
    return sorted(options, reverse=True)
