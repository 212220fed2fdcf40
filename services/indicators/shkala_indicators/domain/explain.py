"""How a value is counted (как посчитано): the facts behind one indicator value of a school.

For each kind an *explainer* lists what it counts — each fact, student, teacher or sitting by
its natural key and pseudonym, never a raw id — with its part of the numerator and of the
denominator and the values that decided it. The explanation is honest by construction:
:func:`explain_value` computes the value with the computation itself (:mod:`compute`) and
shows the itemised facts only when they reproduce its numerator and denominator exactly;
a kind without an explainer, or one whose items do not add up, says «facts not itemised»
instead of showing anything that could be wrong. Pure: no framework imports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shkala_indicators.domain.catalogue import Catalogue, Indicator
from shkala_indicators.domain.compute import (
    _SITTING_PROCEDURES,
    ASSESSMENT,
    CONTEXT,
    COURSE,
    DEFICITS,
    LESSONS,
    MENTORING,
    ROUTE,
    STAFFING,
    Fact,
    SchoolFacts,
    Value,
    at_risk,
    compute_school,
    years_of,
)
from shkala_indicators.domain.directions import CAREER, PRINCIPAL, UPBRINGING
from shkala_indicators.domain.seed_formulas import (
    ENROLLED,
    GRADUATES,
    correlation_parts,
    enrolled,
)

FACT_NAMES = {
    ASSESSMENT: "результат оценочной процедуры",
    LESSONS: "пропуски уроков",
    STAFFING: "штатное расписание",
    DEFICITS: "диагностика профессиональных дефицитов",
    COURSE: "курс повышения квалификации",
    ROUTE: "индивидуальный образовательный маршрут",
    MENTORING: "пара наставничества",
    CONTEXT: "контекстные данные ОО",
    "ru.shkala.fact.federal_nonobjectivity_listed.v1": "федеральный перечень ОО",
    CAREER: "отчёт о профориентации",
    UPBRINGING: "отчёт о воспитании и социализации",
    PRINCIPAL: "оценка компетенций руководителя",
}
KEY_FIELDS = {
    ASSESSMENT: ("procedure", "subject", "grade", "class_label", "student", "olympiad_stage"),
    LESSONS: ("student", "period_start", "period_end", "reason"),
    STAFFING: ("as_of", "position", "subject"),
    DEFICITS: ("teacher",),
    COURSE: ("teacher", "course", "completed_on"),
    ROUTE: ("teacher",),
    MENTORING: ("mentor", "mentee"),
    CONTEXT: ("as_of",),
    "ru.shkala.fact.federal_nonobjectivity_listed.v1": ("procedure",),
    CAREER: ("as_of",),
    UPBRINGING: ("as_of",),
    PRINCIPAL: ("principal", "assessed_on"),
}
"""The natural key of each fact as an official finds it in their own rows (the contract's
``key_fields`` without the school and year, which the explanation states once; plus the
class label of a result, which is not part of the key but is how a school files it)."""

TOLERANCE = 1e-9


@dataclass(frozen=True)
class Counted:
    """One thing an indicator counts: a fact, or a student/teacher/sitting made of facts."""

    what: str  # in the domain's words: «результат», «обучающийся», «педагог», …
    key: dict[str, Any]  # natural key: pseudonyms, procedure, subject, grade, year…
    values: dict[str, Any]  # the values that decided it
    numerator: float  # its part of the numerator
    denominator: float  # its part of the denominator

    def describe(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "key": self.key,
            "values": self.values,
            "numerator": self.numerator,
            "denominator": self.denominator,
        }


@dataclass(frozen=True)
class Itemised:
    """What an explainer found: the numerator and denominator it re-derives from ``counted``
    (their sums, unless ``how`` says otherwise) and, for a statistic, its working."""

    numerator: float
    denominator: float
    counted: tuple[Counted, ...]
    how: str = ""  # how numerator/denominator follow from the items, when not plain sums
    statistic: dict[str, Any] | None = None


@dataclass(frozen=True)
class Scope:
    """What an explainer may read besides the facts: parameters, the school's other values
    (a composite's criteria), and the periods of ``sf`` and its earlier years."""

    params: Mapping[str, Any]
    values: Mapping[str, Value]
    periods: Sequence[str]


Explainer = Callable[[Indicator, SchoolFacts, Scope], "Itemised | None"]
_EXPLAINERS: dict[str, Explainer] = {}


def explainer(kind: str) -> Callable[[Explainer], Explainer]:
    def register(fn: Explainer) -> Explainer:
        _EXPLAINERS[kind] = fn
        return fn

    return register


def explained_kinds() -> frozenset[str]:
    return frozenset(_EXPLAINERS)


@dataclass(frozen=True)
class Explanation:
    """One value with how it is counted. ``itemised`` False: ``note`` says why not."""

    indicator: Indicator
    value: Value | None
    at_risk: bool
    itemised: bool
    counted: tuple[Counted, ...] = ()
    how: str = ""
    statistic: dict[str, Any] | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        ind, v = self.indicator, self.value
        num = [c.describe() for c in self.counted if c.numerator]
        den = [c.describe() for c in self.counted if c.denominator and not c.numerator]
        basis = [c.describe() for c in self.counted if not c.numerator and not c.denominator]
        return {
            "indicator_id": ind.id,
            "kind": ind.kind,
            "value": v.value if v else None,
            "numerator": v.numerator if v else None,
            "denominator": v.denominator if v else None,
            "at_risk": self.at_risk,
            "itemised": self.itemised,
            "note": self.note,
            "how": self.how,
            "statistic": self.statistic,
            # every counted item once: in the numerator (and usually the denominator too),
            # in the denominator only, or read but counted in neither
            "in_numerator": num,
            "in_denominator_only": den,
            "considered_not_counted": basis,
        }


def key_of(f: Fact, period: str) -> dict[str, Any]:
    fields = KEY_FIELDS.get(f["type"], ())
    return {
        "fact": FACT_NAMES.get(f["type"], f["type"]),
        "year": period,
        **{k: f[k] for k in fields if f.get(k) is not None},
    }


def _context_item(
    sf: SchoolFacts, period: str, den: float, num: float = 0, **values: Any
) -> Counted:
    ctx = sf.context
    return Counted("контекстные данные ОО", key_of(ctx, period) if ctx else {}, values, num, den)


def explain_value(
    catalogue: Catalogue,
    indicator_id: str,
    facts: Iterable[Fact],
    earlier: Sequence[Iterable[Fact]] | None,
    periods: Sequence[str],
) -> Explanation:
    """The value of one indicator over a school's current facts (``earlier``: its previous
    years' facts, the previous one first; ``periods``: this period, then the earlier ones),
    with the facts behind it when they reproduce the computed numerator and denominator."""
    facts = list(facts)
    earlier_l = [list(e) for e in earlier] if earlier is not None else None
    values = compute_school(catalogue, facts, earlier_l)
    ind = catalogue.get(indicator_id)
    v = values.get(indicator_id)
    risk = at_risk(ind, v)
    if v is None:
        return Explanation(ind, None, False, False, note="нет значения: не хватает данных")
    fn = _EXPLAINERS.get(ind.kind)
    if fn is None:
        return Explanation(
            ind, v, risk, False,
            note=f"факты не перечислены: для вида показателя {ind.kind!r} нет разбора по "
            "фактам (facts not itemised); числитель и знаменатель — как вычислены",
        )  # fmt: skip
    sf = SchoolFacts(facts, [SchoolFacts(e) for e in earlier_l] if earlier_l is not None else None)
    got = fn(ind, sf, Scope(catalogue.parameters, values, periods))
    if (
        got is None
        or abs(got.numerator - v.numerator) > TOLERANCE
        or abs(got.denominator - v.denominator) > TOLERANCE
    ):
        found = "—" if got is None else f"{got.numerator:g}/{got.denominator:g}"
        return Explanation(
            ind, v, risk, False,
            note=f"факты не перечислены: разбор ({found}) не воспроизводит вычисленные "
            f"{v.numerator:g}/{v.denominator:g} (facts not itemised)",
        )  # fmt: skip
    return Explanation(ind, v, risk, True, got.counted, got.how, got.statistic)


def itemised(
    counted: list[Counted], how: str = "", statistic: dict[str, Any] | None = None
) -> Itemised:
    """The plain case: numerator and denominator are the sums of the items' parts."""
    return Itemised(
        sum(c.numerator for c in counted), sum(c.denominator for c in counted),
        tuple(counted), how, statistic,
    )  # fmt: skip


def brief(r: Fact, *fields: str) -> dict[str, Any]:
    """A result's natural key and the named values, for a student's list of results."""
    out = {k: r[k] for k in ("procedure", "subject", "grade", "class_label") if r.get(k)}
    return out | {k: r.get(k) for k in fields}


# ----------------------------------------------------------------- ШНОР (seed 002)


@explainer("ege_high_scorers")
def _ege_high(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    by_student: dict[str, list[Fact]] = defaultdict(list)
    for r in sf.results("ЕГЭ"):
        by_student[r["student"]].append(r)
    cut = s.params["ege_high_score"]
    graduates = ind.params.get("denominator", GRADUATES) == GRADUATES
    out = []
    for st, rs in sorted(by_student.items()):
        scores = [r["test_score"] for r in rs if r.get("test_score") is not None]
        best = max(scores, default=None)
        high = best is not None and best >= cut
        out.append(
            Counted(
                "выпускник, сдававший ЕГЭ", {"student": st, "year": s.periods[0]},
                {"results": [brief(r, "test_score", "mark") for r in rs],
                 "best_test_score": best, "ege_high_score": cut, "high_scorer": high},
                1 if high else 0, 0 if graduates else 1,
            )
        )  # fmt: skip
    if graduates:
        n = (sf.context or {}).get("graduates_11")
        out.append(_context_item(sf, s.periods[0], n or 0, graduates_11=n))
    return itemised(out)


@explainer("gia_below_minimum")
def _gia_below(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    subjects, minimum = set(s.params["gia_subjects"]), s.params["ege_minimum"]
    by_student: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sf.of(ASSESSMENT):
        if r["subject"] not in subjects or r["procedure"] not in ("ОГЭ", "ГВЭ", "ЕГЭ"):
            continue
        score = r.get("test_score")
        if r["procedure"] == "ЕГЭ" and score is not None:
            failed, cut = score < minimum.get(r["subject"], 0), minimum.get(r["subject"])
        else:
            failed, cut = r.get("mark") == 2, None
        by_student[r["student"]].append(
            brief(r, "mark", "test_score") | {"minimum": cut, "below": failed}
        )
    graduates = ind.params.get("denominator", GRADUATES) == GRADUATES
    out = [
        Counted(
            "выпускник, сдававший ГИА", {"student": st, "year": s.periods[0]},
            {"results": rs, "below_minimum": any(r["below"] for r in rs)},
            1 if any(r["below"] for r in rs) else 0, 0 if graduates else 1,
        )
        for st, rs in sorted(by_student.items())
    ]  # fmt: skip
    if graduates:
        ctx = sf.context or {}
        g9, g11 = ctx.get("graduates_9"), ctx.get("graduates_11")
        out.append(
            _context_item(
                sf, s.periods[0], (g9 or 0) + (g11 or 0), graduates_9=g9, graduates_11=g11
            )
        )
    return itemised(out)


@explainer("mark2_share")
def _mark2(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    q = ind.params
    subjects = set(q.get("subjects") or ())
    grades = set(s.params[q["grades_param"]]) if q.get("grades_param") else set()
    by_enrolled = q.get("denominator", ENROLLED) == ENROLLED
    years = years_of(ind, s.params)
    chain: list[SchoolFacts] = [sf, *(sf.earlier or [])][:years]
    out: list[Counted] = []
    for i in range(years):
        year_facts = chain[i] if i < len(chain) else None
        if year_facts is None or i >= len(s.periods):
            return None
        period = s.periods[i]
        rows = [
            r
            for r in year_facts.results(q["procedure"])
            if r.get("mark") is not None
            and (not subjects or r["subject"] in subjects)
            and (not grades or r["grade"] in grades)
        ]
        if not rows:
            return None
        if not by_enrolled:
            out += [
                Counted("результат", key_of(r, period), {"mark": r["mark"]}, int(r["mark"] == 2), 1)
                for r in rows
            ]
            continue
        twos: dict[str, list[Fact]] = defaultdict(list)
        for r in rows:
            if r["mark"] == 2:
                twos[r["student"]].append(r)
        out += [
            Counted(
                "обучающийся с отметкой «2»", {"student": st, "year": period},
                {"results": [brief(r, "mark") for r in rs]}, 1, 0,
            )
            for st, rs in sorted(twos.items())
        ]  # fmt: skip
        for g in sorted({r["grade"] for r in rows}):
            n = enrolled(year_facts.context, g)
            if n is None:
                return None
            out.append(_context_item(year_facts, period, n, grade=g, **{f"enrolled_grade_{g}": n}))
    return itemised(out)


@explainer("vpr_journal_correlation")
def _correlation(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    subjects = set(ind.params.get("subjects") or ())
    out: list[Counted] = []
    table: dict[tuple[int, int], float] = defaultdict(float)
    for r in sf.results("ВПР"):
        if r.get("mark") is None or r.get("journal_mark") is None:
            continue
        if subjects and r["subject"] not in subjects:
            continue
        table[(r["mark"], r["journal_mark"])] += 1
        values = {"mark": r["mark"], "journal_mark": r["journal_mark"]}
        out.append(Counted("пара отметок", key_of(r, s.periods[0]), values, 0, 1))
    method = ind.params.get("method", "spearman")
    got = correlation_parts(table, method, int(s.params.get("correlation_min_pairs", 2)))
    if got is None:
        return None
    stat = {
        "method": method,
        "pairs": got[1],
        "r": got[0] / got[1],
        "table": [
            {"vpr_mark": x, "journal_mark": y, "results": c} for (x, y), c in sorted(table.items())
        ],
    }
    how = "знаменатель — число пар (отметка ВПР, отметка по журналу); числитель — r × n"
    return Itemised(got[0], got[1], tuple(out), how, stat)


@explainer("accreditation")
def _accreditation(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    ctx = sf.context
    if ctx is None:
        return None
    bad = ctx["accreditation"] in ("приостановлена", "лишена")
    item = Counted(
        "контекстные данные ОО", key_of(ctx, s.periods[0]),
        {"accreditation": ctx["accreditation"]}, 1 if bad else 0, 1,
    )  # fmt: skip
    return itemised([item])


# ------------------------------------------------------- objectivity (ВПР vs the journal)

_COMPARE = {
    "lowered": lambda m, j: m < j,
    "confirmed": lambda m, j: m == j,
    "raised": lambda m, j: m > j,
}


@explainer("vpr_vs_journal")
def _vpr_vs_journal(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    test = _COMPARE[ind.params["compare"]]
    return itemised(
        [
            Counted(
                "результат", key_of(r, s.periods[0]),
                {"mark": r["mark"], "journal_mark": r["journal_mark"]},
                1 if test(r["mark"], r["journal_mark"]) else 0, 1,
            )
            for r in sf.results("ВПР")
            if r.get("journal_mark") is not None
        ]
    )  # fmt: skip


@explainer("medalists_not_confirming")
def _medalists(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    by_student: dict[str, list[Fact]] = defaultdict(list)
    for r in sf.results("ЕГЭ"):
        if r.get("medalist"):
            by_student[r["student"]].append(r)
    cut = s.params["medalist_confirm_score"]
    out = []
    for st, rs in sorted(by_student.items()):
        scores = [r["test_score"] for r in rs if r.get("test_score") is not None]
        low = min(scores, default=None)
        bad = low is not None and low < cut
        out.append(
            Counted(
                "медалист", {"student": st, "year": s.periods[0]},
                {"results": [brief(r, "test_score") for r in rs], "lowest_test_score": low,
                 "medalist_confirm_score": cut, "not_confirming": bad},
                1 if bad else 0, 1,
            )
        )  # fmt: skip
    return itemised(out)


@explainer("observed_procedures")
def _observed(ind: Indicator, sf: SchoolFacts, s: Scope) -> Itemised | None:
    sittings: dict[tuple[str, str, int], list[bool]] = defaultdict(list)
    for r in sf.of(ASSESSMENT):
        if r["procedure"] in _SITTING_PROCEDURES:
            sittings[(r["procedure"], r["subject"], r["grade"])].append(
                bool(r.get("public_observer"))
            )
    return itemised(
        [
            Counted(
                "проведение процедуры",
                {"procedure": p, "subject": subj, "grade": g, "year": s.periods[0]},
                {"results": len(obs), "observed": any(obs)}, 1 if any(obs) else 0, 1,
            )
            for (p, subj, g), obs in sorted(sittings.items())
        ]
    )  # fmt: skip


# the other kinds: school context, attendance, staffing, teachers, olympiads, composites;
# then the four directions (mark shares, mean scores, ЕГЭ 3+, dynamics, reports, principals)
from shkala_indicators.domain import explain_directions as _directions  # noqa: E402, F401
from shkala_indicators.domain import explain_kinds as _kinds  # noqa: E402, F401
