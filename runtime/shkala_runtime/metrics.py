"""Prometheus series every service exposes on ``/metrics`` (plus FastStream's own)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter(
    "shkala_events_published_total", "Events acknowledged by Kafka", ["service", "event_type"]
)
EVENTS_CONSUMED = Counter(
    "shkala_events_consumed_total", "Events handled by a consumer group", ["group", "event_type"]
)
DEAD_LETTERS = Counter(
    "shkala_dead_letters_total", "Messages sent to a dead-letter topic", ["group", "topic"]
)
CONSUMER_LAG = Gauge(
    "shkala_consumer_lag",
    "Messages behind the partition's high watermark after a batch",
    ["group", "topic", "partition"],
)
HTTP_REQUESTS = Counter(
    "shkala_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "shkala_http_request_seconds", "HTTP request duration", ["service", "method", "route"]
)
