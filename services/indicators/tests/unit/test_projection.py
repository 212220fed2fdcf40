"""The projection use case against in-memory fakes: decide, then commit once per batch;
a redelivery changes nothing; a correction replaces; a failed commit leaves memory behind
nothing; a partition reloaded from the store decides as before."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fakes import FakePublisher, FakeStore

from shkala_contracts import Envelope, Tenant
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.org_units import SchoolRegistered
from shkala_indicators.domain import catalogue as cat
from shkala_indicators.service_layer.projection import Projector
from shkala_runtime.consuming import Delivered, LogPosition

CAT = cat.load()
KEY = "vpr_mark2_share_math"
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def delivered(event: Any, topic: str, offset: int, version: int = 1, part: int = 0) -> Delivered:
    tenant = Tenant(region="r", municipality="m", school=getattr(event, "school_id", None))
    env = Envelope.for_event(event, source="/t", tenant=tenant, originator_version=version)
    return Delivered(env, event, LogPosition(topic, part, offset), None, 0)  # type: ignore[arg-type]


def school(sid: str = "s1", offset: int = 0, part: int = 0) -> Delivered:
    e = SchoolRegistered(region_id="r", municipality_id="m", school_id=sid, name=sid)
    return delivered(e, "org", offset, part=part)


def vpr(student: str, mark: int, offset: int, version: int = 1, sid: str = "s1") -> Delivered:
    e = AssessmentResultRecorded(
        school_id=sid,
        academic_year="2025/26",
        procedure="ВПР",
        subject="математика",
        grade=5,
        student=student,
        mark=mark,
        journal_mark=4,
    )
    return delivered(e, "facts", offset, version)


def values(pub: FakePublisher) -> list[tuple[Any, Any, int]]:
    return [
        (o.event.old_value, o.event.new_value, o.event.originator_version)
        for o in pub.sent
        if getattr(o.event, "indicator_id", None) == KEY
        and o.event.event_type.endswith("value_changed.v1")
    ]


S1, S2 = "p" + "a1" * 12, "p" + "b2" * 12


async def test_decide_then_commit_once_per_batch_and_redelivery_changes_nothing() -> None:
    store, pub = FakeStore(), FakePublisher()
    proj = Projector(CAT, source="/t", publisher=pub)
    batch = [school(), vpr(S1, 2, 0), vpr(S2, 4, 1)]
    assert await proj.apply(store, batch) == []
    assert len(store.commits) == 1
    assert values(pub) == [(None, 50.0, 1)]
    pages = store.pages()
    assert [(p.cell, p.seq, len(p.facts)) for p in pages] == [(("s1", "2025/26"), 1, 2)]

    sent = len(pub.sent)
    await proj.apply(store, batch)  # redelivered
    assert len(pub.sent) == sent
    assert store.commits[-1].pages == []

    # a correction replaces the first result: subtracted, not added
    await proj.apply(store, [vpr(S1, 5, 2, version=2)])
    assert values(pub)[-1] == (50.0, 0.0, 2)


async def test_a_failed_commit_drops_the_state_and_the_redelivery_applies_it() -> None:
    store, pub = FakeStore(), FakePublisher()
    proj = Projector(CAT, source="/t", publisher=pub)
    await proj.apply(store, [school(), vpr(S1, 2, 0)])
    store.fail_next = True
    with pytest.raises(ConnectionError):
        await proj.apply(store, [vpr(S2, 4, 1)])
    assert proj.states == {}  # memory is not ahead of the store
    await proj.apply(store, [vpr(S2, 4, 1)])
    # the event of the failed batch comes again with the same version (consumers dedupe)
    assert values(pub) == [(None, 100.0, 1), (100.0, 50.0, 2), (100.0, 50.0, 2)]


async def test_reloaded_partition_resumes_where_its_pages_end() -> None:
    store, pub = FakeStore(), FakePublisher()
    first = Projector(CAT, source="/t", publisher=pub)
    await first.apply(store, [school(), vpr(S1, 2, 0), vpr(S2, 4, 1)])
    second = Projector(CAT, source="/t", publisher=pub)  # another instance takes partition 0
    resume = await second.assign(store, [0])
    assert resume == {("org", 0): 1, ("facts", 0): 2}
    await second.apply(store, [vpr(S2, 2, 1, version=2)])
    assert values(pub)[-1] == (50.0, 100.0, 2)
    first.revoke([0])
    assert first.states == {}


async def test_a_fact_before_its_school_waits_for_the_registration() -> None:
    store, pub = FakeStore(), FakePublisher()
    proj = Projector(CAT, source="/t", publisher=pub)
    await proj.apply(store, [vpr(S1, 2, 0)])
    assert values(pub) == []
    assert len(store.pages()) == 1  # the fact is stored all the same
    await proj.apply(store, [school()])
    assert values(pub) == [(None, 100.0, 1)]
