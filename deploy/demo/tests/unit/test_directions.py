"""The demo region shows the four directions: functional literacy in ``results`` (both ways
of «динамика» among the schools), a career-guidance report for every school with grade 9, an
upbringing report for every school and year, «Точка роста» mostly in rural schools."""

from __future__ import annotations

from collections import defaultdict

from shkala_demo.region import Region, RegionSpec, build_region, rows

LITERACY = {"читательская грамотность", "математическая грамотность"}


def test_four_directions_have_rows(tiny: Region) -> None:
    years = set(tiny.years)
    career = list(rows(tiny, "career-guidance"))
    assert {(r["school_id"], r["academic_year"]) for r in career} == {
        (s.id, y) for s in tiny.schools if s.max_grade >= 9 for y in years
    }
    up = list(rows(tiny, "upbringing"))
    assert {(r["school_id"], r["academic_year"]) for r in up} == {
        (s.id, y) for s in tiny.schools for y in years
    }
    for r in up:
        assert r["students_additional_education"] <= r["students_total"]
        assert r["students_kvantorium"] <= r["students_additional_education"]
    literacy = [r for r in rows(tiny, "results") if r["subject"] in LITERACY]
    assert literacy
    assert {r["procedure"] for r in literacy} == {"РКР"}
    assert {r["academic_year"] for r in literacy} == years


def test_literacy_dynamics_and_tochka_rosta_differ_among_schools() -> None:
    region = build_region(RegionSpec(seed=11, municipalities=3, schools=40, students=8000))
    first, last = region.years[0], region.years[-1]
    share: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows(region, "results"):
        if r["subject"] in LITERACY:
            share[(r["school_id"], r["academic_year"])][0] += r["mark"] >= 3
            share[(r["school_id"], r["academic_year"])][1] += 1
    up = {
        s for s, _ in share
        if (s, first) in share and (s, last) in share
        and share[(s, last)][0] / share[(s, last)][1] > share[(s, first)][0] / share[(s, first)][1]
    }  # fmt: skip
    both = {s for s, _ in share if (s, first) in share and (s, last) in share}
    assert 0 < len(up) < len(both)  # «положительная динамика»: some schools, not all
    rural = {s.id: s.rural for s in region.schools}
    centres = [r for r in rows(region, "upbringing") if r["academic_year"] == last]
    with_centre = [r for r in centres if r["tochka_rosta"]]
    assert with_centre
    assert len(with_centre) < len(centres)
    share_rural = sum(rural[r["school_id"]] for r in with_centre) / len(with_centre)
    share_all = sum(rural[r["school_id"]] for r in centres) / len(centres)
    assert share_rural > share_all  # the federal project builds them in rural schools
