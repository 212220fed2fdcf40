"""Contracts: round trips, the natural key rules, the envelope, and schema drift."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from pydantic import ValidationError

from shkala_contracts import EVENT_TYPES, Envelope, EnvelopeError, Tenant, all_topics, event_class
from shkala_contracts.events.assessment import AssessmentResultRecorded, TaskScore
from shkala_contracts.events.indicators import IndicatorValueChanged
from shkala_contracts.events.school_context import SchoolContextReported
from shkala_contracts.generate import expected_files

STUDENT = "p" + "a1" * 12


def vpr(**overrides: object) -> AssessmentResultRecorded:
    fields: dict[str, object] = dict(
        school_id="sch-001",
        academic_year="2025/26",
        procedure="ВПР",
        subject="математика",
        grade=5,
        class_label="5А",
        student=STUDENT,
        mark=3,
        journal_mark=4,
        tasks=[
            {"task": "1", "points": 1, "max_points": 1},
            {"task": "2", "points": 0, "max_points": 2},
        ],
    )
    fields.update(overrides)
    return AssessmentResultRecorded.model_validate(fields)


def test_fact_round_trips_through_json() -> None:
    fact = vpr()
    again = AssessmentResultRecorded.model_validate_json(fact.model_dump_json())
    assert again == fact
    assert again.tasks[1] == TaskScore(task="2", points=0, max_points=2)


def test_events_are_frozen() -> None:
    with pytest.raises(ValidationError):
        vpr().mark = 5  # type: ignore[misc]


def test_resubmission_with_new_mark_has_the_same_natural_key() -> None:
    first, corrected = vpr(mark=2), vpr(mark=4)
    assert first.natural_key() == corrected.natural_key()
    assert first.originator_id() == corrected.originator_id()


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "русский язык"},
        {"academic_year": "2024/25"},
        {"grade": 6},
        {"procedure": "РДР"},
        {"student": "p" + "b2" * 12},
    ],
)
def test_a_different_result_has_a_different_key(change: dict[str, object]) -> None:
    assert vpr().natural_key() != vpr(**change).natural_key()


def test_class_label_is_not_part_of_the_key() -> None:
    """Moving a student between classes corrects the result; it is not a second result."""
    assert vpr(class_label="5А").natural_key() == vpr(class_label="5Б").natural_key()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mark": 6}, "less than or equal to 5"),
        ({"academic_year": "2025/27"}, "two consecutive years"),
        ({"student": "Иванов Иван"}, "String should match pattern"),
        ({"mark": None}, "needs a mark"),
        ({"tasks": [{"task": "1", "points": 3, "max_points": 2}]}, "above max"),
        ({"procedure": "ЕГЭ", "mark": None}, "test_score"),
    ],
)
def test_invalid_facts_are_rejected_with_the_reason(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        vpr(**change)


def test_school_context_counts_cannot_exceed_total() -> None:
    with pytest.raises(ValidationError, match="not_attested exceeds"):
        SchoolContextReported(
            school_id="s1",
            academic_year="2025/26",
            as_of=dt.date(2025, 9, 1),
            students_total=10,
            on_juvenile_register=0,
            migrant_or_low_russian=0,
            special_needs_confirmed=0,
            not_attested=11,
            remote=False,
            small_school=False,
            infrastructure_deficit=False,
        )


def test_envelope_round_trips_through_kafka_headers() -> None:
    fact = vpr()
    env = Envelope.for_event(
        fact,
        source="/shkala/ingest",
        originator_version=2,
        tenant=Tenant(region="r1", municipality="m1", school="sch-001"),
    )
    env = env.with_trace("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    headers = env.to_headers()
    names = {k for k, _ in headers}
    assert {
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_time",
        "ce_subject",
        "ce_dataschema",
        "traceparent",
    } <= names
    back = Envelope.from_headers(headers)
    assert back == env
    assert back.originator_id == fact.originator_id()
    assert back.originator_version == 2
    assert event_class(back.type) is AssessmentResultRecorded


def test_domain_event_envelope_takes_originator_from_the_event() -> None:
    event = IndicatorValueChanged(
        originator_id="indicator:share_vpr_2:sch-1:2025/26",
        originator_version=3,
        region_id="r1",
        municipality_id="m1",
        school_id="sch-1",
        indicator_id="share_vpr_2",
        direction="low_results",
        scope="school",
        period="2025/26",
        definition_version="1",
        old_value=10.0,
        new_value=12.5,
        numerator=5,
        denominator=40,
    )
    env = Envelope.for_event(event, source="/shkala/indicators", tenant=Tenant(region="r1"))
    assert (env.originator_id, env.originator_version) == (event.originator_id, 3)
    assert event.partition_key() == "sch-1"


def test_envelope_without_required_headers_names_them() -> None:
    with pytest.raises(EnvelopeError, match="ce_type"):
        Envelope.from_headers([("ce_id", b"1")])


def test_every_event_type_is_versioned_and_has_a_topic() -> None:
    topic_names = {t.name for t in all_topics()}
    for event_type, cls in EVENT_TYPES.items():
        assert re.fullmatch(r".+\.v[1-9][0-9]*", event_type), event_type
        assert cls.topic in topic_names, (event_type, cls.topic)
        assert f"{cls.topic}.dlq" in topic_names


def test_committed_schemas_and_asyncapi_match_the_models() -> None:
    """Drift guard: regenerate with `uv run python -m shkala_contracts.generate`."""
    for path, text in expected_files().items():
        assert path.exists(), f"{path} missing: run python -m shkala_contracts.generate"
        assert path.read_text(encoding="utf-8") == text, f"{path.name} drifted from the models"


def test_asyncapi_names_every_event_and_the_cloudevents_headers() -> None:
    doc = json.loads(
        expected_files()[next(p for p in expected_files() if p.name == "asyncapi.json")]
    )
    assert doc["asyncapi"] == "3.0.0"
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert names == set(EVENT_TYPES)
    headers = doc["components"]["schemas"]["CloudEventsKafkaHeaders"]
    assert "ce_type" in headers["required"]


def test_school_context_v2_carries_the_seed_denominators_and_corrects_v1() -> None:
    """v2 adds graduates and rolls per parallel (seed 002's denominators); a v1 subscriber's
    schema forbids extra fields, hence a new type; same stream as v1 (a v2 report corrects)."""
    from shkala_contracts.events.school_context import SchoolContextReportedV2

    base = dict(
        school_id="s1", academic_year="2025/26", as_of=dt.date(2025, 9, 1), students_total=100,
        on_juvenile_register=0, migrant_or_low_russian=0, special_needs_confirmed=0,
        not_attested=0, remote=False, small_school=False, infrastructure_deficit=False,
    )  # fmt: skip
    v2 = SchoolContextReportedV2(**base, graduates_9=10, enrolled_grade_9=12, enrolled_grade_5=20)
    assert v2.event_type == "ru.shkala.fact.school_context.v2"
    assert v2.originator_id() == SchoolContextReported(**base).originator_id()
    with pytest.raises(ValidationError, match="graduates_9 exceeds enrolled_grade_9"):
        SchoolContextReportedV2(**base, graduates_9=13, enrolled_grade_9=12)
    with pytest.raises(ValidationError, match="more than students_total"):
        SchoolContextReportedV2(**base, enrolled_grade_5=60, enrolled_grade_6=41)
    with pytest.raises(ValidationError):
        SchoolContextReported(**base, graduates_9=10)  # v1 stays as it was


def test_ege_base_maths_takes_a_mark_and_no_test_score() -> None:
    base = dict(
        school_id="s1", academic_year="2025/26", procedure="ЕГЭ", grade=11, student="p" + "a" * 24,
    )  # fmt: skip
    ok = AssessmentResultRecorded(**base, subject="математика базовая", mark=4)
    assert ok.test_score is None
    with pytest.raises(ValidationError, match="mark"):
        AssessmentResultRecorded(**base, subject="математика базовая", test_score=60)
    with pytest.raises(ValidationError, match="test_score"):
        AssessmentResultRecorded(**base, subject="математика профильная", mark=4)
