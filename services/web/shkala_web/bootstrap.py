"""Composition root of the web workspace: settings, API clients, sessions, templates, routes."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import make_asgi_app
from starlette.middleware.sessions import SessionMiddleware

from shkala_runtime.health import health_router
from shkala_runtime.metrics import HTTP_REQUESTS, HTTP_SECONDS
from shkala_runtime.problems import Problem, install_problem_handlers
from shkala_runtime.telemetry import setup_logging, setup_tracing
from shkala_web.adapters.api import SERVICES, UpstreamError, Upstreams
from shkala_web.adapters.oidc import make_oauth
from shkala_web.domain.format import filters
from shkala_web.entrypoints import auth, data, pages, plans, public, reports
from shkala_web.entrypoints.session import NotSignedIn, current_user, page_context
from shkala_web.service_layer.pages import Catalogue
from shkala_web.settings import Settings

HERE = Path(__file__).resolve().parent
ASSETS = HERE.parent / "node_modules"
SESSION_COOKIE = "shkala_session"


@dataclass
class Service:
    settings: Settings
    app: FastAPI


def _wants_html(request: Request) -> bool:
    if request.headers.get("authorization"):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "GET"


def _error_page(request: Request, status: int, problem: dict[str, Any]) -> Response:
    if not _wants_html(request) and not request.headers.get("hx-request"):
        return JSONResponse(problem, status_code=status, media_type="application/problem+json")
    try:
        user = current_user(request)
    except NotSignedIn:
        user = None
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        page_context(request, user, status=status, problem=problem),
        status_code=status,
    )


def check_deployment(settings: Settings) -> None:
    """Without the development sign-in this is a deployment: refuse a weak session key."""
    secret = settings.web_session_secret.get_secret_value()
    if not settings.web_dev_login and (secret.startswith("dev-only") or len(secret) < 32):
        raise SystemExit(
            "refusing to start: set SHKALA_WEB_SESSION_SECRET (at least 32 characters) "
            "when SHKALA_WEB_DEV_LOGIN=false"
        )


def build_app(settings: Settings) -> FastAPI:
    check_deployment(settings)
    urls = {name: getattr(settings, f"{name}_url") for name in SERVICES}
    upstreams = Upstreams(urls, settings.web_upstream_timeout_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await upstreams.close()

    app = FastAPI(
        title="Shkala web",
        description="Рабочее место: страницы, отчёты и открытая страница поверх API сервисов",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.upstreams = upstreams
    app.state.catalogue = Catalogue()
    app.state.oauth = make_oauth(settings)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(filters())
    app.state.templates = templates
    install_problem_handlers(app)

    async def on_not_signed_in(request: Request, exc: Exception) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        api_call = request.headers.get("authorization") or request.url.path.startswith("/reports/")
        if api_call and not request.session.get("token"):
            return JSONResponse(
                Problem(401, "Unauthorized", "sign in or send a bearer token").body(),
                status_code=401,
                media_type="application/problem+json",
            )
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    async def on_upstream(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UpstreamError)
        return _error_page(request, exc.status, {**exc.problem, "service": exc.service})

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return _error_page(request, exc.status, exc.body(request.url.path))

    app.add_exception_handler(NotSignedIn, on_not_signed_in)
    app.add_exception_handler(UpstreamError, on_upstream)
    app.add_exception_handler(Problem, on_problem)

    async def upstream_ok(name: str) -> bool:
        r = await upstreams.clients[name].get("/health", timeout=2.0)
        return r.status_code == 200

    def check(name: str) -> Any:
        return lambda: upstream_ok(name)

    app.include_router(health_router({name: check(name) for name in SERVICES}))
    for r in (auth.router, pages.router, plans.router, data.router, reports.router, public.router):
        app.include_router(r)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    assets = Path(settings.web_assets_dir) if settings.web_assets_dir else ASSETS
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=str(assets)), name="assets")
    app.mount("/metrics", make_asgi_app())

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Response:
        start = time.perf_counter()
        response: Response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(
            settings.service_name, request.method, route, str(response.status_code)
        ).inc()
        HTTP_SECONDS.labels(settings.service_name, request.method, route).observe(
            time.perf_counter() - start
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    # outermost: the session exists for every handler above
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.web_session_secret.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.web_session_max_age_s,
        same_site="lax",
        https_only=settings.web_cookie_secure,
    )
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready,metrics,static,assets,live")
    return app


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    setup_logging(settings)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per upstream call is noise
    setup_tracing(settings)
    return Service(settings, build_app(settings))
