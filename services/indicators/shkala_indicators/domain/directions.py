"""Indicators of the four directions the results-and-lists core did not cover (ФИОКО):

1. assessment of students' preparation (оценка качества подготовки обучающихся): shares of
   results at or above a mark per level of education (НОО, ООО, СОО), the mean ЕГЭ score,
   functional literacy and its year-on-year dynamics (seed 000 §2.1, seed 003 3.3);
4. self-determination and career guidance (самоопределение и профориентация): ЕГЭ passed in
   three or more subjects (seed 000 §2.4) and the school's career-guidance report;
6. principals' effectiveness (эффективность руководителей): the competence assessments
   (seed 000 §2.6);
9. upbringing and socialisation (воспитание и социализация): the school's upbringing report,
   additional education, «Точка роста», «Кванториум» (seed 003 3.5, 3.6; seed 000 §2.9).

Assessment results are streamed into a cell's counters (:class:`Counters`, which
``stats.Rules`` delegates to), the reports are kept whole; both paths — counters and whole
facts (``compute_school``) — give the same values, checked by the unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from shkala_indicators.domain.catalogue import Catalogue, CatalogueError, Indicator
from shkala_indicators.domain.compute import ASSESSMENT, Fact, SchoolFacts, Value, computer
from shkala_indicators.domain.seed_formulas import graduates

CAREER = "ru.shkala.fact.career_guidance.v1"
UPBRINGING = "ru.shkala.fact.upbringing.v1"
PRINCIPAL = "ru.shkala.fact.principal_competence.v1"
REPORTS = {"career": CAREER, "upbringing": UPBRINGING}

STREAMED_KINDS = frozenset({"mark_share", "mean_score", "ege_subjects_passed", "dynamics"})
SUM, DISTINCT = 0, 1  # the op codes of stats.SUM and stats.DISTINCT (stats imports this module)


class Cell(Protocol):
    """What this module reads of a cell's counters (``stats.CellStats``)."""

    @property
    def sums(self) -> Mapping[Any, float]: ...
    @property
    def distinct(self) -> Mapping[Any, int]: ...
    @property
    def kept(self) -> Mapping[str, Fact]: ...


# ------------------------------------------------------------ which results count (pure)


def subjects_of(ind: Indicator, p: Mapping[str, Any]) -> set[str]:
    q = ind.params
    if q.get("subjects_param"):
        return set(p[q["subjects_param"]])
    return set(q.get("subjects") or ())


def selected(ind: Indicator, subjects: set[str], row: Fact) -> bool:
    """A result of the indicator's procedures, grades and subjects with a mark."""
    q = ind.params
    procedures = q.get("procedures")
    grades = q.get("grades")
    return (
        row.get("mark") is not None
        and (not procedures or row["procedure"] in procedures)
        and (not grades or row["grade"] in grades)
        and (not subjects or row["subject"] in subjects)
    )


def passed_for_admission(row: Fact, minimum: Mapping[str, float]) -> bool:
    """An ЕГЭ result at or above the subject's admission minimum (a subject without one, and
    ЕГЭ базовая математика — a mark, no score — do not count)."""
    score = row.get("test_score")
    cut = minimum.get(row["subject"])
    return score is not None and cut is not None and score >= cut


_MEASURES: dict[int, tuple[Indicator, Indicator]] = {}


def measure_of(ind: Indicator) -> Indicator:
    """The share a ``dynamics`` indicator compares year on year, as an indicator of its own
    (built once per definition: every cell of every batch asks)."""
    got = _MEASURES.get(id(ind))
    if got is None or got[0] is not ind:
        m = ind.params["measure"]
        made = replace(ind, id=f"{ind.id}:measure", kind=m["kind"], params=dict(m["params"]))
        got = _MEASURES[id(ind)] = (ind, made)
    return got[1]


def improved(better: str, now: Value | None, before: Value | None) -> Value | None:
    """1 when the value moved the better way since the previous year, 0 when it did not."""
    if now is None or before is None or now.value is None or before.value is None:
        return None
    up = now.value > before.value if better == "up" else now.value < before.value
    return Value.of(1 if up else 0, 1, 100.0)


# --------------------------------------------------------- counters (stats.Rules delegates)


class Counters:
    """Which counters of a cell one assessment result moves, for this module's indicators.

    Prepared once per catalogue: the mark shares indexed by procedure (a result looks only
    at the shares of its own procedure and those of any procedure), their counter keys built
    up front — a region streams a million results through :meth:`contribution`.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        p = catalogue.parameters
        # procedure (None: any) -> (grades, subjects, at least, denominator key, numerator key)
        self.marks: dict[str | None, list[tuple[Any, Any, int, Any, Any]]] = {}
        self.means: list[tuple[str, str, Any, Any]] = []
        self.passed: list[tuple[dict[str, float], Any, str]] = []
        for ind in catalogue.indicators:
            if ind.kind == "dynamics":
                ind = measure_of(ind)
                if ind.kind != "mark_share":
                    raise CatalogueError(f"{ind.id}: dynamics measures a mark_share only")
            if ind.kind == "mark_share":
                q = ind.params
                spec = (
                    frozenset(q["grades"]) if q.get("grades") else None,
                    frozenset(subjects_of(ind, p)) or None,
                    int(q["min_mark"]),
                    ("ms_d", ind.id),
                    ("ms_n", ind.id),
                )
                for proc in q.get("procedures") or (None,):
                    self.marks.setdefault(proc, []).append(spec)
            elif ind.kind == "mean_score":
                q = ind.params
                self.means.append((q["procedure"], q.get("field", "test_score"),
                                   ("mean_d", ind.id), ("mean_n", ind.id)))  # fmt: skip
            elif ind.kind == "ege_subjects_passed":
                minimum = dict(p[ind.params["minimum_param"]])
                self.passed.append((minimum, ("egp_rows", ind.id), ind.id))
        self.any_procedure = self.marks.get(None, [])
        self.active = bool(self.marks or self.means or self.passed)
        self._ops: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        """(procedure, grade, subject, mark) → the mark shares' counter ops, worked out once."""

    def _mark_ops(self, proc: str, grade: int, subject: str, mark: int) -> tuple[Any, ...]:
        out: list[Any] = []
        for specs in (self.marks.get(proc, ()), self.any_procedure):
            for grades, subjects, at_least, den, num in specs:
                if (grades is None or grade in grades) and (
                    subjects is None or subject in subjects
                ):
                    out += (SUM, den, 1.0)
                    if mark >= at_least:
                        out += (SUM, num, 1.0)
        return tuple(out)

    def contribution(self, row: Fact, key: Callable[..., tuple[Any, ...]]) -> list[Any]:
        if not self.active:
            return []
        out: list[Any] = []
        proc, mark = row["procedure"], row.get("mark")
        if mark is not None:
            k = (proc, row["grade"], row["subject"], mark)
            ops = self._ops.get(k)
            if ops is None:
                ops = self._mark_ops(*k)
                if len(self._ops) < 100_000:  # a handful of procedures, grades, subjects
                    self._ops[k] = ops
            out += ops
        for procedure, field, den, num in self.means:
            score = row.get(field)
            if score is not None and proc == procedure:
                out += (SUM, den, 1.0, SUM, num, float(score))
        if proc == "ЕГЭ":
            for minimum, rows_key, ind_id in self.passed:
                out += (SUM, rows_key, 1.0)
                if passed_for_admission(row, minimum):
                    # group (ind, student) counts the student's distinct subjects passed
                    out += (DISTINCT, key(key("egp", ind_id, row["student"]), row["subject"]), 1.0)
        return out


def streamed_value(
    ind: Indicator,
    cell: Cell,
    earlier: Sequence[Cell | None] = (),
    sf: SchoolFacts | None = None,
) -> Value | None:
    """The value of one of this module's streamed indicators from a cell's counters
    (``sf``: the cell's kept facts, when the caller has them indexed already)."""
    s = cell.sums
    if ind.kind == "mark_share":
        num, den = s.get(("ms_n", ind.id), 0.0), s.get(("ms_d", ind.id), 0.0)
        return Value.of(num, den, ind.scale) if den else None
    if ind.kind == "mean_score":
        num, den = s.get(("mean_n", ind.id), 0.0), s.get(("mean_d", ind.id), 0.0)
        return Value.of(num, den, ind.scale) if den else None
    if ind.kind == "ege_subjects_passed":
        if not s.get(("egp_rows", ind.id)):
            return None  # no ЕГЭ results this year: nothing to count (not a zero)
        need = int(ind.params.get("min_subjects", 3))
        n = sum(
            1
            for g, k in cell.distinct.items()
            if k >= need and isinstance(g, tuple) and len(g) == 3 and g[:2] == ("egp", ind.id)
        )
        return _over_graduates(ind, n, sf if sf is not None else SchoolFacts(cell.kept.values()))
    # dynamics: this year's measure against the previous year's
    measure = measure_of(ind)
    before = earlier[0] if earlier else None
    return improved(
        ind.better,
        streamed_value(measure, cell),
        streamed_value(measure, before) if before is not None else None,
    )


def _over_graduates(ind: Indicator, n: int, sf: SchoolFacts) -> Value | None:
    den = graduates(sf.context, (11,))
    return Value.of(n, den, ind.scale) if den else None


# ------------------------------------------- the same from whole facts (compute_school path)


@computer("mark_share")
def _mark_share(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    subjects = subjects_of(ind, p)
    rows = [r for r in sf.of(ASSESSMENT) if selected(ind, subjects, r)]
    if not rows:
        return None
    at_least = int(ind.params["min_mark"])
    return Value.of(sum(1 for r in rows if r["mark"] >= at_least), len(rows), ind.scale)


@computer("mean_score")
def _mean_score(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    field = ind.params.get("field", "test_score")
    scores = [r[field] for r in sf.results(ind.params["procedure"]) if r.get(field) is not None]
    return Value.of(sum(scores), len(scores), ind.scale) if scores else None


@computer("ege_subjects_passed")
def _ege_subjects(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    if not sf.results("ЕГЭ"):
        return None  # no ЕГЭ results this year: nothing to count (not a zero)
    minimum = p[ind.params["minimum_param"]]
    subjects: dict[str, set[str]] = {}
    for r in sf.results("ЕГЭ"):
        if passed_for_admission(r, minimum):
            subjects.setdefault(r["student"], set()).add(r["subject"])
    need = int(ind.params.get("min_subjects", 3))
    return _over_graduates(ind, sum(1 for s in subjects.values() if len(s) >= need), sf)


@computer("dynamics")
def _dynamics(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    if not sf.earlier or sf.earlier[0] is None:
        return None
    measure = measure_of(ind)
    return improved(ind.better, _mark_share(measure, sf, p), _mark_share(measure, sf.earlier[0], p))


def latest(sf: SchoolFacts, event_type: str) -> Fact | None:
    rows = sf.of(event_type)
    return max(rows, key=lambda f: str(f["as_of"])) if rows else None


@computer("report_share")
def _report_share(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    """A count of the school's report over another count of it (or the context's)."""
    q = ind.params
    report = latest(sf, REPORTS[q["report"]])
    if report is None or report.get(q["numerator"]) is None:
        return None
    if q.get("denominator_context"):
        ctx = sf.context
        den = ctx.get(q["denominator_context"]) if ctx is not None else None
    else:
        den = report.get(q["denominator"])
    if not den:
        return None
    return Value.of(min(report[q["numerator"]], den), den, ind.scale)


@computer("report_flag")
def _report_flag(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    """1 (shown as 100 %) when the report says yes: summed over schools, the share of schools."""
    report = latest(sf, REPORTS[ind.params["report"]])
    if report is None:
        return None
    return Value.of(1 if report.get(ind.params["field"]) else 0, 1, ind.scale)


def _assessments(sf: SchoolFacts) -> dict[str, Fact]:
    """The latest assessment of each principal of the school in the year."""
    out: dict[str, Fact] = {}
    for r in sorted(sf.of(PRINCIPAL), key=lambda f: str(f["assessed_on"])):
        out[r["principal"]] = r
    return out


@computer("principal_assessed")
def _principal_assessed(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    if sf.context is None and not sf.of(PRINCIPAL):
        return None  # nothing says the school reported this year
    return Value.of(1 if sf.of(PRINCIPAL) else 0, 1, ind.scale)


@computer("principal_level")
def _principal_level(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    got = _assessments(sf)
    if not got:
        return None
    levels = set(ind.params["levels"])
    return Value.of(sum(1 for r in got.values() if r["level"] in levels), len(got), ind.scale)


@computer("principal_score")
def _principal_score(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    scores = [r["score"] for r in _assessments(sf).values() if r.get("score") is not None]
    return Value.of(sum(scores), len(scores), ind.scale) if scores else None
