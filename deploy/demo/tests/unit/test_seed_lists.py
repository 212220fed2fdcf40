"""The demo region against seed 002's rules: its context files carry the denominators the
seed writes (graduates, the roll of each parallel), and the schools designed to be ШНСУ are
those the relative rule («школы с самым низким индексом социального благополучия») finds."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

from shkala_contracts.formats import FORMATS, PERSONAL_IDS
from shkala_demo.region import DEFAULT, TINY, Region, RegionSpec, build_region, rows
from shkala_indicators.domain import catalogue
from shkala_indicators.domain.compute import compute_school, relative_members

CATALOGUE = catalogue.load()


@pytest.fixture(scope="module")
def demo() -> Region:
    return build_region(DEFAULT)


def test_context_carries_graduates_and_rolls() -> None:
    region = build_region(TINY)
    ctx = {(r["school_id"], r["academic_year"]): r for r in rows(region, "school-context")}
    writers: Counter[tuple[str, str, int, str]] = Counter()
    for r in rows(region, "vpr"):
        writers[(r["school_id"], r["academic_year"], r["grade"], r["subject"])] += 1
    assert writers
    for (school, year, grade, _subject), n in writers.items():
        assert ctx[(school, year)][f"enrolled_grade_{grade}"] >= n > 0
    ege: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows(region, "gia"):
        if r["procedure"] == "ЕГЭ":
            ege[(r["school_id"], r["academic_year"])].add(r["student_id"])
    assert ege
    for key, students in ege.items():
        assert ctx[key]["graduates_11"] >= len(students)


def _wellbeing(region: Region) -> dict[str, dict[str, Any]]:
    """year -> school -> wellbeing index value, from the demo's own upload rows."""
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for kind in ("school-context", "attendance", "staffing-positions"):
        event_type = FORMATS[kind].fact.event_type
        for row in rows(region, kind):
            fact = {PERSONAL_IDS.get(k, k): v for k, v in row.items()}
            fact["type"] = event_type
            if "as_of" in fact:
                fact["as_of"] = str(fact["as_of"])
            cells[(row["school_id"], row["academic_year"])].append(fact)
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for (school, year), facts in cells.items():
        v = compute_school(CATALOGUE, facts).get("wellbeing_index")
        if v is not None:
            out[year][school] = v
    return out


@pytest.mark.parametrize("which", ["tiny", "small", "demo"])
def test_designed_shnsu_schools_are_found_by_the_relative_rule(which: str, demo: Region) -> None:
    region = {
        "tiny": lambda: build_region(TINY),
        "small": lambda: build_region(
            RegionSpec(seed=3, municipalities=4, schools=60, students=12_000)
        ),
        "demo": lambda: demo,
    }[which]()
    rule = next(r for r in CATALOGUE.lists if r.name == "ШНСУ")
    assert rule.rule == "lowest"
    designed = region.designed_poor_context
    assert designed
    for year, values in _wellbeing(region).items():
        found = relative_members(rule, values)
        assert designed <= found, (year, sorted(designed - found))
        # the list is the region's lowest: nobody outside it has a lower index than a member
        assert max(values[s].value for s in found) <= min(
            values[s].value for s in set(values) - found
        )


def test_vpr_rows_name_the_class_teacher_so_consented_values_can_be_fed() -> None:
    region = build_region(TINY)
    vpr = list(rows(region, "vpr"))
    taught = {r["teacher_id"] for r in vpr if r.get("teacher_id")}
    assert len(taught) > 0.5 * len({r["school_id"] for r in vpr})  # most classes have one
    consented = {r["teacher_id"] for r in rows(region, "consents") if r["granted"]}
    assert taught & consented  # the consent-gated teacher indicator gets values
