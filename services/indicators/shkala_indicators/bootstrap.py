"""Composition root of the indicators service: the one place its parts are wired together."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from dataclasses import dataclass

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from shkala_contracts.topics import FACT_TOPICS
from shkala_indicators.adapters.store import Pointer
from shkala_indicators.domain import catalogue as catalogue_mod
from shkala_indicators.domain.catalogue import Catalogue
from shkala_indicators.entrypoints import http
from shkala_indicators.service_layer.consumer import make_handler
from shkala_indicators.service_layer.projection import Projector
from shkala_indicators.service_layer.read import ReadModel
from shkala_indicators.service_layer.rebuild import catch_up
from shkala_indicators.settings import Settings
from shkala_runtime.consuming import DeadLetters, subscribe_events
from shkala_runtime.kafka import EventPublisher, make_broker
from shkala_runtime.mongo import database, make_client
from shkala_runtime.service import create_service_app
from shkala_runtime.telemetry import setup_logging, setup_tracing

log = logging.getLogger(__name__)

TITLE = "Shkala Indicators"
DESCRIPTION = (
    "Keeps per-school, per-municipality and per-direction indicator projections from "
    "the facts on Kafka; flags ШНОР, ШНСУ and non-objective results; serves them."
)


@dataclass
class Service:
    settings: Settings
    broker: KafkaBroker
    mongo: AsyncMongoClient
    publisher: EventPublisher
    app: FastAPI
    catalogue: Catalogue
    projector: Projector
    pointer: Pointer
    dead_letters: DeadLetters


class PeriodicFlush:
    """Writes the live values view every few seconds, so a burst that ends on a full batch
    still reaches the ``values`` collection; and once more at shutdown."""

    def __init__(self, projector: Projector, every_s: float) -> None:
        self.projector = projector
        self.every_s = every_s
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.projector.flush_live()
            except Exception:  # the next tick (or the next batch) tries again
                log.exception("flushing the values view failed")

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.projector.flush_live()


def load_catalogue(settings: Settings) -> Catalogue:
    return catalogue_mod.load(settings.indicators_catalogue_file, settings.indicators_override_file)


def bootstrap(settings: Settings | None = None, *, consume: bool = True) -> Service:
    settings = settings or Settings()
    setup_logging(settings)
    setup_tracing(settings)
    catalogue = load_catalogue(settings)
    broker = make_broker(settings)
    mongo = make_client(settings)
    db = database(mongo, settings)
    publisher = EventPublisher(settings)
    pointer = Pointer(db)
    projector = Projector(
        catalogue,
        source=settings.source,
        publisher=publisher,
        full_batch=settings.indicators_batch_size,
    )
    flusher = PeriodicFlush(projector, settings.indicators_flush_interval_s)
    dead_letters = DeadLetters(publisher.send_raw, settings.projection_group)
    if consume:
        subscribe_events(
            broker,
            *(settings.topic_name(t.name) for t in FACT_TOPICS),
            group_id=settings.projection_group,
            handler=make_handler(
                pointer,
                projector,
                functools.partial(
                    catch_up, settings, projector=projector, group_id=settings.projection_group
                ),
            ),
            dead_letters=dead_letters,
            max_records=settings.indicators_batch_size,
            max_partition_fetch_bytes=8 << 20,
        )

    async def prepare() -> None:
        await (await pointer.current()).ensure_indexes()

    app = create_service_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        broker=broker,
        mongo=mongo,
        publisher=publisher,
        routers=[http.router],
        on_start=[prepare, *([flusher.start] if consume else [])],
        on_stop=[flusher.stop] if consume else [],
    )
    app.state.read_model = ReadModel(
        pointer,
        catalogue,
        projector.live_view if consume else None,
        catalogue_mod.load_versions(settings.indicators_catalogue_file),
    )
    return Service(
        settings, broker, mongo, publisher, app, catalogue, projector, pointer, dead_letters
    )
