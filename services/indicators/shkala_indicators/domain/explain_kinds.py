"""Explainers (как посчитано) of the kinds beyond results: the school context, attendance,
staffing and teachers, olympiads, the composite index, and the objectivity kinds of
:mod:`objectivity`. Each lists what the computation of its kind counts; :func:`explain.
explain_value` shows the list only when it reproduces the computed figures."""

from __future__ import annotations

from collections import defaultdict

from shkala_indicators.domain.catalogue import Indicator
from shkala_indicators.domain.compute import (
    ASSESSMENT,
    COURSE,
    DEFICITS,
    LESSONS,
    MENTORING,
    ROUTE,
    Fact,
    SchoolFacts,
)
from shkala_indicators.domain.explain import (
    Counted,
    Itemised,
    Scope,
    _context_item,
    explainer,
    itemised,
    key_of,
)
from shkala_indicators.domain.objectivity import (
    FEDERAL_LIST,
    _selected,
    boundaries_of,
    compare_with_journal,
)

# ----------------------------------------------------------------- school context


@explainer("context_share")
def _context_share(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    ctx = sf.context
    if ctx is None:
        return None
    f = ind.params["field"]
    total = ctx["students_total"]
    item = _context_item(sf, s.periods[0], total, ctx[f], **{f: ctx[f], "students_total": total})
    return itemised([item])


@explainer("context_flag")
def _context_flag(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    ctx = sf.context
    if ctx is None:
        return None
    f = ind.params["field"]
    return itemised([_context_item(sf, s.periods[0], 1, 1 if ctx[f] else 0, **{f: ctx[f]})])


# ----------------------------------------------------------------- attendance


@explainer("systematic_absence")
def _absence(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    ctx = sf.context
    if ctx is None or not ctx["students_total"]:
        return None
    cut = s.params["systematic_absence_lessons"]
    by_student: dict[str, list[Fact]] = defaultdict(list)
    for r in sf.of(LESSONS):
        if r["reason"] == "неуважительная":
            by_student[r["student"]].append(r)
    out = []
    for st, rs in sorted(by_student.items()):
        total = sum(r["lessons_missed"] for r in rs)
        out.append(
            Counted(
                "обучающийся с пропусками без уважительной причины",
                {"student": st, "year": s.periods[0]},
                {"periods": [{"period_start": r.get("period_start"),
                              "period_end": r.get("period_end"),
                              "lessons_missed": r["lessons_missed"]} for r in rs],
                 "lessons_missed": total, "systematic_absence_lessons": cut},
                1 if total >= cut else 0, 0,
            )
        )  # fmt: skip
    total_students = ctx["students_total"]
    out.append(_context_item(sf, s.periods[0], total_students, students_total=total_students))
    systematic = sum(c.numerator for c in out)
    how = (
        "числитель — обучающиеся с ≥ systematic_absence_lessons пропусками, "
        "не больше students_total"
    )
    return Itemised(min(systematic, total_students), total_students, tuple(out), how)


# ----------------------------------------------------------------- staffing and teachers


def _staffing_item(r: Fact, period: str, num: float, den: float) -> Counted:
    values = {k: r[k] for k in ("posts", "filled", "vacancies")}
    return Counted("строка штатного расписания", key_of(r, period), values, num, den)


@explainer("staffing_fill")
def _staffing_fill(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    rows = sf.latest_staffing()
    return itemised([_staffing_item(r, s.periods[0], r["filled"], r["posts"]) for r in rows])


@explainer("understaffed")
def _understaffed(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    rows = sf.latest_staffing()
    if not rows:
        return None
    posts = sum(r["posts"] for r in rows)
    filled = sum(r["filled"] for r in rows)
    vacancies = sum(r["vacancies"] for r in rows)
    ratio = s.params["understaffed_fill_ratio"]
    short = vacancies > 0 or (posts > 0 and filled / posts < ratio)
    stat = {
        "posts": posts,
        "filled": filled,
        "vacancies": vacancies,
        "fill_ratio": filled / posts if posts else None,
        "understaffed_fill_ratio": ratio,
    }
    how = "1, если есть вакансии или занято / по штату < understaffed_fill_ratio (последний отчёт)"
    return Itemised(
        1 if short else 0, 1, tuple(_staffing_item(r, s.periods[0], 0, 0) for r in rows), how, stat
    )


def _teacher_facts(sf: SchoolFacts, fact: str) -> tuple[str, list[Fact], str]:
    if fact == "deficits":
        return "teacher", sf.of(DEFICITS), "педагог с диагностикой дефицитов"
    if fact == "kpk_own_request":
        return (
            "teacher",
            [r for r in sf.of(COURSE) if r["on_own_request"]],
            "педагог, прошедший КПК по своему запросу",
        )
    if fact == "kpk_at_risk":
        return (
            "teacher",
            [r for r in sf.of(COURSE) if r["on_students_at_risk"]],
            "педагог, прошедший КПК по работе с группами риска",
        )
    if fact == "mentees":
        return "mentee", sf.of(MENTORING), "педагог-наставляемый"
    if fact == "routes":
        return "teacher", sf.of(ROUTE), "педагог с индивидуальным маршрутом"
    raise KeyError(fact)


@explainer("teacher_share")
def _teacher_share(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    field, rows, what = _teacher_facts(sf, ind.params["fact"])
    by_teacher: dict[str, list[Fact]] = defaultdict(list)
    for r in rows:
        by_teacher[r[field]].append(r)
    out = [
        Counted(what, {"teacher": t, "year": s.periods[0]},
                {"facts": [key_of(r, s.periods[0]) for r in rs]}, 1, 0)
        for t, rs in sorted(by_teacher.items())
    ]  # fmt: skip
    out += [
        _staffing_item(r, s.periods[0], 0, r["filled"])
        for r in sf.latest_staffing()
        if r["position"] == "учитель"
    ]
    return itemised(out, "знаменатель — занятые ставки учителей (последний отчёт)")


# ----------------------------------------------------------------- olympiads


@explainer("olympiad_share")
def _olympiad(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    ctx = sf.context
    if ctx is None or not ctx["students_total"]:
        return None
    statuses = set(ind.params["statuses"])
    by_student: dict[str, list[Fact]] = defaultdict(list)
    for r in sf.results("ВсОШ"):
        if r.get("olympiad_status") in statuses:
            by_student[r["student"]].append(r)
    out = [
        Counted(
            "обучающийся — участник ВсОШ", {"student": st, "year": s.periods[0]},
            {"results": [{"subject": r["subject"], "grade": r["grade"],
                          "olympiad_stage": r.get("olympiad_stage"),
                          "olympiad_status": r.get("olympiad_status")} for r in rs]},
            1, 0,
        )
        for st, rs in sorted(by_student.items())
    ]  # fmt: skip
    total = ctx["students_total"]
    out.append(_context_item(sf, s.periods[0], total, students_total=total))
    how = "числитель — обучающиеся (каждый один раз), не больше students_total"
    return Itemised(min(len(by_student), total), total, tuple(out), how)


# ----------------------------------------------------------------- the composite index


@explainer("composite")
def _composite(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    if sf.context is None:
        return None
    out = []
    for c in ind.criteria:
        v = s.values.get(c.indicator)
        fired = v is not None and v.value is not None and v.value >= c.at_least
        out.append(
            Counted(
                "критерий индекса", {"indicator": c.indicator, "year": s.periods[0]},
                {"value": v.value if v else None, "at_least": c.at_least, "weight": c.weight,
                 "fired": fired},
                0 if fired else c.weight, c.weight,
            )
        )  # fmt: skip
    how = (
        "числитель — сумма весов несработавших критериев (100 − сработавшие), "
        "знаменатель — сумма весов"
    )
    return itemised(out, how)


# ----------------------------------------------------------------- objectivity


@explainer("exam_vs_journal")
def _exam_vs_journal(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    want = ind.params["compare"]
    return itemised(
        [
            Counted(
                "результат", key_of(r, s.periods[0]),
                {"mark": r["mark"], "journal_mark": r["journal_mark"],
                 "compare": compare_with_journal(r["mark"], r["journal_mark"])},
                1 if compare_with_journal(r["mark"], r["journal_mark"]) == want else 0, 1,
            )
            for r in sf.results(ind.params["procedure"])
            if r.get("mark") is not None and r.get("journal_mark") is not None
        ]
    )  # fmt: skip


@explainer("mark_quality")
def _mark_quality(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    return itemised(
        [
            Counted("результат", key_of(r, s.periods[0]), {"mark": r["mark"]},
                    1 if r["mark"] >= 4 else 0, 1)
            for r in sf.of(ASSESSMENT)
            if r.get("mark") is not None and _selected(ind, r)
        ]
    )  # fmt: skip


@explainer("boundary_band")
def _boundary_band(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    band = float(ind.params.get("band", 2))
    out = []
    for r in sf.of(ASSESSMENT):
        if r.get("primary_score") is None or not _selected(ind, r):
            continue
        score = r["primary_score"]
        for b in boundaries_of(ind, r["subject"]):
            if b - band <= score < b + band:
                out.append(
                    Counted(
                        "результат у границы отметки", key_of(r, s.periods[0]),
                        {"primary_score": score, "boundary": b, "band": band,
                         "at_or_above": score >= b},
                        1 if score >= b else 0, 1,
                    )
                )  # fmt: skip
    return itemised(out, "знаменатель — результаты в окне [граница − band, граница + band)")


@explainer("federal_list")
def _federal_list(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    rows = sf.of(FEDERAL_LIST)
    if not rows:
        return None
    listed = any(r.get("listed", True) for r in rows)
    out = tuple(
        Counted(
            "запись федерального перечня", key_of(r, s.periods[0]),
            {"listed": r.get("listed", True), "document": r.get("document"),
             "subjects": r.get("subjects"), "grades": r.get("grades")},
            0, 0,
        )
        for r in rows
    )  # fmt: skip
    return Itemised(1 if listed else 0, 1, out, "1, если школа есть в перечне за год")
