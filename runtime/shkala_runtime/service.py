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
from shkala_runtime.problems import install_problem_handlers
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

    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready,metrics")
    return app
