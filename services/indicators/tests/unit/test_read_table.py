"""The replicated read table: folding derived events (newest version wins, a redelivery
changes nothing), roll-ups and lists on read; read-your-writes waits and reports lag."""

from __future__ import annotations

from typing import Any

import pytest

from shkala_contracts import Envelope, Tenant
from shkala_contracts.events.indicators import IndicatorValueChanged, Scope
from shkala_contracts.events.org_units import SchoolRegistered
from shkala_indicators.domain import catalogue as cat
from shkala_indicators.entrypoints.http import parse_after
from shkala_indicators.service_layer.read import NotYetApplied, ReadModel
from shkala_indicators.service_layer.read_table import ReadTable
from shkala_runtime.consuming import Delivered, LogPosition
from shkala_runtime.problems import Problem

CAT = cat.load()
P = "2025/26"


def d(event: Any, topic: str, offset: int, part: int = 0) -> Delivered:
    tenant = Tenant(region="r", municipality="m1")
    env = Envelope.for_event(event, source="/t", tenant=tenant)
    return Delivered(env, event, LogPosition(topic, part, offset), None, 0)  # type: ignore[arg-type]


def school(sid: str, mun: str = "m1") -> SchoolRegistered:
    return SchoolRegistered(region_id="r", municipality_id=mun, school_id=sid, name=sid)


def value(sid: str, ind: str, num: float, den: float, version: int) -> IndicatorValueChanged:
    return IndicatorValueChanged(
        originator_id=f"indicator:{ind}|school|{sid}|{P}",
        originator_version=version,
        region_id="r",
        municipality_id="m1",
        school_id=sid,
        indicator_id=ind,
        direction=CAT.get(ind).direction,
        scope=Scope.SCHOOL,
        period=P,
        definition_version=CAT.version,
        old_value=None,
        new_value=round(num / den * 100, 6) if den else None,
        numerator=num,
        denominator=den,
    )


def test_newest_version_wins_and_roll_ups_sum_numerators_and_denominators() -> None:
    t = ReadTable(CAT)
    ind = "vpr_mark2_share_math"
    t.fold([d(school("s1"), "org", 0), d(school("s2"), "org", 1)])
    t.fold([d(value("s1", ind, 1, 4, 2), "ev", 0), d(value("s1", ind, 3, 4, 1), "ev", 1)])
    t.fold([d(value("s2", ind, 1, 1, 1), "ev", 2)])
    assert t.school_value(ind, "s1", P)["numerator"] == 1  # version 2, not the later offset
    t.fold([d(value("s1", ind, 1, 4, 2), "ev", 0)])  # redelivered
    rolled = t.roll_up("municipality", "m1", P, t.schools_of("m1"))[ind]
    assert (rolled["numerator"], rolled["denominator"], rolled["value"]) == (2, 5, 40.0)
    # a value whose facts were corrected away leaves the card and the roll-up
    t.fold([d(value("s2", ind, 0, 0, 2), "ev", 3)])
    assert t.school_value(ind, "s2", P) is None
    assert t.roll_up("municipality", "m1", P, ["s1", "s2"])[ind]["denominator"] == 4
    assert t.positions == {("org", 0): 1, ("ev", 0): 3}


def test_lists_follow_the_school_values_by_the_catalogue_rules() -> None:
    t = ReadTable(CAT)
    t.fold([d(school("s1"), "org", 0)])
    rule = next(r for r in CAT.lists if r.name == "ШНОР")
    risky = [i for i in rule.indicators if CAT.get(i).threshold is not None][: rule.min_count]
    events = []
    for n, ind in enumerate(risky):
        th = CAT.get(ind).threshold
        assert th is not None
        num = 100.0 if th.risk_if == "above" else 0.0
        events.append(d(value("s1", ind, num, 100.0, 1), "ev", n))
    t.fold(events)
    assert t.members("ШНОР", P, ["s1"]) == {"s1": sorted(risky, key=rule.indicators.index)}


class FakeGen:
    name = "g"

    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []

    async def checkpoints(self) -> list[dict[str, Any]]:
        return self.docs


class FakePointer:
    def __init__(self, gen: FakeGen) -> None:
        self.gen = gen

    async def current(self) -> FakeGen:
        return self.gen


async def test_read_your_writes_waits_then_says_how_far_it_is() -> None:
    gen = FakeGen()
    read = ReadModel(FakePointer(gen), CAT, ReadTable(CAT))  # type: ignore[arg-type]
    read.derived_topic = "ev"
    gen.docs = [{"positions": {"facts_a|0": 10}, "derived": {"0": 4}}]
    read.table.positions[("ev", 0)] = 4
    await read.wait_for([("facts.a", 0, 10)], 100)  # applied and visible: no wait
    with pytest.raises(NotYetApplied) as exc:
        await read.wait_for([("facts.a", 0, 15)], 50)
    assert exc.value.freshness["waiting_for"] == {"facts.a:0:15": {"applied": 10, "lag": 5}}
    read.table.positions[("ev", 0)] = 3  # the projection applied it; this table lags
    with pytest.raises(NotYetApplied) as exc:
        await read.wait_for([("facts.a", 0, 10)], 50)
    assert exc.value.freshness["waiting_for"] == {"ev:0:4": {"applied": 3, "lag": 1}}


def test_a_malformed_position_is_a_clear_error() -> None:
    assert parse_after(["shkala.facts.assessment.v1:3:1520"]) == [
        ("shkala.facts.assessment.v1", 3, 1520)
    ]
    with pytest.raises(Problem) as exc:
        parse_after(["shkala.facts.assessment.v1:x"])
    assert "after='shkala.facts.assessment.v1:x'" in exc.value.detail


def test_what_a_read_derives_across_schools_is_kept_only_until_the_table_changes() -> None:
    """The objectivity screening ranks every school of the region; a quiet table answers
    it once, and any new value or org unit makes the next read compute it afresh."""
    t = ReadTable(CAT)
    ind = "vpr_mark2_share_math"
    t.fold([d(school("s1"), "org", 0), d(value("s1", ind, 1, 4, 1), "ev", 0)])
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return len(calls)

    assert t.derived("k", count) == 1
    assert t.derived("k", count) == 1  # quiet: remembered
    t.fold([d(value("s1", ind, 1, 4, 1), "ev", 0)])  # a redelivery changes nothing
    assert t.derived("k", count) == 1
    t.fold([d(value("s1", ind, 2, 4, 2), "ev", 1)])
    assert t.derived("k", count) == 2
    t.fold([d(school("s2"), "org", 1)])
    assert t.derived("k", count) == 3
