"""Composition root of the notify service: the one place its parts are wired together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from shkala_contracts.events import indicators, notify, org_units, plans
from shkala_notify.adapters.store import Store
from shkala_notify.adapters.targets import Resolver, TargetGuard, system_resolver
from shkala_notify.adapters.webhooks import WebhookSender
from shkala_notify.domain.ssrf import parse_networks
from shkala_notify.domain.subscriptions import RetrySchedule
from shkala_notify.entrypoints import http
from shkala_notify.service_layer.fanout import FanOut
from shkala_notify.service_layer.live import LiveConsumer, LiveHub
from shkala_notify.service_layer.names import OrgNames
from shkala_notify.service_layer.retention import RetentionSweeper
from shkala_notify.service_layer.worker import DeliveryWorker
from shkala_notify.settings import Settings
from shkala_runtime.consuming import DeadLetters, subscribe_events
from shkala_runtime.kafka import EventPublisher, make_broker
from shkala_runtime.mongo import database, make_client
from shkala_runtime.service import create_service_app
from shkala_runtime.telemetry import setup_logging, setup_tracing

TITLE = "Shkala Notify"
DESCRIPTION = (
    "Pushes changes outward: signed webhooks (Standard Webhooks), a live stream (SSE) and "
    "public topics."
)
EVENT_TOPICS = (indicators.TOPIC, plans.TOPIC, notify.TOPIC)
"""Topics whose domain events are pushed outward."""


@dataclass
class Service:
    settings: Settings
    broker: KafkaBroker
    mongo: AsyncMongoClient
    publisher: EventPublisher
    app: FastAPI
    store: Store
    worker: DeliveryWorker
    hub: LiveHub


def bootstrap(settings: Settings | None = None, *, resolver: Resolver | None = None) -> Service:
    settings = settings or Settings()
    setup_logging(settings)
    setup_tracing(settings)
    broker = make_broker(settings)
    mongo = make_client(settings)
    publisher = EventPublisher(settings)
    store = Store(database(mongo, settings))
    names = OrgNames(store)
    guard = TargetGuard(
        parse_networks(settings.webhook_allow_networks), resolver or system_resolver
    )
    worker = DeliveryWorker(
        store,
        WebhookSender(guard, settings.webhook_timeout_s),
        publisher,
        source=settings.source,
        schedule=RetrySchedule(tuple(settings.webhook_retry_schedule_s)),
        disable_after=dt.timedelta(seconds=settings.webhook_disable_after_s),
        lease=dt.timedelta(seconds=settings.webhook_lease_s),
        poll_interval_s=settings.webhook_poll_interval_s,
        batch_size=settings.webhook_batch_size,
    )
    fanout = FanOut(store, names, wake=worker.wake)
    topics = [settings.topic_name(t) for t in (org_units.TOPIC, *EVENT_TOPICS)]
    subscribe_events(
        broker,
        *topics,
        group_id=settings.consumer_group(settings.notify_consumer_group),
        handler=fanout.handle,
        dead_letters=DeadLetters(
            publisher.send_raw, settings.consumer_group(settings.notify_consumer_group)
        ),
        max_records=500,
    )
    hub = LiveHub(names, settings.live_queue_size, settings, checkpoint_s=settings.sse_ping_s)
    live = LiveConsumer(settings, topics, hub)
    retention = RetentionSweeper(
        store, settings.webhook_delivery_retention_days, settings.webhook_retention_interval_s
    )
    app = create_service_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        broker=broker,
        mongo=mongo,
        publisher=publisher,
        routers=[http.router],
        on_start=[store.create_indexes, live.start, worker.start, retention.start],
        on_stop=[retention.stop, worker.stop, live.stop],
    )
    app.state.notify = http.Components(
        store, guard, names, hub, settings.sse_ping_s, settings.webhook_secret_overlap_s
    )
    return Service(settings, broker, mongo, publisher, app, store, worker, hub)
