"""Decoding the bulk facts for the projection: the fields it reads are checked, the event is
not rebuilt model by model.

Profiled on a backlog of ВПР results (py-spy, 150,000 events): pydantic validation of each
record (the result and its tasks, model by model) took more than half of the projection's
time. Assessment results and missed lessons — nearly every record — are therefore read
from their JSON and checked for exactly the fields the indicators use (types included);
their contract was enforced by ingest, the topics' only producer, and a record that fails
the check is dead-lettered with the reason like any undecodable one. Every other event
(org units, context, staffing, consent: few, and read whole) is validated in full.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import orjson
from aiokafka.structs import ConsumerRecord

from shkala_contracts import event_class
from shkala_indicators.domain.compute import ASSESSMENT, LESSONS
from shkala_runtime.consuming import Delivered, LogPosition, decode

_STR, _INT, _OPT_INT, _OPT_BOOL = (str,), (int,), (int, type(None)), (bool, type(None))
CHECKED: dict[str, dict[str, tuple[type, ...]]] = {
    ASSESSMENT: {
        "school_id": _STR,
        "academic_year": _STR,
        "procedure": _STR,
        "subject": _STR,
        "grade": _INT,
        "student": _STR,
        "mark": _OPT_INT,
        "journal_mark": _OPT_INT,
        "primary_score": (int, float, type(None)),
        "test_score": _OPT_INT,
        "medalist": _OPT_BOOL,
        "public_observer": _OPT_BOOL,
        "olympiad_status": (str, type(None)),
        "teacher": (str, type(None)),
    },
    LESSONS: {
        "school_id": _STR,
        "academic_year": _STR,
        "student": _STR,
        "reason": _STR,
        "lessons_missed": (int, float),
    },
}
_OPTIONAL = {"mark", "journal_mark", "primary_score", "test_score", "medalist", "public_observer",
             "olympiad_status", "teacher"}  # fmt: skip


class RawFact:
    """A checked bulk fact as the projection reads it: its class, the two ids that place it,
    its JSON (``payload``). Building the pydantic model instead cost 20 µs a record."""

    __slots__ = ("academic_year", "cls", "payload", "school_id")

    def __init__(self, cls: type, payload: dict[str, Any]) -> None:
        self.cls = cls
        self.payload = payload
        self.school_id: str = payload["school_id"]
        self.academic_year: str = payload["academic_year"]

    @property
    def event_type(self) -> str:
        return self.cls.event_type  # type: ignore[attr-defined]


def check(event_type: str, data: Any) -> None:
    """Raise ``ValueError`` naming the field when ``data`` lacks what the indicators read."""
    if not isinstance(data, dict):
        raise ValueError("the event is not a JSON object")
    for name, types in CHECKED[event_type].items():
        if name not in data:
            if name in _OPTIONAL:
                continue
            raise ValueError(f"field {name!r} missing")
        value = data[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ValueError(f"field {name!r}: {type(value).__name__} {value!r:.40}")


_REQUIRED = (
    "ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject", "ce_region",
    "ce_originatorid", "ce_originatorversion",
)  # fmt: skip


class TenantRef:
    __slots__ = ("municipality", "region", "school")

    def __init__(self, region: str, municipality: str | None, school: str | None) -> None:
        self.region, self.municipality, self.school = region, municipality, school


class HeaderEnvelope:
    """The CloudEvents headers the projection reads, checked, without building the pydantic
    ``Envelope`` (its validation was a quarter of a backlog's time in the profile)."""

    __slots__ = (
        "id", "originator_id", "originator_version", "source", "tenant", "time",
        "traceparent", "tracestate", "type",
    )  # fmt: skip

    def __init__(self, h: dict[str, str]) -> None:
        missing = [n for n in _REQUIRED if not h.get(n)]
        if missing:
            raise ValueError(f"missing CloudEvents headers: {', '.join(missing)}")
        try:
            self.time = dt.datetime.fromisoformat(h["ce_time"].replace("Z", "+00:00"))
            self.originator_version = int(h["ce_originatorversion"])
        except ValueError as exc:
            raise ValueError(f"invalid CloudEvents headers: {exc}") from exc
        if self.time.tzinfo is None or self.originator_version < 1:
            raise ValueError("invalid CloudEvents headers: time without zone or version < 1")
        self.id, self.type, self.source = h["ce_id"], h["ce_type"], h["ce_source"]
        self.originator_id = h["ce_originatorid"]
        self.tenant = TenantRef(h["ce_region"], h.get("ce_municipality"), h.get("ce_school"))
        self.traceparent, self.tracestate = h.get("traceparent"), h.get("tracestate")


def headers_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    try:
        return {k: v.decode() for k, v in record.headers or ()}
    except UnicodeDecodeError as exc:
        raise ValueError(f"headers are not UTF-8: {exc}") from exc


def decode_fact(record: ConsumerRecord[bytes, bytes]) -> Delivered:
    h = headers_of(record)
    if h.get("ce_type") not in CHECKED:
        return decode(record)
    envelope = HeaderEnvelope(h)
    if record.value is None:
        raise ValueError("empty message value")
    try:
        data = orjson.loads(record.value)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    check(envelope.type, data)
    # duck-typed stand-ins: the Envelope and Event attributes the projection reads, no more
    return Delivered(
        cast(Any, envelope),
        cast(Any, RawFact(event_class(envelope.type), data)),
        LogPosition(record.topic, record.partition, record.offset),
        record,
        record.timestamp,
    )
