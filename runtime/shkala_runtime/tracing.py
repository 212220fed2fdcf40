"""Spans for the business steps, continuing the trace each event carries in its headers.

Batch subscribers get one span per batch with *links*; to keep one trace from upload to
webhook, the handler opens a child span of each event's own ``traceparent`` with
:func:`event_span`, and everything published inside it carries that trace on (see
``Outgoing.of``). Attributes carry tenant ids and event types, never personal data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind

if TYPE_CHECKING:
    from shkala_runtime.consuming import Delivered

tracer = trace.get_tracer("shkala")


def tenant_attributes(
    region: str | None, municipality: str | None, school: str | None
) -> dict[str, str]:
    pairs = (
        ("shkala.region", region),
        ("shkala.municipality", municipality),
        ("shkala.school", school),
    )
    return {k: v for k, v in pairs if v}


@contextmanager
def event_span(delivered: Delivered, name: str, **attributes: Any) -> Iterator[Span]:
    """A consumer span that is a child of the span which published ``delivered``."""
    carrier = {
        k: v.decode()
        for k, v in delivered.record.headers or ()
        if k in ("traceparent", "tracestate")
    }
    env = delivered.envelope
    attrs = {
        "messaging.system": "kafka",
        "messaging.destination.name": delivered.position.topic,
        "messaging.kafka.partition": delivered.position.partition,
        "messaging.kafka.offset": delivered.position.offset,
        "cloudevents.event_type": env.type,
        "cloudevents.event_id": env.id,
        **tenant_attributes(env.tenant.region, env.tenant.municipality, env.tenant.school),
        **attributes,
    }
    with tracer.start_as_current_span(
        name, context=propagate.extract(carrier), kind=SpanKind.CONSUMER, attributes=attrs
    ) as span:
        yield span


def current_trace_headers() -> tuple[str | None, str | None]:
    """W3C ``traceparent``/``tracestate`` of the current span (None outside any span).

    Formatted directly rather than through the propagator: ingest calls this once per row.
    """
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    parent = f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"
    return parent, (ctx.trace_state.to_header() or None) if ctx.trace_state else None
