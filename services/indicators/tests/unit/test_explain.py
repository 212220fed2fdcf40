"""«Как посчитано»: the facts an explanation lists reproduce the computed numerator and
denominator for every catalogue indicator over a generated region; hand-built schools check
that the right facts are named (by natural key and pseudonym) and the criteria of a list."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from indicators_testkit import generate

from shkala_indicators.domain import catalogue as cat
from shkala_indicators.domain.compute import ASSESSMENT, Value, compute_school
from shkala_indicators.domain.explain import explain_value, explained_kinds
from shkala_indicators.domain.explain_lists import explain_list, explain_rating
from shkala_indicators.domain.rows import compact
from shkala_indicators.domain.seed_formulas import CONTEXT_V2, previous_period

CAT = cat.load()


def cells(facts: list[Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for f in facts:
        out[(f.school_id, f.academic_year)].append(compact(f.model_dump(mode="json"), f.event_type))
    return out


def counted(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["in_numerator"] + body["in_denominator_only"] + body["considered_not_counted"]


def test_every_catalogue_kind_has_an_explainer() -> None:
    # a new kind must come with its explainer: «facts not itemised» is a fallback for a
    # catalogue an operator extends, never how a shipped indicator is explained
    missing = {i.kind for i in CAT.indicators} - explained_kinds()
    assert not missing, f"kinds without an explainer (facts not itemised): {sorted(missing)}"


def test_every_indicator_explained_reproduces_its_numerator_and_denominator() -> None:
    reg = generate(seed=5, n_mun=2, per_mun=4)
    by_cell = cells(reg.final_facts())
    itemised_kinds: set[str] = set()
    for (school, period), facts in by_cell.items():
        prev = previous_period(period)
        earlier = [by_cell.get((school, prev), [])]
        values = compute_school(CAT, facts, earlier)
        for ind in CAT.indicators:
            e = explain_value(CAT, ind.id, facts, earlier, [period, prev])
            v = values.get(ind.id)
            assert e.value == v, (school, period, ind.id)
            body = e.describe()
            if v is None:
                assert not e.itemised
                continue
            assert ind.kind in explained_kinds(), ind.id  # no kind slips through unexplained
            assert e.itemised, (school, period, ind.id, e.note)  # the items add up
            itemised_kinds.add(ind.kind)
            items = counted(body)
            if not e.how and not e.statistic:  # plain sums of the items
                assert sum(i["numerator"] for i in items) == v.numerator, ind.id
                assert sum(i["denominator"] for i in items) == v.denominator, ind.id
            # natural keys only: no school or fact id anywhere, pseudonyms as the ingest gave
            text = json.dumps(body, ensure_ascii=False)
            assert school not in text
            assert "originator" not in text
            assert "school_id" not in text
    # the generated region feeds every kind of the catalogue, each itemised somewhere
    assert itemised_kinds == {i.kind for i in CAT.indicators}


def res(subject: str, student: str, mark: int, grade: int = 5, **kw: Any) -> dict[str, Any]:
    return dict(type=ASSESSMENT, procedure="ВПР", subject=subject, grade=grade,
                class_label=f"{grade}А", student=student, mark=mark, **kw)  # fmt: skip


def context(**kw: Any) -> dict[str, Any]:
    base = dict(type=CONTEXT_V2, as_of="2025-09-20", students_total=100, on_juvenile_register=5,
                migrant_or_low_russian=0, special_needs_confirmed=0, not_attested=0,
                remote=False, small_school=False, infrastructure_deficit=False,
                accreditation="действует")  # fmt: skip
    return base | kw


def test_two_year_share_names_the_students_and_the_rolls_of_both_years() -> None:
    # seed 002: students with a «2» over two years / students of the classes, both years
    now = [res("математика", "pA", 2), res("математика", "pA", 2, grade=8),
           res("математика", "pB", 4), res("русский язык", "pC", 2),
           context(enrolled_grade_5=20, enrolled_grade_8=25)]  # fmt: skip
    before = [res("математика", "pD", 2), res("математика", "pE", 3),
              context(enrolled_grade_5=18)]  # fmt: skip
    e = explain_value(CAT, "vpr_mark2_share_2y_math", now, [before], ["2025/26", "2024/25"])
    assert e.itemised
    body = e.describe()
    # pA has a «2» in grade 5 and in grade 8 this year (one student each time? the grade-5
    # and grade-8 results are one student pseudonym: counted once per year), pD last year
    assert [(i["key"]["student"], i["key"]["year"]) for i in body["in_numerator"]] == [
        ("pA", "2025/26"), ("pD", "2024/25")]  # fmt: skip
    rolls = [(i["key"]["year"], i["values"]) for i in body["in_denominator_only"]]
    assert rolls == [("2025/26", {"grade": 5, "enrolled_grade_5": 20}),
                     ("2025/26", {"grade": 8, "enrolled_grade_8": 25}),
                     ("2024/25", {"grade": 5, "enrolled_grade_5": 18})]  # fmt: skip
    assert (e.value.numerator, e.value.denominator) == (2, 63)


def test_one_year_share_lists_each_result_by_its_natural_key() -> None:
    facts = [res("математика", "pA", 2), res("математика", "pB", 5, grade=8),
             res("математика", "pC", 2, grade=6)]  # fmt: skip  # grade 6 is not a ВПР grade here
    body = explain_value(CAT, "vpr_mark2_share_math", facts, None, ["2025/26"]).describe()
    assert [i["key"] for i in body["in_numerator"]] == [
        {"fact": "результат оценочной процедуры", "year": "2025/26", "procedure": "ВПР",
         "subject": "математика", "grade": 5, "class_label": "5А", "student": "pA"}]  # fmt: skip
    assert [i["key"]["student"] for i in body["in_denominator_only"]] == ["pB"]


def test_a_kind_without_an_explainer_says_so_and_keeps_the_computed_figures() -> None:
    raw = json.loads(json.dumps(cat.yaml.safe_load(cat.DEFAULT_FILE.read_text("utf-8"))))
    c = cat.parse(raw)
    # a catalogue kind the explainers do not know (registered for this test only)
    from shkala_indicators.domain import compute

    compute._COMPUTERS["test_only_kind"] = lambda ind, sf, p: Value.of(3, 4, ind.scale)
    try:
        raw["indicators"].append({**raw["indicators"][0], "id": "x", "kind": "test_only_kind"})
        c = cat.parse(raw)
        e = explain_value(c, "x", [context()], None, ["2025/26"])
    finally:
        del compute._COMPUTERS["test_only_kind"]
    assert not e.itemised
    assert "facts not itemised" in e.note
    assert (e.value.numerator, e.value.denominator) == (3, 4)
    assert not e.counted


def test_list_explanation_names_fired_and_quiet_criteria_with_thresholds() -> None:
    rule = next(r for r in CAT.lists if r.name == "ШНОР")
    values = {
        "gia_below_minimum_share": Value.of(3, 20, 100),  # 15 % > 10 %: fires
        "ege_high_scorers_share": Value.of(0, 10, 100),  # 0 % < 5 %: fires
        "vpr_mark2_share_2y_math": Value.of(1, 50, 100),  # 2 %: quiet
    }
    got = explain_list(rule, CAT, values)
    assert got["member"] is True
    assert got["fired_count"] == 2
    assert got["min_count"] == 2
    by = {c["indicator_id"]: c for c in got["criteria"]}
    want = {"value": 15.0, "numerator": 3.0, "denominator": 20.0, "fired": True,
            "threshold": {"risk_if": "above", "value": 10.0}}  # fmt: skip
    assert {k: by["gia_below_minimum_share"][k] for k in want} == want
    assert by["vpr_mark2_share_2y_math"]["fired"] is False
    assert by["rdr_mark2_share"]["value"] is None
    assert by["rdr_mark2_share"]["fired"] is False
    assert by["accreditation_problem"]["role"] == "criterion, always"  # counted, and alone puts on
    assert sorted(got["reasons"]) == ["ege_high_scorers_share", "gia_below_minimum_share"]


def test_lowest_list_explanation_gives_rank_and_cut() -> None:
    rule = next(r for r in CAT.lists if r.name == "ШНСУ")
    peers = {f"s{i}": Value.of(50 + i, 100, 100) for i in range(20)}  # 10 % of 20 → 2 lowest
    got = explain_list(rule, CAT, {"wellbeing_index": peers["s1"]}, peers, "s1")
    assert got["member"] is True
    assert (got["rank"], got["schools_ranked"], got["taken"], got["cut_value"]) == (2, 20, 2, 51.0)
    out = explain_list(rule, CAT, {"wellbeing_index": peers["s2"]}, peers, "s2")
    assert out["member"] is False
    assert out["rank"] == 3


def test_rating_explanation_components_add_up_to_the_score() -> None:
    values = {
        "a": {"vpr_mark2_share_math": 10.0, "staffing_fill_share": 100.0},
        "b": {"vpr_mark2_share_math": 30.0, "staffing_fill_share": 80.0},
        "c": {"vpr_mark2_share_math": 20.0},
    }
    got = explain_rating(values, CAT.rating, CAT.by_id(), "c")
    comps = {c["indicator_id"]: c for c in got["components"]}
    # written from the rule: maths «2» share 20 between best 10 and worst 30 → 0.5 standing;
    # c has no staffing value: scored over maths alone (weight 2 of 2)
    assert comps["vpr_mark2_share_math"]["standing"] == 0.5
    assert comps["vpr_mark2_share_math"]["contribution"] == 50.0
    assert comps["staffing_fill_share"]["included"] is False
    assert got["score"] == 50.0
    assert got["rank"] == 2


def test_the_natural_keys_shown_are_the_contracts_keys() -> None:
    # what an official finds a fact by: the contract's key fields (the school and the year
    # are stated once for the whole explanation)
    from shkala_contracts import FACT_TYPES
    from shkala_indicators.domain.explain import KEY_FIELDS
    from shkala_indicators.domain.seed_formulas import CONTEXT_V1

    for fact_type, shown in KEY_FIELDS.items():
        cls = FACT_TYPES[fact_type]
        want = set(cls.key_fields) - {"school_id", "academic_year"}
        assert want <= set(shown), fact_type
    assert CONTEXT_V1 in KEY_FIELDS
