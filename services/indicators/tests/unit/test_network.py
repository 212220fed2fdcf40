"""Resource centres, network pairs, support indicators and half-years on the read table and
in the pure domain, against hand-worked cases (seed 002's and 004's wording)."""

from __future__ import annotations

from typing import Any

import pytest

from shkala_contracts import Envelope, Tenant
from shkala_contracts.events.indicators import IndicatorValueChanged, Scope
from shkala_contracts.events.org_units import NetworkPairFormed, SchoolRegistered
from shkala_indicators.domain import catalogue as cat
from shkala_indicators.domain import half_years, network
from shkala_indicators.domain.compute import Value
from shkala_indicators.service_layer.read_network import NetworkReads
from shkala_indicators.service_layer.read_table import ReadTable
from shkala_runtime.consuming import Delivered, LogPosition

CAT = cat.load()
P, P0 = "2025/26", "2024/25"


def d(event: Any, offset: int, version: int = 1) -> Delivered:
    env = Envelope.for_event(
        event, source="/t", tenant=Tenant(region="r"), originator_version=version
    )
    return Delivered(env, event, LogPosition("org", 0, offset), None, 0)  # type: ignore[arg-type]


def school(sid: str, mun: str = "m1", centre: str | None = None) -> SchoolRegistered:
    return SchoolRegistered(
        region_id="r", municipality_id=mun, school_id=sid, name=sid, resource_centre_id=centre
    )


def flag(sid: str, period: str, on: bool, version: int = 1) -> IndicatorValueChanged:
    return IndicatorValueChanged(
        originator_id=f"indicator:accreditation_problem|school|{sid}|{period}",
        originator_version=version, region_id="r", municipality_id="m1", school_id=sid,
        indicator_id="accreditation_problem", direction="low_results", scope=Scope.SCHOOL,
        period=period, definition_version=CAT.version, old_value=None,
        new_value=1.0 if on else 0.0, numerator=1.0 if on else 0.0, denominator=1.0,
    )  # fmt: skip


class FakeRead:
    """What NetworkReads uses of the read model: the catalogue, the table, freshness."""

    def __init__(self, table: ReadTable) -> None:
        self.catalogue = CAT
        self.table = table

    async def freshness(self) -> dict[str, Any]:
        return {}


def pair(s: str, lead: str, period: str = P, active: bool = True) -> NetworkPairFormed:
    return NetworkPairFormed(
        school_id=s, leading_school_id=lead, academic_year=period, active=active
    )


def test_the_newest_version_of_a_pair_wins_and_ended_pairs_are_left_out() -> None:
    t = ReadTable(CAT)
    t.fold([d(pair("s2", "s1"), 0, version=2), d(pair("s2", "s1", active=False), 1, 1)])
    assert [(p.school, p.leading) for p in t.pairs.in_period(P)] == [("s2", "s1")]
    t.fold([d(pair("s2", "s1", active=False), 2, version=3)])
    assert t.pairs.in_period(P) == []
    t.fold([d(pair("s3", "s1", period=P0), 3)])
    assert t.pairs.in_period(P) == []
    assert len(t.pairs.in_period(P0)) == 1


def test_the_read_table_keeps_the_resource_centre() -> None:
    t = ReadTable(CAT)
    t.fold([d(school("s1", centre="orc"), 0)])
    assert t.org["s1"]["resource_centre_id"] == "orc"
    t.fold([d(school("s1"), 1, version=2)])  # re-registered without it
    assert t.org["s1"]["resource_centre_id"] is None


def test_compare_says_which_way_is_better() -> None:
    up, down = CAT.get("staffing_fill_share"), CAT.get("juvenile_register_share")
    assert up.better == "up"
    assert down.better == "down"
    assert network.compare(up, Value(8, 10, 80.0), Value(7, 10, 70.0))["trend"] == "improved"
    assert network.compare(down, Value(8, 10, 80.0), Value(7, 10, 70.0))["trend"] == "worsened"
    same = network.compare(down, Value(1, 10, 10.0), Value(2, 20, 10.0))
    assert (same["trend"], same["change"]) == ("same", 0.0)
    missing = network.compare(up, Value(8, 10, 80.0), None)
    assert (missing["previous"], missing["change"], missing["trend"]) == (None, None, None)


def test_support_indicators_by_hand() -> None:
    """ШНОР last year: a, b; this year: a, c. ШНСУ last year: d; this year: e. Pairs: a."""
    ind = {s.id: s for s in CAT.support}
    now = {"a": {"ШНОР"}, "c": {"ШНОР"}, "e": {"ШНСУ"}, "b": set(), "f": set()}
    before = {"a": {"ШНОР"}, "b": {"ШНОР"}, "d": {"ШНСУ"}}
    schools = ["a", "b", "c", "d", "e", "f"]
    pairs = network.support_value(ind["network_pair_share"], schools, now, before, {"a", "f"})
    assert (pairs["numerator"], pairs["denominator"], pairs["value"]) == (1, 2, 50.0)
    # in the lists in either year: a, b, c, d, e; left: b, d; entered: c, e
    pos = network.support_value(ind["list_positive_dynamics_share"], schools, now, before, set())
    assert (pos["schools_counted"], pos["denominator"], pos["value"]) == (["b", "d"], 5, 40.0)
    neg = network.support_value(ind["list_negative_dynamics_share"], schools, now, before, set())
    assert neg["schools_counted"] == ["c", "e"]
    # a school that left one list and entered the other is in neither numerator
    mixed = network.support_value(
        ind["list_positive_dynamics_share"], ["x"], {"x": {"ШНСУ"}}, {"x": {"ШНОР"}}, set()
    )
    assert (mixed["numerator"], mixed["denominator"]) == (0, 1)


async def test_resource_centre_roll_up_and_tenant_on_the_read_table() -> None:
    t = ReadTable(CAT)
    t.fold([d(school("s1"), 0), d(school("s2", centre="s1"), 1),
            d(school("s3", "m2", centre="s1"), 2)])  # fmt: skip
    t.fold([d(flag("s1", P, False), 3), d(flag("s2", P, True), 4), d(flag("s3", P, True), 5)])
    t.fold([d(flag("s2", P0, False), 6)])
    reads = NetworkReads(FakeRead(t))  # type: ignore[arg-type]
    inds = reads.indicators(["accreditation_problem"])
    body = await reads.resource_centre("r", "s1", P, lambda s: True, inds)
    assert body is not None
    assert [(x["school_id"], x["role"]) for x in body["schools"]] == [
        ("s1", "host"), ("s2", "member"), ("s3", "member"),
    ]  # fmt: skip
    assert body["roll_up"][0]["value"] == pytest.approx(2 / 3)
    s2 = body["schools"][1]
    assert s2["entered"] == ["ШНОР"]  # accreditation suspended alone puts a school on ШНОР
    assert s2["indicators"][0]["trend"] == "worsened"
    mine = await reads.resource_centre("r", "s1", P, lambda s: s != "s3", inds)
    assert mine is not None
    assert mine["schools_not_shown"] == 1
    assert mine["roll_up"][0]["value"] == pytest.approx(1 / 2)
    assert await reads.resource_centre("r", "s1", P, lambda s: False, inds) is None


def test_half_year_keys_and_which_facts_stand_for_a_half() -> None:
    h1 = half_years.parse("2025/26-H1")
    assert h1 is not None
    assert (h1.start, h1.end, h1.reported_on) == (
        "2025-09-01",
        "2025-12-31",
        "01.01.2026",
    )
    assert h1.previous().key == "2024/25-H2"
    h2 = half_years.parse("2025/26-H2")
    assert h2 is not None
    assert h2.previous() == h1
    assert h2.reported_on == "01.07.2026"
    for bad in ("2025/26", "2025/27-H1", "2025/26-H3", "2025-H1"):
        assert half_years.parse(bad) is None
    lessons = "ru.shkala.fact.lessons_missed.v1"
    staffing = "ru.shkala.fact.staffing_positions.v1"
    facts = [
        {"type": lessons, "period_end": "2025-12-31"},
        {"type": lessons, "period_end": "2026-01-01"},
        {"type": staffing, "as_of": "2025-09-01"},
        {"type": staffing, "as_of": "2026-02-01"},
        {"type": "ru.shkala.fact.mentoring_pair.v1"},
        {"type": "ru.shkala.fact.school_context.v2", "as_of": "2025-09-01"},
    ]
    picked = half_years.select(facts, h1)
    assert facts[0] in picked
    assert facts[1] not in picked
    assert facts[2] in picked
    assert facts[3] not in picked
    assert facts[4] not in picked
    assert facts[5] in picked
    assert facts[1] in half_years.select(facts, h2)
    assert facts[3] in half_years.select(facts, h2)
    dated = {i.id for i in half_years.dated_indicators(CAT)}
    assert "mentoring_share" not in dated
    assert "vpr_mark2_share_math" not in dated
    assert {"systematic_absence_share", "staffing_fill_share", "deficits_diagnosed_share"} <= dated
