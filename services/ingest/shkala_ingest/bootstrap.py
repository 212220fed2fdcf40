"""Composition root of the ingest service: the one place its parts are wired together."""

from __future__ import annotations

import gc
from dataclasses import dataclass

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from shkala_ingest.adapters.store import IngestStore
from shkala_ingest.adapters.table_reader import WorkerTableReader
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.entrypoints import errors, http
from shkala_ingest.service_layer.imports import Ingestor
from shkala_ingest.settings import Settings
from shkala_runtime.kafka import make_broker
from shkala_runtime.mongo import database, make_client
from shkala_runtime.service import create_service_app
from shkala_runtime.telemetry import setup_logging, setup_tracing
from shkala_runtime.transactions import TransactionalPublisher

TITLE = "Shkala Ingest"
DESCRIPTION = (
    "Takes uploads and API batches of assessment, attendance, staffing, school-"
    "context and org-unit data; validates, pseudonymises and publishes them to Kafka."
)


@dataclass
class Service:
    settings: Settings
    broker: KafkaBroker
    mongo: AsyncMongoClient
    publisher: TransactionalPublisher
    app: FastAPI
    ingestor: Ingestor


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    # an import holds every validated row until the whole file passed; with the default
    # thresholds the collector rescans those objects again and again (~25% of ingest time)
    gc.set_threshold(max(gc.get_threshold()[0], 100_000), 50, 100)
    setup_logging(settings)
    setup_tracing(settings)
    broker = make_broker(settings)
    mongo = make_client(settings)
    publisher = TransactionalPublisher(
        settings, instance=settings.instance_id, slots=settings.transaction_slots
    )
    ingestor = Ingestor(
        settings,
        IngestStore(database(mongo, settings)),
        publisher,
        Pseudonymiser(settings.pseudonym_key.get_secret_value().encode()),
        WorkerTableReader(settings.read_limits(), settings.reader_memory_bytes),
        describe=errors.describe,
    )
    app = create_service_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        broker=broker,
        mongo=mongo,
        routers=[http.router],
        on_start=[publisher.start, ingestor.recover],
        on_stop=[ingestor.stop, publisher.stop],
    )
    errors.install_error_mapping(app)
    app.state.ingestor = ingestor
    return Service(settings, broker, mongo, publisher, app, ingestor)
