"""«Как посчитано» for the four directions, on hand-built schools: the explanation names the
facts the seed's wording counts (by natural key and pseudonym), and their parts add up to the
computed figures. Expected figures are counted here by hand, not from the catalogue's code."""

from __future__ import annotations

from typing import Any

from shkala_indicators.domain import catalogue as cat
from shkala_indicators.domain.compute import ASSESSMENT
from shkala_indicators.domain.directions import CAREER, PRINCIPAL, UPBRINGING
from shkala_indicators.domain.explain import explain_value
from shkala_indicators.domain.seed_formulas import CONTEXT_V2

CAT = cat.load()
NOW, BEFORE = "2025/26", "2024/25"


def res(procedure: str, subject: str, student: str, grade: int, **kw: Any) -> dict[str, Any]:
    return dict(type=ASSESSMENT, procedure=procedure, subject=subject, grade=grade,
                class_label=f"{grade}А", student=student, **kw)  # fmt: skip


def context(**kw: Any) -> dict[str, Any]:
    base = dict(type=CONTEXT_V2, as_of="2025-09-20", students_total=100, on_juvenile_register=0,
                migrant_or_low_russian=0, special_needs_confirmed=0, not_attested=0,
                remote=False, small_school=False, infrastructure_deficit=False,
                accreditation="действует")  # fmt: skip
    return base | kw


def explain(ind: str, facts: list[dict[str, Any]], before: list[dict[str, Any]] | None = None):
    earlier = [before] if before is not None else None
    e = explain_value(CAT, ind, facts, earlier, [NOW, BEFORE])
    assert e.itemised, e.note
    return e, e.describe()


def students(items: list[dict[str, Any]]) -> list[str]:
    return sorted(i["key"]["student"] for i in items)


def test_mark_share_counts_grade_4_vpr_results_at_3_or_above() -> None:
    facts = [res("ВПР", "математика", "pA", 4, mark=3), res("ВПР", "русский язык", "pA", 4, mark=2),
             res("ВПР", "математика", "pB", 4, mark=5), res("ВПР", "математика", "pC", 5, mark=2),
             res("ОГЭ", "математика", "pD", 9, mark=2)]  # fmt: skip
    e, body = explain("vpr_success_share_noo", facts)
    # grade-4 ВПР results: pA maths 3, pB maths 5 at «3»+; pA Russian 2 below; grade 5, ОГЭ out
    assert (e.value.numerator, e.value.denominator) == (2, 3)
    assert students(body["in_numerator"]) == ["pA", "pB"]
    [below] = body["in_denominator_only"]
    assert below["key"] == {"fact": "результат оценочной процедуры", "year": NOW,
                            "procedure": "ВПР", "subject": "русский язык", "grade": 4,
                            "class_label": "4А", "student": "pA"}  # fmt: skip


def test_mean_score_shows_base_maths_without_a_score_as_not_counted() -> None:
    facts = [res("ЕГЭ", "русский язык", "pA", 11, test_score=70, mark=None),
             res("ЕГЭ", "математика профильная", "pA", 11, test_score=50, mark=None),
             res("ЕГЭ", "математика базовая", "pB", 11, mark=5)]  # fmt: skip
    e, body = explain("ege_mean_test_score", facts)
    assert (e.value.numerator, e.value.denominator, e.value.value) == (120, 2, 60)
    [base] = body["considered_not_counted"]
    assert (base["key"]["subject"], base["values"]["mark"]) == ("математика базовая", 5)


def test_ege_three_subjects_names_graduates_and_the_subjects_they_passed() -> None:
    facts = [context(graduates_11=10)]
    for subject in ("русский язык", "математика профильная", "физика"):
        facts.append(res("ЕГЭ", subject, "pA", 11, test_score=80))  # 3 passed
    facts += [res("ЕГЭ", "русский язык", "pB", 11, test_score=80),
              res("ЕГЭ", "физика", "pB", 11, test_score=80),
              res("ЕГЭ", "химия", "pB", 11, test_score=5),  # far below any admission minimum
              res("ЕГЭ", "математика базовая", "pB", 11, mark=5)]  # a mark, no score  # fmt: skip
    e, body = explain("ege_three_subjects_passed_share", facts)
    assert (e.value.numerator, e.value.denominator) == (1, 10)
    [a] = body["in_numerator"]
    assert a["key"] == {"student": "pA", "year": NOW}
    assert a["values"]["subjects_passed"] == sorted(["русский язык", "математика профильная",
                                                     "физика"])  # fmt: skip
    by = {i["key"].get("student", "context"): i for i in counted(body)}
    assert by["pB"]["values"]["subjects_passed"] == ["русский язык", "физика"]
    assert by["context"]["denominator"] == 10


def counted(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["in_numerator"] + body["in_denominator_only"] + body["considered_not_counted"]


def test_dynamics_compares_the_two_years_shares_from_their_results() -> None:
    lit = "читательская грамотность"
    now = [res("ФГ", lit, "pA", 8, mark=3), res("ФГ", lit, "pB", 8, mark=4),
           res("ФГ", lit, "pC", 8, mark=2)]  # 2 of 3 at «3»+  # fmt: skip
    before = [res("ФГ", lit, "pD", 7, mark=3), res("ФГ", lit, "pE", 7, mark=2)]  # 1 of 2
    e, body = explain("functional_literacy_dynamics", now, before)
    assert (e.value.numerator, e.value.denominator) == (1, 1)  # 66.7 % > 50 %
    years = {y["year"]: (y["numerator"], y["denominator"]) for y in body["statistic"]["years"]}
    assert years == {NOW: (2, 3), BEFORE: (1, 2)}
    shown = sorted((i["key"]["year"], i["key"]["student"]) for i in counted(body))
    assert shown == [(BEFORE, "pD"), (BEFORE, "pE"), (NOW, "pA"), (NOW, "pB"), (NOW, "pC")]
    worse = [res("ФГ", lit, "pA", 8, mark=2), res("ФГ", lit, "pB", 8, mark=3)]  # 50 % = 50 %
    e, _ = explain("functional_literacy_dynamics", worse, before)
    assert (e.value.numerator, e.value.denominator) == (0, 1)


def career(as_of: str, **kw: Any) -> dict[str, Any]:
    base = dict(type=CAREER, as_of=as_of, profile_classes=1, students_10_11=40,
                students_in_profile_classes=20, students_6_11=200, career_diagnostics_covered=150,
                grade9_to_college=30, grade9_to_college_profile_gia=12)  # fmt: skip
    return base | kw


def test_report_share_takes_the_latest_report_and_caps_at_the_context_graduates() -> None:
    facts = [
        context(graduates_9=25),
        career("2025-12-01", grade9_to_college=5),
        career("2026-05-30", grade9_to_college=30),
    ]  # 30 entrants reported, 25 graduates
    e, body = explain("grade9_to_college_share", facts)
    assert (e.value.numerator, e.value.denominator) == (25, 25)
    [report] = body["in_numerator"]
    assert report["key"]["as_of"] == "2026-05-30"
    assert report["values"] == {"grade9_to_college": 30}
    [ctx] = body["in_denominator_only"]
    assert ctx["values"] == {"graduates_9": 25}
    [old] = body["considered_not_counted"]
    assert old["key"]["as_of"] == "2025-12-01"
    e, body = explain("profile_students_share", facts)
    assert (e.value.numerator, e.value.denominator) == (20, 40)


def test_report_flag_reads_the_upbringing_report() -> None:
    report = dict(type=UPBRINGING, as_of="2026-05-30", students_total=300,
                  upbringing_programme=True, students_in_upbringing_programme=280,
                  students_additional_education=150, students_kvantorium=20, tochka_rosta=True,
                  tochka_rosta_programmes=False)  # fmt: skip
    e, body = explain("tochka_rosta_school", [report])
    assert (e.value.numerator, e.value.denominator) == (0, 1)
    assert body["in_denominator_only"][0]["values"] == {"tochka_rosta_programmes": False}
    e, _ = explain("kvantorium_share", [report])
    assert (e.value.numerator, e.value.denominator) == (20, 300)


def assessed(principal: str, on: str, level: str, score: float | None) -> dict[str, Any]:
    return dict(type=PRINCIPAL, principal=principal, assessed_on=on, level=level, score=score)


def test_principals_counted_once_by_their_latest_assessment() -> None:
    facts = [context(), assessed("rA", "2025-10-01", "низкий", 40),
             assessed("rA", "2026-03-01", "высокий", 90), assessed("rB", "2026-02-01", "средний",
                                                                   None)]  # fmt: skip
    e, body = explain("principal_high_level_share", facts)
    assert (e.value.numerator, e.value.denominator) == (1, 2)
    [a] = body["in_numerator"]
    assert a["key"] == {"fact": "оценка компетенций руководителя", "year": NOW,
                        "principal": "rA", "assessed_on": "2026-03-01"}  # fmt: skip
    assert a["values"]["earlier_assessments"] == [
        {"assessed_on": "2025-10-01", "level": "низкий", "score": 40}]  # fmt: skip
    e, _ = explain("principal_low_level_share", facts)
    assert (e.value.numerator, e.value.denominator) == (0, 2)  # rA's «низкий» was replaced
    e, body = explain("principal_mean_score", facts)
    assert (e.value.numerator, e.value.denominator) == (90, 1)  # rB has no score
    assert [i["key"]["principal"] for i in body["considered_not_counted"]] == ["rB"]
    e, _ = explain("principal_assessed", facts)
    assert (e.value.numerator, e.value.denominator) == (1, 1)
    e, body = explain("principal_assessed", [context()])
    assert (e.value.numerator, e.value.denominator) == (0, 1)
    assert body["considered_not_counted"][0]["what"] == "контекстные данные ОО"
