"""Composition root of the indicators service: the one place its parts are wired together."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from shkala_indicators.entrypoints import http
from shkala_indicators.settings import Settings
from shkala_runtime.kafka import EventPublisher, make_broker
from shkala_runtime.mongo import make_client
from shkala_runtime.service import create_service_app
from shkala_runtime.telemetry import setup_logging, setup_tracing

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


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    setup_logging(settings)
    setup_tracing(settings)
    broker = make_broker(settings)
    mongo = make_client(settings)
    publisher = EventPublisher(settings)
    app = create_service_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        broker=broker,
        mongo=mongo,
        publisher=publisher,
        routers=[http.router],
    )
    return Service(settings, broker, mongo, publisher, app)
