"""Tracing (OpenTelemetry, OTLP by the standard ``OTEL_*`` variables) and JSON logs.

Spans and logs carry tenant ids and event types, never student or teacher identifiers.
"""

from __future__ import annotations

import logging
import os
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pythonjsonlogger.json import JsonFormatter

from shkala_runtime.settings import ServiceSettings

_provider: TracerProvider | None = None


def setup_tracing(settings: ServiceSettings, *extra: SpanProcessor) -> TracerProvider:
    """Install the tracer provider once; export by OTLP when an endpoint is configured."""
    global _provider
    if _provider is None:
        _provider = TracerProvider(
            resource=Resource.create(
                {
                    "service.name": os.environ.get(
                        "OTEL_SERVICE_NAME", f"shkala-{settings.service_name}"
                    ),
                    "service.namespace": "shkala",
                }
            )
        )
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        ):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(_provider)
        _instrument_clients()
    for processor in extra:
        _provider.add_span_processor(processor)
    return _provider


def _instrument_clients() -> None:
    """Database commands and outgoing HTTP calls get spans (and carry trace context)."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

    PymongoInstrumentor().instrument(capture_statement=False)  # statements may hold pseudonyms
    HTTPXClientInstrumentor().instrument()


class _TraceIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = f"{ctx.trace_id:032x}" if ctx.is_valid else None
        record.span_id = f"{ctx.span_id:016x}" if ctx.is_valid else None
        return True


def setup_logging(settings: ServiceSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_TraceIds())
    if settings.log_json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": settings.service_name},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("aiokafka", "pymongo", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
