"""Composition root of the plans service: the one place its parts are wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from shkala_plans.adapters.event_store import ConcurrencyError, EventStore
from shkala_plans.adapters.indicator_catalogue import HttpIndicatorCatalogue
from shkala_plans.adapters.indicator_values import IndicatorValues
from shkala_plans.adapters.lease import Lease
from shkala_plans.adapters.org_units import OrgUnits
from shkala_plans.adapters.outbox import OutboxRelay, Publisher
from shkala_plans.adapters.vpr_tasks import HttpVprTasks
from shkala_plans.domain.cycle_card import card_template, load_cycle_card
from shkala_plans.domain.model import DomainError, FieldRefused, NotFound
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.templates import Template, load_seed_templates
from shkala_plans.entrypoints import (
    consumers,
    cycle_http,
    periods_http,
    plumbing,
    proposals_http,
    recommendations_http,
    roadmaps_http,
)
from shkala_plans.service_layer import roadmaps, scheduling
from shkala_plans.service_layer.measures import NotEvaluable
from shkala_plans.service_layer.proposals import VprTasks
from shkala_plans.service_layer.services import (
    CatalogueUnavailable,
    Deps,
    IndicatorCatalogue,
    NoCatalogue,
)
from shkala_plans.settings import Settings
from shkala_runtime.consuming import DeadLetters
from shkala_runtime.kafka import EventPublisher, make_broker
from shkala_runtime.mongo import database, make_client
from shkala_runtime.problems import Problem, problem_response
from shkala_runtime.service import create_service_app
from shkala_runtime.settings import ServiceSettings
from shkala_runtime.telemetry import setup_logging, setup_tracing

log = logging.getLogger(__name__)

TITLE = "Shkala Plans"
DESCRIPTION = (
    "Roadmaps, recommendations, measures and their effectiveness, event-sourced, with"
    " an outbox to Kafka."
)


@dataclass
class Service:
    settings: Settings
    broker: KafkaBroker
    mongo: AsyncMongoClient
    publisher: EventPublisher
    app: FastAPI
    deps: Deps
    relay: OutboxRelay
    templates: dict[str, Template] = field(default_factory=dict)


def bootstrap(
    settings: ServiceSettings | None = None,
    *,
    relay_publisher: Publisher | None = None,
    catalogue: IndicatorCatalogue | None = None,
    vpr_tasks: VprTasks | None = None,
) -> Service:
    """``relay_publisher`` replaces the relay's Kafka publisher (tests simulate crashes);
    ``catalogue`` the indicators catalogue read from ``SHKALA_INDICATORS_URL``; ``vpr_tasks``
    the ВПР task deficits asked from the same service."""
    if settings is None:
        settings = Settings()
    elif not isinstance(settings, Settings):
        settings = Settings(**{**settings.model_dump(), "service_name": "plans"})
    setup_logging(settings)
    setup_tracing(settings)
    broker = make_broker(settings)
    mongo = make_client(settings)
    publisher = EventPublisher(settings)
    db = database(mongo, settings)
    relay = OutboxRelay(
        db, relay_publisher or publisher, settings, poll_seconds=settings.plans_relay_poll_s
    )
    if catalogue is None:
        catalogue = (
            HttpIndicatorCatalogue(
                settings,
                settings.indicators_url,
                ttl_s=settings.plans_catalogue_ttl_s,
                timeout_s=settings.plans_catalogue_timeout_s,
            )
            if settings.indicators_url
            else NoCatalogue()
        )
    if vpr_tasks is None and settings.indicators_url:
        vpr_tasks = HttpVprTasks(
            settings, settings.indicators_url, timeout_s=settings.plans_catalogue_timeout_s
        )
    deps = Deps(
        EventStore(db),
        IndicatorValues(db),
        OrgUnits(db),
        relay.nudge,
        catalogue=catalogue,
        vpr_tasks=vpr_tasks,
    )
    consumers.subscribe(
        broker,
        settings,
        deps,
        DeadLetters(publisher.send_raw, settings.plans_consumer_group),
        settings.kafka_topic_prefix + settings.plans_consumer_group,
    )
    consumers.subscribe_org_units(
        broker,
        settings,
        deps,
        DeadLetters(publisher.send_raw, settings.plans_org_units_group),
        settings.kafka_topic_prefix + settings.plans_org_units_group,
    )
    tasks: list[asyncio.Task[None]] = []

    # once per deployment: the instance holding the lease runs it (docs in scheduling.py)
    interval = settings.plans_scheduler_interval_s
    lease = Lease(db, "deadline-scheduler", max(30.0, 3 * scheduling.tick_seconds(interval)))

    async def scheduler_run() -> None:
        await roadmaps.run_scheduler(deps, deps.today(), settings.plans_due_lead_days)

    async def scheduler_loop() -> None:
        await scheduling.run_forever(lease, scheduler_run, interval)

    async def on_start() -> None:
        await deps.store.setup()
        await deps.values.setup()
        await relay.start()
        if settings.plans_scheduler_interval_s > 0:
            tasks.append(asyncio.create_task(scheduler_loop(), name="plans-scheduler"))

    async def on_stop() -> None:
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await relay.stop()

    app = create_service_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        broker=broker,
        mongo=mongo,
        publisher=publisher,
        # the roadmap/recommendation/measure routes pass the duty guard first (coordinators
        # and executors change only their directions / their rows)
        routers=[
            _guarded(roadmaps_http.router),
            _guarded(recommendations_http.router),
            proposals_http.router,  # coordinators: their directions, checked by the use cases
            periods_http.router,
            cycle_http.router,
        ],
        on_start=[on_start],
        on_stop=[on_stop],
    )
    card = load_cycle_card()
    templates = {t.id: t for t in (*load_seed_templates(), card_template(card))}
    app.state.plans_cycle_card = card
    app.state.plans_deps = deps
    app.state.plans_templates = templates
    install_error_mapping(app)
    return Service(settings, broker, mongo, publisher, app, deps, relay, templates)


def _guarded(router: APIRouter) -> APIRouter:
    guarded = APIRouter(dependencies=[Depends(plumbing.duty_guard)])
    guarded.include_router(router)
    return guarded


def install_error_mapping(app: FastAPI) -> None:
    async def conflict(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ConcurrencyError)
        return problem_response(
            Problem(
                409,
                "Version conflict",
                str(exc),
                type="version-conflict",
                aggregate_id=exc.aggregate_id,
                expected_version=exc.expected,
                current_version=exc.actual,
            ),
            request,
        )

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(Problem(404, "Not found", str(exc), type="not-found"), request)

    async def refused(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            Problem(422, "Refused by the plan's rules", str(exc), type="domain-rule"), request
        )

    async def not_allowed(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(Problem(403, "Forbidden", str(exc), type="forbidden"), request)

    async def field_refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FieldRefused)
        return problem_response(
            Problem(
                422,
                exc.title,
                str(exc),
                type="validation",
                errors=[{"location": exc.location, "reason": str(exc), "value": exc.value}],
                total_errors=1,
            ),
            request,
        )

    async def not_evaluable(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            Problem(409, "Not evaluable yet", str(exc), type="not-evaluable"), request
        )

    async def catalogue_down(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            Problem(
                503, "Indicators catalogue unavailable", str(exc), type="catalogue-unavailable"
            ),
            request,
        )

    app.add_exception_handler(FieldRefused, field_refused)
    app.add_exception_handler(NotEvaluable, not_evaluable)
    app.add_exception_handler(CatalogueUnavailable, catalogue_down)
    app.add_exception_handler(NotAllowed, not_allowed)
    app.add_exception_handler(ConcurrencyError, conflict)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(DomainError, refused)
