"""The CloudEvents 1.0 envelope in Kafka binary mode, plus tenant and W3C trace context.

Binary mode: the event data is the Kafka value (JSON); every attribute is a header
``ce_<name>``. Tenant and originator travel as CloudEvents extension attributes
(lowercase alphanumeric names, as the spec requires).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shkala_contracts.base import Event, Fact
from shkala_contracts.domain_event import DomainEvent

SPECVERSION: Literal["1.0"] = "1.0"
CONTENT_TYPE = "application/json"
SCHEMA_URI = "urn:shkala:schema:{type}"

Header = tuple[str, bytes]


class Tenant(BaseModel):
    """Who owns the data: region, municipality, school (the last two optional)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    municipality: str | None = None
    school: str | None = None


class EnvelopeError(ValueError):
    """A message's headers do not make a valid envelope."""


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    specversion: Literal["1.0"] = SPECVERSION
    time: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    subject: str
    dataschema: str
    datacontenttype: str = CONTENT_TYPE
    tenant: Tenant
    originator_id: str
    originator_version: int = Field(ge=1)
    traceparent: str | None = None
    tracestate: str | None = None

    @classmethod
    def for_event(
        cls,
        event: Event,
        *,
        source: str,
        tenant: Tenant,
        originator_version: int = 1,
        id: str | None = None,
        time: dt.datetime | None = None,
        traceparent: str | None = None,
        tracestate: str | None = None,
    ) -> Envelope:
        if isinstance(event, DomainEvent):
            originator, version = event.originator_id, event.originator_version
        elif isinstance(event, Fact):
            originator, version = event.originator_id(), originator_version
        else:  # pragma: no cover - every event is one or the other
            raise TypeError(f"{type(event).__name__} is neither a Fact nor a DomainEvent")
        extra = {k: v for k, v in (("id", id), ("time", time)) if v is not None}
        return cls(
            source=source,
            type=event.event_type,
            subject=originator,
            dataschema=SCHEMA_URI.format(type=event.event_type),
            tenant=tenant,
            originator_id=originator,
            originator_version=version,
            traceparent=traceparent,
            tracestate=tracestate,
            **extra,
        )

    def with_trace(self, traceparent: str | None, tracestate: str | None = None) -> Envelope:
        return self.model_copy(update={"traceparent": traceparent, "tracestate": tracestate})

    def to_headers(self) -> list[Header]:
        pairs: list[tuple[str, str | None]] = [
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_specversion", self.specversion),
            ("ce_time", self.time.isoformat().replace("+00:00", "Z")),
            ("ce_subject", self.subject),
            ("ce_dataschema", self.dataschema),
            ("content-type", self.datacontenttype),
            ("ce_region", self.tenant.region),
            ("ce_municipality", self.tenant.municipality),
            ("ce_school", self.tenant.school),
            ("ce_originatorid", self.originator_id),
            ("ce_originatorversion", str(self.originator_version)),
            ("traceparent", self.traceparent),
            ("tracestate", self.tracestate),
        ]
        return [(k, v.encode()) for k, v in pairs if v is not None]

    @classmethod
    def from_headers(cls, headers: Iterable[Header] | Mapping[str, bytes | str]) -> Envelope:
        items = headers.items() if isinstance(headers, Mapping) else headers
        h = {k: (v.decode() if isinstance(v, bytes | bytearray) else v) for k, v in items}
        missing = [
            n
            for n in (
                "ce_id",
                "ce_source",
                "ce_type",
                "ce_specversion",
                "ce_time",
                "ce_subject",
                "ce_region",
                "ce_originatorid",
                "ce_originatorversion",
            )
            if not h.get(n)
        ]
        if missing:
            raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
        try:
            return cls(
                id=h["ce_id"],
                source=h["ce_source"],
                type=h["ce_type"],
                specversion=h["ce_specversion"],
                time=h["ce_time"],
                subject=h["ce_subject"],
                dataschema=h.get("ce_dataschema") or SCHEMA_URI.format(type=h["ce_type"]),
                datacontenttype=h.get("content-type") or CONTENT_TYPE,
                tenant=Tenant(
                    region=h["ce_region"],
                    municipality=h.get("ce_municipality"),
                    school=h.get("ce_school"),
                ),
                originator_id=h["ce_originatorid"],
                originator_version=int(h["ce_originatorversion"]),
                traceparent=h.get("traceparent"),
                tracestate=h.get("tracestate"),
            )
        except (ValueError, TypeError) as exc:
            raise EnvelopeError(f"invalid CloudEvents headers: {exc}") from exc
