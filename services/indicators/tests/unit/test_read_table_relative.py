"""Relative lists on read (seed 002's ШНСУ: the lowest wellbeing index of the region): the
read table ranks the region's schools, and a change of one school's index moves the others'
membership (no stale cached answer)."""

from __future__ import annotations

from test_read_table import P, d, school, value

from shkala_contracts.events.org_units import SchoolRegistered
from shkala_indicators.domain import catalogue as cat
from shkala_indicators.service_layer.read_table import ReadTable

CAT = cat.load()
WI = "wellbeing_index"


def members(t: ReadTable, schools: list[str]) -> set[str]:
    return set(t.members("ШНСУ", P, schools))


def test_bottom_share_of_the_region_and_it_follows_changes() -> None:
    t = ReadTable(CAT)
    ids = [f"s{i}" for i in range(12)]
    t.fold([d(school(s), "org", i) for i, s in enumerate(ids)])
    # indices 50, 55, 60 … 105: the bottom 10 % of 12 schools is ceil(1.2) = 2 schools
    t.fold([d(value(s, WI, 50 + 5 * i, 100, 1), "ev", i) for i, s in enumerate(ids)])
    assert members(t, ids) == {"s0", "s1"}
    reasons = next(e for e in t.lists_of("s0", P) if e["list"] == "ШНСУ")
    assert reasons["member"]
    assert reasons["reasons"] == [WI]
    # s11 falls to the bottom: s1 leaves, although s1's own values did not change
    t.fold([d(value("s11", WI, 40, 100, 2), "ev", 20)])
    assert members(t, ids) == {"s11", "s0"}
    assert not next(e for e in t.lists_of("s1", P) if e["list"] == "ШНСУ")["member"]


def test_ranked_within_the_region_only() -> None:
    t = ReadTable(CAT)
    other = SchoolRegistered(region_id="r2", municipality_id="x", school_id="o1", name="o1")
    t.fold([d(school("s1"), "org", 0), d(school("s2"), "org", 1), d(other, "org", 2)])
    t.fold(
        [
            d(value("s1", WI, 70, 100, 1), "ev", 0),
            d(value("s2", WI, 80, 100, 1), "ev", 1),
            d(value("o1", WI, 10, 100, 1), "ev", 2),  # lower, but another region
        ]
    )
    assert members(t, ["s1", "s2"]) == {"s1"}  # ceil(0.1 × 2) = 1 of region r
    assert members(t, ["o1"]) == {"o1"}
