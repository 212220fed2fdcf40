"""Sign-in (development and OpenID Connect) and sign-out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from shkala_runtime.auth import Principal, Role, issue_token
from shkala_runtime.problems import Problem
from shkala_web.adapters.api import UpstreamError, Upstreams
from shkala_web.adapters.oidc import ClaimsError, principal_from_claims
from shkala_web.entrypoints.common import render, settings_of
from shkala_web.entrypoints.session import csrf_form, sign_in

router = APIRouter(include_in_schema=False)


async def registry(request: Request) -> list[dict[str, Any]]:
    """The org-unit registry for the development sign-in, read with a region service token."""
    settings = settings_of(request)
    up: Upstreams = request.app.state.upstreams
    token = issue_token(settings, Role.REGION, subject="web-dev-login")
    try:
        units: list[dict[str, Any]] = (await up.as_user(token).get("indicators", "/org-units"))[
            "units"
        ]
    except UpstreamError:
        units = []
    return units


@router.get("/login")
async def login_page(request: Request, error: str | None = None) -> Response:
    settings = settings_of(request)
    units = await registry(request) if settings.web_dev_login else []
    return render(
        request,
        "login.html",
        None,
        units=units,
        municipalities=[u for u in units if u["kind"] == "municipality"],
        schools=[u for u in units if u["kind"] == "school"],
        dev=settings.web_dev_login,
        oidc=settings.oidc_enabled,
        error=error,
    )


async def _dev_principal(
    request: Request, role: str, municipality: str | None, school: str | None
) -> tuple[Principal, str]:
    settings = settings_of(request)
    if not settings.web_dev_login:
        raise Problem(404, "Not found", "development sign-in is off", type="not-found")
    units = {u["id"]: u for u in await registry(request)}
    try:
        r = Role(role)
    except ValueError as exc:
        raise Problem(422, "Unknown role", f"нет роли {role!r}", type="validation") from exc
    if r is Role.SCHOOL:
        unit = units.get(school or "")
        if not unit or unit["kind"] != "school":
            raise Problem(
                422, "Unknown school", f"нет школы {school!r} в реестре", type="validation"
            )
        municipality = unit["municipality_id"]
        name = unit.get("name") or str(school)
    elif r is Role.MUNICIPALITY:
        unit = units.get(municipality or "")
        if not unit or unit["kind"] != "municipality":
            raise Problem(
                422,
                "Unknown municipality",
                f"нет муниципалитета {municipality!r}",
                type="validation",
            )
        school, name = None, unit.get("name") or str(municipality)
    else:
        municipality = school = None
        name = units.get(settings.region_id, {}).get("name") or "Регион"
    return (
        Principal(
            subject=f"dev-{r.value}",
            role=r,
            region=settings.region_id,
            municipality=municipality,
            school=school,
        ),
        name,
    )


@router.post("/login/dev", dependencies=[Depends(csrf_form)])
async def dev_login(
    request: Request,
    role: Annotated[str, Form()],
    municipality: Annotated[str | None, Form()] = None,
    school: Annotated[str | None, Form()] = None,
) -> Response:
    principal, name = await _dev_principal(request, role, municipality, school)
    sign_in(request, settings_of(request), principal, name)
    return RedirectResponse(_home(principal), status_code=303)


@router.get("/login/dev/{role}")
async def dev_login_link(
    request: Request, role: str, municipality: str | None = None, school: str | None = None
) -> Response:
    """One-click development sign-in (the links `make demo` prints). Development only."""
    principal, name = await _dev_principal(request, role, municipality, school)
    sign_in(request, settings_of(request), principal, name)
    return RedirectResponse(_home(principal), status_code=303)


def _home(p: Principal) -> str:
    if p.role is Role.SCHOOL:
        return f"/schools/{p.school}"
    if p.role is Role.MUNICIPALITY:
        return f"/mo/{p.municipality}"
    return "/region"


@router.get("/login/oidc")
async def oidc_start(request: Request) -> Response:
    oauth = request.app.state.oauth
    if oauth is None:
        raise Problem(404, "Not found", "OpenID Connect is not configured", type="not-found")
    redirect = str(request.url_for("oidc_callback"))
    response: Response = await oauth.sso.authorize_redirect(request, redirect)
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    oauth = request.app.state.oauth
    if oauth is None:
        raise Problem(404, "Not found", "OpenID Connect is not configured", type="not-found")
    token = await oauth.sso.authorize_access_token(request)
    claims = dict(token.get("userinfo") or {})
    try:
        principal = principal_from_claims(settings_of(request), claims)
    except ClaimsError as exc:
        return RedirectResponse(f"/login?error={exc}", status_code=303)
    sign_in(request, settings_of(request), principal, str(claims.get("name") or principal.subject))
    return RedirectResponse(_home(principal), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_form)])
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
