"""Whole views on another basis (ADR 0010), on in-memory pages and read table: approved-only
figures stay at the values each school had when its period was approved, unapproved schools
are left out and counted; ``as_of`` and ``definition_version`` for the municipality table,
the region summary, the lists and the rating. Expected values are counted by hand below
(share of mark «2» = results with mark 2 / results × 100), never taken from the code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fakes import FakePages, FakePointer
from test_read_table import CAT, P, school, value

from shkala_contracts import Envelope, Tenant
from shkala_contracts.events import cycle
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.plans import TOPIC as PLANS
from shkala_indicators.adapters.store import unpack
from shkala_indicators.domain import catalogue as cat
from shkala_indicators.domain.compute import compute_school
from shkala_indicators.domain.rows import compact
from shkala_indicators.entrypoints.http import parse_as_of
from shkala_indicators.service_layer.read import ReadModel
from shkala_indicators.service_layer.read_analyses import Analyses
from shkala_indicators.service_layer.read_table import ReadTable
from shkala_indicators.service_layer.read_views import UnknownPosition, View
from shkala_runtime.consuming import Delivered, LogPosition
from shkala_runtime.problems import Problem

MATH, RUS = "vpr_mark2_share_math", "vpr_mark2_share_rus"
T0 = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(days=1)  # s1 and s3 approved
T2 = T0 + dt.timedelta(days=2)  # later data for s1
FACTS = "shkala.facts.assessment.v1"


def at(event: Any, topic: str, offset: int, time: dt.datetime) -> Delivered:
    env = Envelope.for_event(event, source="/t", tenant=Tenant(region="r"), time=time)
    return Delivered(env, event, LogPosition(topic, 0, offset), None, 0)  # type: ignore[arg-type]


def result(
    sid: str, n: int, mark: int, time: dt.datetime, offset: int, *,
    subject: str = "математика", grade: int = 5, v: int = 1,
) -> dict[str, Any]:  # fmt: skip
    """A stored fact record as the store packs it (one ВПР result)."""
    return {
        "oid": f"assessment:{sid}:{subject}:{grade}:{n}",
        "type": AssessmentResultRecorded.event_type,
        "v": v,
        "topic": FACTS,
        "partition": 0,
        "offset": offset,
        "time": time.isoformat(),
        "data": {
            "school_id": sid, "academic_year": P, "procedure": "ВПР", "subject": subject,
            "grade": grade, "student": f"p{n:024d}", "mark": mark, "journal_mark": 4,
            "tasks": [],
        },
    }  # fmt: skip


def period(kind: type, sid: str, version: int, **extra: Any) -> Any:
    return kind(
        originator_id=f"period:{sid}:2025-26",
        originator_version=version,
        region_id="r",
        municipality_id="m1",
        school_id=sid,
        period=P,
        actor_role="municipality",
        actor_unit="m1",
        **extra,
    )


class World:
    """Three schools of m1. At T0: s1 4 results, 1 mark «2»; s2 2 results, 1 «2»; s3 2
    results, none. s1 and s3 approved at T1, s2 only submitted. At T2 s1 gets 4 more
    results, all «2», and one of its T0 results is corrected from 4 to 2."""

    def __init__(self) -> None:
        self.pages = FakePages()
        self.table = ReadTable(CAT)
        self.read = ReadModel(FakePointer(self.pages), CAT, self.table, cat.load_versions())  # type: ignore[arg-type]
        self.table.fold([at(school(s), "org", i, T0) for i, s in enumerate(("s1", "s2", "s3"))])
        off = 0
        for sid, marks in (("s1", [2, 4, 4, 5]), ("s2", [2, 3]), ("s3", [4, 5])):
            facts = []
            for n, m in enumerate(marks):
                facts.append(result(sid, n, m, T0, off))
                off += 1
            self.pages.add(sid, P, 0, facts)
        self.live(("s1", 1, 4, 1), ("s2", 1, 2, 1), ("s3", 0, 2, 1))
        self.table.fold(
            [
                at(period(cycle.MonitoringPeriodSubmitted, "s1", 2), PLANS, 0, T0),
                at(period(cycle.MonitoringPeriodApproved, "s1", 3), PLANS, 1, T1),
                at(period(cycle.MonitoringPeriodSubmitted, "s2", 2), PLANS, 2, T1),
                at(period(cycle.MonitoringPeriodApproved, "s3", 3), PLANS, 3, T1),
            ]
        )
        self.next_offset = off

    def live(self, *values: tuple[str, float, float, int]) -> None:
        """What the projection publishes for the maths share (counted by hand by the
        caller), and for the school's other indicators (the projection's own formulas: the
        live table must hold a whole school for "changed since approval" to mean anything)."""
        events = []
        for s, n, d, v in values:
            events.append(value(s, MATH, n, d, v))
            facts = [compact(f["data"], f["type"]) for f in self.current(s)]
            for ind, x in compute_school(CAT, facts).items():
                if ind != MATH:
                    e = value(s, ind, x.numerator, x.denominator, v)
                    events.append(e.model_copy(update={"new_value": x.value}))
        self.table.fold([at(e, "ev", i, T0) for i, e in enumerate(events)])

    def current(self, sid: str) -> list[dict[str, Any]]:
        best: dict[str, dict[str, Any]] = {}
        for p in self.pages.pages:
            if p["school_id"] == sid:
                for f in unpack(p["facts"]):
                    if f["oid"] not in best or f["v"] > best[f["oid"]]["v"]:
                        best[f["oid"]] = f
        return list(best.values())

    def later_data(self) -> None:
        off = self.next_offset
        facts = [result("s1", 10 + i, 2, T2, off + i) for i in range(4)]
        facts.append(result("s1", 1, 2, T2, off + 4, v=2))  # the correction of result 1
        self.pages.add("s1", P, 0, facts)
        self.live(("s1", 6, 8, 2))  # what the projection then published: 6 «2» of 8


async def no_freshness(*_: Any) -> dict[str, Any]:
    return {}


@pytest.fixture
def world() -> World:
    w = World()
    w.read.freshness = no_freshness  # type: ignore[method-assign]
    return w


async def test_approved_stays_at_the_approved_value_while_live_moves(world: World) -> None:
    approved = View(basis="approved")
    before = await world.read.municipality_table("m1", P, None, False, approved)
    world.later_data()
    live = await world.read.municipality_table("m1", P, None, False, View())
    after = await world.read.municipality_table("m1", P, None, False, approved)
    assert live["basis"] == "live"
    assert {r["school_id"]: r["values"][MATH] for r in live["rows"]} == {
        "s1": 75.0, "s2": 50.0, "s3": 0.0,
    }  # fmt: skip
    assert live["municipality"][MATH]["value"] == pytest.approx(7 / 12 * 100, abs=1e-6)
    for table in (before, after):
        assert table["basis"] == "approved"
        assert {r["school_id"]: r["values"][MATH] for r in table["rows"]} == {"s1": 25.0, "s3": 0.0}
        assert table["municipality"][MATH]["value"] == pytest.approx(1 / 6 * 100, abs=1e-6)
        assert (
            table["municipality"][MATH]["numerator"],
            table["municipality"][MATH]["denominator"],
        ) == (1, 6)
        assert table["counted"]["schools"] == 2
        assert table["counted"]["of"] == 3
        assert table["counted"]["left_out"] == [
            {"school_id": "s2", "name": "s2", "approval": "submitted"}
        ]
    s1 = next(r for r in after["rows"] if r["school_id"] == "s1")
    assert s1["approved_at"] == T1
    assert s1["changed_since_approval"] is True
    assert (
        next(r for r in before["rows"] if r["school_id"] == "s1")["changed_since_approval"] is False
    )


async def test_region_summary_on_approved_basis_counts_the_schools(world: World) -> None:
    world.later_data()
    summary = await world.read.region_summary("r", P, View(basis="approved"))
    assert summary["region"][MATH]["value"] == pytest.approx(1 / 6 * 100, abs=1e-6)
    assert summary["municipalities"]["m1"][MATH]["schools_counted"] == 2
    assert summary["counted"]["schools"] == 2
    assert summary["counted"]["of"] == 3
    assert summary["by_municipality"]["m1"]["counted"]["schools"] == 2
    assert summary["approval"]["region"]["approved"] == 2
    assert summary["approval"]["municipalities"]["m1"]["by_state"]["submitted"] == 1
    live = await world.read.region_summary("r", P)
    assert live["basis"] == "live"
    assert live["region"][MATH]["value"] == pytest.approx(7 / 12 * 100, abs=1e-6)


async def test_a_reopened_period_leaves_the_approved_basis(world: World) -> None:
    world.table.fold(
        [at(period(cycle.MonitoringPeriodReopened, "s3", 5, reason="ошибка"), PLANS, 9, T2)]
    )
    table = await world.read.municipality_table("m1", P, None, False, View(basis="approved"))
    assert [r["school_id"] for r in table["rows"]] == ["s1"]
    assert {x["school_id"]: x["approval"] for x in table["counted"]["left_out"]} == {
        "s2": "submitted", "s3": "open",
    }  # fmt: skip


async def test_a_locked_period_counts_with_its_approval(world: World) -> None:
    world.later_data()
    world.table.fold([at(period(cycle.MonitoringPeriodLocked, "s1", 4), PLANS, 9, T2)])
    table = await world.read.municipality_table("m1", P, None, False, View(basis="approved"))
    s1 = next(r for r in table["rows"] if r["school_id"] == "s1")
    assert (s1["approval"], s1["approved_at"], s1["values"][MATH]) == ("locked", T1, 25.0)


async def test_as_of_gives_the_table_from_the_facts_written_by_then(world: World) -> None:
    world.later_data()
    between = T1 + dt.timedelta(hours=1)
    table = await world.read.municipality_table("m1", P, None, False, View(as_of=between))
    assert {r["school_id"]: r["values"][MATH] for r in table["rows"]} == {
        "s1": 25.0, "s2": 50.0, "s3": 0.0,
    }  # fmt: skip
    assert table["approval"]["approved"] == 2  # as it stood then
    early = await world.read.municipality_table(
        "m1", P, None, False, View(as_of=T0 - dt.timedelta(1))
    )
    assert [r["values"] for r in early["rows"]] == [{}, {}, {}]
    assert early["municipality"] == {}
    assert early["approval"]["approved"] == 0
    # a log position: its own partition by offset (the first T2 fact only), others by time
    pos = (FACTS, 0, world.next_offset)
    by_pos = await world.read.municipality_table("m1", P, None, False, View(as_of=pos))
    assert {r["school_id"]: r["values"][MATH] for r in by_pos["rows"]}["s1"] == 40.0  # 2 of 5
    with pytest.raises(UnknownPosition):
        await world.read.municipality_table("m1", P, None, False, View(as_of=(FACTS, 0, 999)))


async def test_an_earlier_definition_version_for_the_table(world: World) -> None:
    # 2025.1 counted grade 5 only: a grade-8 result of s3 with mark «2» does not count
    world.pages.add("s3", P, 0, [result("s3", 7, 2, T0, 500, grade=8)])
    world.live(("s3", 1, 3, 2))
    now = await world.read.municipality_table("m1", P, None, False, View())
    old = await world.read.municipality_table(
        "m1", P, None, False, View(definition_version="2025.1")
    )
    assert next(r for r in now["rows"] if r["school_id"] == "s3")["values"][MATH] == pytest.approx(
        100 / 3, abs=1e-6
    )
    assert next(r for r in old["rows"] if r["school_id"] == "s3")["values"][MATH] == 0.0
    assert old["definition_version"] == "2025.1"


async def test_lists_and_rating_entries_carry_their_schools_state(world: World) -> None:
    # s2 is at risk in maths and Russian (ШНОР: two risky ВПР shares «за 2 года», seed 002;
    # what the projection would publish from the rolls of a school context, given here)
    world.pages.add("s2", P, 0, [result("s2", 20, 2, T0, 600, subject="русский язык")])
    world.table.fold([at(value("s2", RUS, 1, 1, 1), "ev", 50, T0)])
    world.table.fold(
        [
            at(value("s2", f"vpr_mark2_share_2y_{subject}", 1, 2, 1), "ev", 51 + i, T0)
            for i, subject in enumerate(("math", "rus"))
        ]
    )
    live = await world.read.risk_list("ШНОР", P, "2024/25", "m1")
    assert [(m["school_id"], m["approval"]) for m in live["members"]] == [("s2", "submitted")]
    assert live["basis"] == "live"
    assert live["approval"]["approved"] == 2
    approved = await world.read.risk_list("ШНОР", P, "2024/25", "m1", view=View(basis="approved"))
    assert approved["members"] == []
    assert approved["counted"]["schools"] == 2
    rating = await Analyses(world.read).rating("m1", P)
    assert {r["school_id"]: r["approval"] for r in rating["rows"]} == {
        "s1": "approved", "s2": "submitted", "s3": "approved",
    }  # fmt: skip
    rated = await Analyses(world.read).rating("m1", P, View(basis="approved"))
    assert {r["school_id"] for r in rated["rows"]} == {"s1", "s3"}
    assert all(r["approval"] == "approved" and r["approved_at"] == T1 for r in rated["rows"])
    # maths only (the others have no values): s3 (0 %) best, s1 (25 %) worst
    assert [r["school_id"] for r in rated["rows"]] == ["s3", "s1"]


async def test_approved_snapshots_are_cached_until_the_school_changes(world: World) -> None:
    approved = View(basis="approved")
    await world.read.municipality_table("m1", P, None, False, approved)
    scans = world.pages.scans
    await world.read.municipality_table("m1", P, None, False, approved)
    assert world.pages.scans == scans  # nothing changed: no page read
    world.later_data()
    await world.read.municipality_table("m1", P, None, False, approved)
    # one recomputation: the period's pages and the previous year's (the shares «за 2 года»)
    assert world.pages.scans == scans + 2


def test_as_of_is_a_moment_or_a_log_position_and_anything_else_a_clear_error() -> None:
    assert parse_as_of("2026-03-01") == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)  # its start
    assert parse_as_of("2026-03-01T12:30:00Z") == dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC)
    assert parse_as_of("shkala.facts.assessment.v1:3:1520") == (FACTS, 3, 1520)
    for bad in ("вчера", "2026-13-01", "shkala.facts.assessment.v1:3:99999999999999999999"):
        with pytest.raises(Problem) as exc:
            parse_as_of(bad)
        assert exc.value.status == 422
        assert repr(bad) in exc.value.detail
