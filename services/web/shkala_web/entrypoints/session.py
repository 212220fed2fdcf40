"""The signed-in user: who they are (from the session cookie) and the CSRF rule for forms.

The session is Starlette's signed cookie (HttpOnly, SameSite=Lax, Secure in deployment). It
holds the user's bearer token for the services, their role and unit, and a CSRF token that
every form and htmx request that changes something must send back.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request

from shkala_runtime.auth import Principal, Role, decode_token, issue_token
from shkala_runtime.problems import Problem
from shkala_web.adapters.api import Api, Upstreams
from shkala_web.settings import Settings


class NotSignedIn(Exception):
    """Raised for a page that needs a user: answered with a redirect to /login."""


@dataclass(frozen=True)
class User:
    token: str
    principal: Principal
    name: str

    @property
    def role(self) -> str:
        return self.principal.role.value

    @property
    def home(self) -> str:
        p = self.principal
        if p.role is Role.SCHOOL:
            return f"/schools/{p.school}"
        if p.role is Role.MUNICIPALITY:
            return f"/mo/{p.municipality}"
        return "/region"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise Problem(
            403,
            "Forbidden",
            "форма устарела или отправлена не из рабочего места (CSRF): обновите страницу",
            type="csrf",
        )


async def csrf_form(request: Request, csrf: Annotated[str | None, Form()] = None) -> None:
    check_csrf(request, csrf or request.headers.get("x-csrf-token"))


async def csrf_header(request: Request) -> None:
    check_csrf(request, request.headers.get("x-csrf-token"))


def sign_in(request: Request, settings: Settings, principal: Principal, name: str) -> None:
    """Start a fresh session (a new CSRF token too: no fixation) for ``principal``."""
    token = issue_token(
        settings,
        principal.role,
        region=principal.region,
        municipality=principal.municipality,
        school=principal.school,
        subject=principal.subject,
    )
    request.session.clear()
    request.session.update({"token": token, "name": name})
    csrf_token(request)


def current_user(request: Request) -> User:
    """The user of this request: the session, or a bearer token (the report API)."""
    settings: Settings = request.app.state.settings
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        return User(token, decode_token(settings, token), "API")
    stored = request.session.get("token")
    if not stored:
        raise NotSignedIn()
    token = str(stored)
    try:
        principal = decode_token(settings, token)
    except Problem as exc:
        request.session.clear()
        raise NotSignedIn() from exc
    return User(token, principal, str(request.session.get("name") or ""))


CurrentUser = Annotated[User, Depends(current_user)]


def api_for(request: Request, user: User) -> Api:
    up: Upstreams = request.app.state.upstreams
    after = request.session.get("after") if "session" in request.scope else None
    return up.as_user(user.token, list(after or []))


def page_context(request: Request, user: User | None, **extra: Any) -> dict[str, Any]:
    return {
        "request": request,
        "user": user,
        "csrf": csrf_token(request),
        "nav": navigation(user),
        **extra,
    }


def navigation(user: User | None) -> list[tuple[str, str]]:
    if user is None:
        return [("/public", "Открытые данные")]
    p = user.principal
    items: list[tuple[str, str]] = []
    if p.role is Role.REGION:
        items.append(("/region", "Регион"))
    if p.role is Role.MUNICIPALITY:
        items.append((f"/mo/{p.municipality}", "Муниципалитет"))
    if p.role is Role.SCHOOL:
        items.append((f"/schools/{p.school}", "Карточка школы"))
    items += [
        ("/roadmaps", "Дорожные карты"),
        ("/measures", "Рекомендации и меры"),
        ("/uploads", "Загрузка данных"),
        ("/notifications", "Уведомления"),
        ("/public", "Открытые данные"),
    ]
    return items
