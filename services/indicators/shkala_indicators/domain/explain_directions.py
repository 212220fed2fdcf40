"""Explainers (как посчитано) of the four directions of :mod:`directions`: the mark shares and
mean scores of students' preparation, ЕГЭ passed in three or more subjects, year-on-year
dynamics, the career-guidance and upbringing reports, and the principals' competence
assessments. Each lists what :mod:`directions` counts, with the same fact filters
(``selected``, ``passed_for_admission``, ``latest``, ``_assessments``); :func:`explain.
explain_value` shows the list only when it reproduces the computed figures."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from shkala_indicators.domain.catalogue import Indicator
from shkala_indicators.domain.compute import ASSESSMENT, Fact, SchoolFacts, Value
from shkala_indicators.domain.directions import (
    PRINCIPAL,
    REPORTS,
    _assessments,
    improved,
    latest,
    measure_of,
    passed_for_admission,
    selected,
    subjects_of,
)
from shkala_indicators.domain.explain import (
    Counted,
    Itemised,
    Scope,
    _context_item,
    brief,
    explainer,
    itemised,
    key_of,
)
from shkala_indicators.domain.seed_formulas import graduates

# ----------------------------------------------------------- students' preparation


def _mark_share_items(ind: Indicator, sf: SchoolFacts, s: Scope, period: str) -> list[Counted]:
    """Every result the share counts: in its denominator, and in its numerator at min_mark."""
    subjects = subjects_of(ind, s.params)
    at_least = int(ind.params["min_mark"])
    return [
        Counted("результат", key_of(r, period), {"mark": r["mark"], "min_mark": at_least},
                1 if r["mark"] >= at_least else 0, 1)
        for r in sf.of(ASSESSMENT)
        if selected(ind, subjects, r)
    ]  # fmt: skip


@explainer("mark_share")
def _mark_share(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    out = _mark_share_items(ind, sf, s, s.periods[0])
    return itemised(out) if out else None


@explainer("mean_score")
def _mean_score(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    field = ind.params.get("field", "test_score")
    out = []
    for r in sf.results(ind.params["procedure"]):
        score = r.get(field)
        # a result without the score (ЕГЭ базовая математика: a mark only) is shown, not counted
        out.append(
            Counted("результат", key_of(r, s.periods[0]), {field: score, "mark": r.get("mark")},
                    score if score is not None else 0, 1 if score is not None else 0)
        )  # fmt: skip
    if not any(c.denominator for c in out):
        return None
    return itemised(out, f"значение — числитель / знаменатель: средний {field}")


@explainer("ege_subjects_passed")
def _ege_subjects_passed(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    rows = sf.results("ЕГЭ")
    if not rows:
        return None
    minimum = s.params[ind.params["minimum_param"]]
    need = int(ind.params.get("min_subjects", 3))
    by_student: dict[str, list[Fact]] = defaultdict(list)
    for r in rows:
        by_student[r["student"]].append(r)
    out = []
    for st, rs in sorted(by_student.items()):
        passed = sorted({r["subject"] for r in rs if passed_for_admission(r, minimum)})
        out.append(
            Counted(
                "выпускник, сдававший ЕГЭ", {"student": st, "year": s.periods[0]},
                {"results": [brief(r, "test_score", "mark")
                             | {"minimum": minimum.get(r["subject"]),
                                "passed": passed_for_admission(r, minimum)} for r in rs],
                 "subjects_passed": passed, "min_subjects": need},
                1 if len(passed) >= need else 0, 0,
            )
        )  # fmt: skip
    n = graduates(sf.context, (11,))
    if not n:
        return None
    out.append(_context_item(sf, s.periods[0], n, graduates_11=n))
    return itemised(out, "знаменатель — выпускники 11 кл. из контекстных данных ОО")


@explainer("dynamics")
def _dynamics(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    if not sf.earlier or sf.earlier[0] is None or len(s.periods) < 2:
        return None
    measure = measure_of(ind)
    out: list[Counted] = []
    shares: list[Value | None] = []
    stat: dict[str, Any] = {"measure": measure.params, "better": ind.better, "years": []}
    for year_facts, period in ((sf, s.periods[0]), (sf.earlier[0], s.periods[1])):
        items = _mark_share_items(measure, year_facts, s, period)
        num, den = sum(c.numerator for c in items), sum(c.denominator for c in items)
        share = Value.of(num, den, ind.scale) if den else None
        shares.append(share)
        stat["years"].append({"year": period, "numerator": num, "denominator": den,
                              "value": share.value if share else None})  # fmt: skip
        # the results of each year's share: read, not counted in the 1/0 itself
        out += [
            Counted("результат (доля года)", c.key,
                    c.values | {"in_share_numerator": bool(c.numerator)}, 0, 0)
            for c in items
        ]  # fmt: skip
    got = improved(ind.better, shares[0], shares[1])
    if got is None:
        return None
    stat["improved"] = bool(got.numerator)
    how = (
        "1 из 1, если доля этого года лучше доли предыдущего (better), иначе 0 из 1; "
        "доли — из перечисленных результатов каждого года"
    )
    return Itemised(got.numerator, got.denominator, tuple(out), how, stat)


# ----------------------------------------------------------- the schools' reports

_REPORT_NAMES = {"career": "отчёт о профориентации", "upbringing": "отчёт о воспитании"}


def _superseded(sf: SchoolFacts, report: Fact, kind: str, period: str) -> list[Counted]:
    """The year's earlier reports, replaced by the latest one: shown, not counted."""
    return [
        Counted(f"{_REPORT_NAMES[kind]} (заменён более поздним)", key_of(r, period), {}, 0, 0)
        for r in sf.of(REPORTS[kind])
        if r is not report
    ]


@explainer("report_share")
def _report_share(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    q = ind.params
    report = latest(sf, REPORTS[q["report"]])
    if report is None or report.get(q["numerator"]) is None:
        return None
    period, num_f = s.periods[0], q["numerator"]
    what = f"{_REPORT_NAMES[q['report']]} (последний за год)"
    if q.get("denominator_context"):
        den_f = q["denominator_context"]
        ctx = sf.context
        den = ctx.get(den_f) if ctx is not None else None
        if not den:
            return None
        num = min(report[num_f], den)
        out = [
            Counted(what, key_of(report, period), {num_f: report[num_f]}, num, 0),
            _context_item(sf, period, den, **{den_f: den}),
        ]
    else:
        den_f = q["denominator"]
        den = report.get(den_f)
        if not den:
            return None
        num = min(report[num_f], den)
        values = {num_f: report[num_f], den_f: den}
        out = [Counted(what, key_of(report, period), values, num, den)]
    out += _superseded(sf, report, q["report"], period)
    how = f"числитель — {num_f}, не больше знаменателя ({den_f})"
    return itemised(out, how)


@explainer("report_flag")
def _report_flag(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    q = ind.params
    report = latest(sf, REPORTS[q["report"]])
    if report is None:
        return None
    yes = bool(report.get(q["field"]))
    what = f"{_REPORT_NAMES[q['report']]} (последний за год)"
    out = [Counted(what, key_of(report, s.periods[0]), {q["field"]: report.get(q["field"])},
                   1 if yes else 0, 1)]  # fmt: skip
    return itemised(out + _superseded(sf, report, q["report"], s.periods[0]))


# ----------------------------------------------------------- principals' effectiveness


def _principal_items(sf: SchoolFacts, s: Scope, counts: Any) -> list[Counted]:
    """Each principal's latest assessment of the year (``counts``: its numerator and
    denominator parts), the earlier ones of the same principal shown beside it."""
    latest_of = _assessments(sf)
    out = []
    for principal, r in sorted(latest_of.items()):
        earlier = [
            {"assessed_on": x["assessed_on"], "level": x["level"], "score": x.get("score")}
            for x in sf.of(PRINCIPAL)
            if x["principal"] == principal and x is not r
        ]
        num, den = counts(r)
        out.append(
            Counted(
                "руководитель ОО (последняя оценка за год)", key_of(r, s.periods[0]),
                {"assessed_on": r["assessed_on"], "level": r["level"], "score": r.get("score"),
                 "earlier_assessments": earlier},
                num, den,
            )
        )  # fmt: skip
    return out


@explainer("principal_assessed")
def _principal_assessed(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    rows = sf.of(PRINCIPAL)
    if sf.context is None and not rows:
        return None
    out = _principal_items(sf, s, lambda r: (0, 0))
    if not rows:  # the school reported its context, but no assessment
        out.append(_context_item(sf, s.periods[0], 0))
    how = "1 из 1, если за год есть хотя бы одна оценка руководителя, иначе 0 из 1"
    return Itemised(1 if rows else 0, 1, tuple(out), how)


@explainer("principal_level")
def _principal_level(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    levels = set(ind.params["levels"])
    out = _principal_items(sf, s, lambda r: (1 if r["level"] in levels else 0, 1))
    return itemised(out) if out else None


@explainer("principal_score")
def _principal_score(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    out = _principal_items(
        sf, s, lambda r: (r["score"], 1) if r.get("score") is not None else (0, 0)
    )
    if not any(c.denominator for c in out):
        return None
    return itemised(out, "значение — сумма баллов / число руководителей с баллом")
