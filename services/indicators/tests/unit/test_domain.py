"""Unit tests of the catalogue and the pure domain functions (hand-computed expectations)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shkala_indicators.domain import catalogue as cat
from shkala_indicators.domain.compute import (
    ASSESSMENT,
    CONSENT,
    CONTEXT,
    LESSONS,
    STAFFING,
    Value,
    compute_school,
    compute_teachers,
    list_dynamics,
    list_membership,
    relative_members,
    roll_up,
)
from shkala_indicators.domain.seed_formulas import CONTEXT_V2

CAT = cat.load()


def ctx(**kw):  # type: ignore[no-untyped-def]
    base = dict(
        type=CONTEXT,
        as_of="2025-09-20",
        students_total=100,
        on_juvenile_register=0,
        migrant_or_low_russian=0,
        special_needs_confirmed=0,
        not_attested=0,
        remote=False,
        small_school=False,
        infrastructure_deficit=False,
        accreditation="действует",
    )
    return base | kw


def res(procedure, subject, student, **kw):  # type: ignore[no-untyped-def]
    return (
        dict(
            type=ASSESSMENT,
            procedure=procedure,
            subject=subject,
            student=student,
            grade=kw.pop("grade", 11),
        )
        | kw
    )


def test_catalogue_covers_seed_002_and_versions() -> None:
    ids = {i.id for i in CAT.indicators}
    assert {
        "ege_high_scorers_share",
        "gia_below_minimum_share",
        "vpr_mark2_share_math",
        "vpr_mark2_share_rus",
        "rdr_mark2_share",
        "accreditation_problem",
        "vpr_lowered_share",
        "vpr_confirmed_share",
        "vpr_raised_share",
        "wellbeing_index",
        "medalists_not_confirming_share",
        "observed_procedures_share",
        "kpk_own_request_share",
        "kpk_at_risk_share",
        "deficits_diagnosed_share",
        "mentoring_share",
        "olympiad_participation_share",
    } <= ids
    assert CAT.version == "2026.1"
    assert sum(c.weight for c in CAT.get("wellbeing_index").criteria) == 100


def test_region_override_changes_thresholds_weights_and_version(tmp_path: Path) -> None:
    over = tmp_path / "o.yaml"
    over.write_text(
        yaml.safe_dump(
            {
                "region": "r77",
                "version": "3",
                "parameters": {"ege_high_score": 90},
                "indicators": {
                    "wellbeing_index": {
                        "weights": {"remote_school": 30},
                        "threshold": {"risk_if": "below", "value": 40},
                    }
                },
                "lists": {"ШНОР": {"min_count": 4}},
            }
        ),
        encoding="utf-8",
    )
    c = cat.load(override=over)
    assert c.version == "2026.1+r77.3"
    assert c.parameters["ege_high_score"] == 90
    wi = c.get("wellbeing_index")
    assert next(x.weight for x in wi.criteria if x.indicator == "remote_school") == 30
    assert wi.threshold
    assert wi.threshold.value == 40
    assert next(r for r in c.lists if r.name == "ШНОР").min_count == 4
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"indicators": {"nope": {}}}), encoding="utf-8")
    with pytest.raises(cat.CatalogueError):
        cat.load(override=bad)


def test_ege_and_gia_formulas() -> None:
    facts = [
        res("ЕГЭ", "математика", "a", test_score=85),
        res("ЕГЭ", "русский язык", "a", test_score=70),
        res("ЕГЭ", "математика", "b", test_score=20),
        res("ЕГЭ", "русский язык", "b", test_score=60),
        res("ОГЭ", "математика", "c", grade=9, mark=2),
        res("ОГЭ", "математика", "d", grade=9, mark=4),
    ]
    # seed 002: «/ общее количество выпускников» — none known yet: no value, not a guess
    assert "ege_high_scorers_share" not in compute_school(CAT, facts)
    facts.append(ctx(type=CONTEXT_V2, graduates_9=3, graduates_11=4))
    v = compute_school(CAT, facts)
    # 1 high scorer (a) of 4 graduates of grade 11 (two of them did not sit ЕГЭ)
    assert v["ege_high_scorers_share"] == Value(1, 4, 25.0)
    # b below the maths minimum (27), c got "2" at ОГЭ: 2 of 3 + 4 graduates
    assert v["gia_below_minimum_share"] == Value(2, 7, pytest.approx(28.571429))  # type: ignore[arg-type]
    # the regional option: those who sat the exams
    raw = yaml.safe_load(cat.DEFAULT_FILE.read_text(encoding="utf-8"))
    for i in raw["indicators"]:
        if i["id"] in ("ege_high_scorers_share", "gia_below_minimum_share"):
            i["params"]["denominator"] = "participants"
    v = compute_school(cat.parse(raw), facts)
    assert v["ege_high_scorers_share"] == Value(1, 2, 50.0)
    assert v["gia_below_minimum_share"] == Value(2, 4, 50.0)


def test_vpr_mark2_grades_and_journal_comparison() -> None:
    facts = [
        res("ВПР", "математика", "a", grade=5, mark=2, journal_mark=3),
        res("ВПР", "математика", "b", grade=8, mark=4, journal_mark=4),
        res("ВПР", "математика", "c", grade=6, mark=2, journal_mark=2),  # grade 6 not in the share
        res("ВПР", "математика", "d", grade=5, mark=5, journal_mark=4),
    ]
    v = compute_school(CAT, facts)
    assert v["vpr_mark2_share_math"] == Value(1, 3, pytest.approx(33.333333))  # type: ignore[arg-type]
    assert v["vpr_lowered_share"].numerator == 1
    assert v["vpr_confirmed_share"].numerator == 2
    assert v["vpr_raised_share"].numerator == 1
    assert v["vpr_raised_share"].denominator == 4
    assert "vpr_mark2_share_rus" not in v


def test_wellbeing_index_and_shnsu() -> None:
    lessons = [
        dict(type=LESSONS, student=f"s{i}", reason="неуважительная", lessons_missed=45)
        for i in range(6)
    ]
    staffing = [
        dict(
            type=STAFFING,
            as_of="2026-01-15",
            position="учитель",
            posts=4.0,
            filled=3.0,
            vacancies=1,
        )
    ]
    facts = [ctx(remote=True, small_school=True, on_juvenile_register=5), *lessons, *staffing]
    v = compute_school(CAT, facts)
    assert v["systematic_absence_share"] == Value(6, 100, 6.0)
    assert v["understaffed"] == Value(1, 1, 1.0)
    # fired: juvenile 5% (12), absence 6% (12), remote (10), small (10), understaffed (10)
    assert v["wellbeing_index"] == Value(46, 100, 46.0)
    rule = next(r for r in CAT.lists if r.name == "ШНСУ")
    # relative (seed 002: «самый низкий индекс»): alone, a school cannot know its rank
    assert list_membership(rule, CAT, v, None, "s1") == (False, ())
    peers = {"s1": v["wellbeing_index"], **{f"o{i}": Value(80, 100, 80.0) for i in range(9)}}
    lowest = relative_members(rule, peers)  # bottom 10 % of 10 schools: one
    assert lowest == {"s1"}
    assert list_membership(rule, CAT, v, lowest, "s1") == (True, ("wellbeing_index",))
    assert list_membership(rule, CAT, peers, lowest, "o1")[0] is False


def test_shnor_rule_counts_risk_crossings_and_accreditation_forces() -> None:
    rule = next(r for r in CAT.lists if r.name == "ШНОР")
    one = {"vpr_mark2_share_2y_math": Value(5, 10, 50.0)}
    assert list_membership(rule, CAT, one)[0] is False
    two = one | {"rdr_mark2_share": Value(3, 10, 30.0)}
    assert list_membership(rule, CAT, two) == (
        True,
        ("vpr_mark2_share_2y_math", "rdr_mark2_share"),
    )
    assert list_membership(rule, CAT, {"accreditation_problem": Value(1, 1, 1.0)})[0] is True


def test_teacher_indicators_only_with_consent() -> None:
    t1, t2 = "p" + "1" * 24, "p" + "2" * 24
    facts = [
        res("ВПР", "математика", "a", grade=5, mark=2, teacher=t1),
        res("ВПР", "математика", "b", grade=5, mark=4, teacher=t1),
        res("ВПР", "математика", "c", grade=5, mark=2, teacher=t2),
        dict(type=CONSENT, teacher=t1, granted=True),
        dict(type=CONSENT, teacher=t2, granted=False),
    ]
    out = compute_teachers(CAT, facts)
    assert out == {("teacher_vpr_mark2_share", t1): Value(1, 2, 50.0)}
    assert compute_teachers(CAT, facts[:3]) == {}


def test_roll_up_and_dynamics() -> None:
    ind = CAT.get("vpr_mark2_share_math")
    assert roll_up(ind, [Value(1, 4, 25.0), Value(3, 6, 50.0)]) == Value(4, 10, 40.0)
    assert roll_up(ind, []) is None
    assert list_dynamics({"a", "b"}, {"b", "c"}) == {
        "entered": ["c"],
        "left": ["a"],
        "stayed": ["b"],
    }
