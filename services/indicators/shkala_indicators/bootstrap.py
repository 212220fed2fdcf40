"""Composition root of the indicators service: the one place its parts are wired together."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from shkala_contracts.events.indicators import TOPIC as DERIVED_TOPIC
from shkala_contracts.events.org_units import TOPIC as ORG_TOPIC
from shkala_contracts.events.plans import TOPIC as PLANS_TOPIC
from shkala_contracts.events.reference import TOPIC as REFERENCE_TOPIC
from shkala_contracts.topics import FACT_TOPICS
from shkala_indicators.adapters.fact_decoding import decode_fact
from shkala_indicators.adapters.read_feed import ReadFeed
from shkala_indicators.adapters.store import Pointer
from shkala_indicators.domain import catalogue as catalogue_mod
from shkala_indicators.domain.catalogue import Catalogue
from shkala_indicators.entrypoints import http, http_explain, http_network, http_vpr
from shkala_indicators.service_layer.consumer import Assignment, make_handler
from shkala_indicators.service_layer.projection import Projector
from shkala_indicators.service_layer.read import ReadModel
from shkala_indicators.service_layer.read_table import ReadTable
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
    table: ReadTable
    feed: ReadFeed


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
    dead_letters = DeadLetters(publisher.send_raw, settings.projection_group)
    assignment = Assignment(pointer, projector)
    if consume:
        # every topic is keyed by school id with the same partition count: the range
        # assignor gives one instance partition i of all of them (a school's registration
        # and its facts)
        assignment.subscriber = subscribe_events(
            broker,
            *(settings.topic_name(t.name) for t in FACT_TOPICS),
            group_id=settings.projection_group,
            handler=make_handler(pointer, projector, assignment),
            dead_letters=dead_letters,
            max_records=settings.indicators_batch_size,
            max_partition_fetch_bytes=2 << 20,
            listener=assignment,
            partition_assignment_strategy=(RangePartitionAssignor,),
            decoder=decode_fact,
        )
    table = ReadTable(catalogue)
    feed = ReadFeed(  # the plans topic for the monitoring periods' approval (ADR 0006)
        settings,
        table,
        # and the reference topic for the ВПР planned-result mapping (domain/deficits.py)
        [settings.topic_name(t) for t in (ORG_TOPIC, DERIVED_TOPIC, PLANS_TOPIC, REFERENCE_TOPIC)],
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
        routers=[http.router, http_vpr.router, http_explain.router, http_network.router],
        on_start=[prepare, feed.start],
        on_stop=[feed.stop],
    )
    read = ReadModel(
        pointer,
        catalogue,
        table,
        catalogue_mod.load_versions(settings.indicators_catalogue_file),
        progressed=lambda: feed.progressed,
    )
    read.derived_topic = settings.topic_name(DERIVED_TOPIC)
    read.reference_topic = settings.topic_name(REFERENCE_TOPIC)
    app.state.read_model = read
    return Service(
        settings,
        broker,
        mongo,
        publisher,
        app,
        catalogue,
        projector,
        pointer,
        dead_letters,
        table,
        feed,
    )
