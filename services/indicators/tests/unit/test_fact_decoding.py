"""The projection's decoding of bulk facts: what it reads is checked, a bad record is refused
with the field named (and dead-lettered by the runtime), other events are validated whole."""

from __future__ import annotations

import pytest
from aiokafka.structs import ConsumerRecord

from shkala_contracts import Tenant
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.school_context import SchoolContextReported
from shkala_indicators.adapters.fact_decoding import decode_fact
from shkala_runtime.kafka import Outgoing

T = Tenant(region="r", municipality="m", school="s1")


def record(out: Outgoing, value: bytes | None = None) -> ConsumerRecord[bytes, bytes]:
    body = value if value is not None else out.event.model_dump_json().encode()
    return ConsumerRecord(
        "t", 0, 7, 0, 0, b"s1", body, None, len(body), 0, out.envelope.to_headers()
    )


def vpr(**kw: object) -> Outgoing:
    fields = dict(school_id="s1", academic_year="2025/26", procedure="ВПР",
                  subject="математика", grade=5, student="p" + "a1" * 12, mark=2)  # fmt: skip
    return Outgoing.of(AssessmentResultRecorded(**{**fields, **kw}), source="/t", tenant=T)


def test_a_valid_result_is_read_from_its_json() -> None:
    d = decode_fact(record(vpr()))
    assert (d.event.school_id, d.event.academic_year) == ("s1", "2025/26")  # type: ignore[attr-defined]
    assert d.event.payload["mark"] == 2  # type: ignore[attr-defined]
    assert d.position.offset == 7


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"school_id": "s1"', "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"school_id": "s1", "academic_year": "2025/26"}', "'procedure' missing"),
        (
            b'{"school_id": "s1", "academic_year": "2025/26", "procedure": "\xd0\x92", '
            b'"subject": "m", "grade": "5", "student": "p"}',
            "'grade'",
        ),
        (
            b'{"school_id": "s1", "academic_year": "2025/26", "procedure": "x", '
            b'"subject": "m", "grade": 5, "student": "p", "mark": true}',
            "'mark'",
        ),
    ],
)
def test_a_bad_result_is_refused_naming_the_field(body: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        decode_fact(record(vpr(), body))


def test_other_events_are_validated_whole() -> None:
    ctx = SchoolContextReported.model_construct()  # only for its envelope type
    out = vpr()
    env = out.envelope.model_copy(update={"type": ctx.event_type})
    rec = record(Outgoing(out.event, env), b'{"school_id": "s1"}')
    with pytest.raises(ValueError, match="validation error"):
        decode_fact(rec)
