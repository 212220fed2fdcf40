"""The frame every service's HTTP app is built in: lifespan, health, problems, metrics."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import make_asgi_app
from pymongo import AsyncMongoClient

from shkala_runtime.health import health_router
from shkala_runtime.kafka import EventPublisher, ensure_topics
from shkala_runtime.metrics import HTTP_REQUESTS, HTTP_SECONDS
from shkala_runtime.mongo import ping
from shkala_runtime.problems import (
    Problem,
    document_problems,
    install_problem_handlers,
    problem_response,
)
from shkala_runtime.settings import ServiceSettings

Hook = Callable[[], Awaitable[Any]]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    broker: KafkaBroker,
    mongo: AsyncMongoClient,
    publisher: EventPublisher | None = None,
    routers: Sequence[APIRouter] = (),
    on_start: Sequence[Hook] = (),
    on_stop: Sequence[Hook] = (),
    version: str = "0.1.0",
) -> FastAPI:
    """Topics are created, Kafka and the database connected before the app serves."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings)
        if publisher is not None:
            await publisher.start()
        await broker.start()
        for hook in on_start:
            await hook()
        try:
            yield
        finally:
            for hook in on_stop:
                await hook()
            await broker.stop()
            if publisher is not None:
                await publisher.stop()
            await mongo.close()

    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.settings = settings
    install_problem_handlers(app)
    app.include_router(
        health_router({"kafka": lambda: broker.ping(timeout=2.0), "database": lambda: ping(mongo)})
    )
    for router in routers:
        app.include_router(router)
    app.mount("/metrics", make_asgi_app())

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Response:
        start = time.perf_counter()
        response: Response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")  # template, not ids
        HTTP_REQUESTS.labels(
            settings.service_name, request.method, route, str(response.status_code)
        ).inc()
        HTTP_SECONDS.labels(settings.service_name, request.method, route).observe(
            time.perf_counter() - start
        )
        return response

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(JsonBodyLimit, limit=settings.http_max_json_bytes)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready,metrics")
    return app


class JsonBodyLimit:
    """413 for a JSON request body above the limit, before it is read into memory.

    JSON bodies are parsed whole, so an unbounded one is a way to exhaust a service's memory;
    uploads (multipart, CSV, XLSX) are bounded by the service that takes them."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen, refused, started = 0, False, False

        async def counting() -> Any:
            # Past the limit, answer 413 here and tell the app the client left: the app
            # would turn an exception raised while it reads the body into a 400.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit and not started:
                refused = True
                await self._refuse(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def sending(message: Any) -> None:
            nonlocal started
            if refused:
                return
            started = True
            await send(message)

        await self.app(scope, counting, sending)

    def _problem(self) -> Problem:
        return Problem(
            413,
            "Request body too large",
            f"a JSON body may have at most {self.limit} bytes",
            type="too-large",
            limit_bytes=self.limit,
        )

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        response = problem_response(self._problem(), Request(scope))
        await response(scope, receive, send)


def _is_json(scope: Any) -> bool:
    ctype = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
    return ctype == b"application/json" or ctype.endswith(b"+json")
