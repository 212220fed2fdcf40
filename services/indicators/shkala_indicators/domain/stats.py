"""Sufficient statistics of one (school, period): what the indicators need, kept incrementally.

Most facts are assessment results and missed lessons (a typical region: about a million a
season). Each such fact is turned once into its *contribution* — a short tuple of operations on
counters — and the cell keeps only the counters (достаточные статистики: numerators,
denominators, distinct students/sittings). A correction subtracts the old fact's contribution
and adds the new one, so a batch costs O(facts in it + cells it touches), never a re-read of
the cell's facts. The few facts per school that indicators read whole (school context,
staffing reports, teachers' deficits, courses, routes, mentoring, consent) are kept whole and
evaluated by the functions of :mod:`compute`; the result is the same as
:func:`compute.compute_school` over the cell's current facts (the unit tests check it).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from shkala_indicators.domain import directions, objectivity
from shkala_indicators.domain.catalogue import Catalogue, Indicator
from shkala_indicators.domain.compute import (
    _COMPUTERS,
    ASSESSMENT,
    CONSENT,
    LESSONS,
    Fact,
    SchoolFacts,
    Value,
    _composite,
    years_of,
)
from shkala_indicators.domain.seed_formulas import (
    ENROLLED,
    GRADUATES,
    YearCounts,
    correlation_parts,
    graduates,
    mark2_parts,
)

STREAMED = frozenset({ASSESSMENT, LESSONS})
"""Fact types folded into counters; every other type is kept whole (a handful per school)."""

SUM, DISTINCT, ABSENCE, KEPT = 0, 1, 2, 3
Contribution = tuple[Any, ...]  # flat: (op, key, amount, op, key, amount, …)
_SITTINGS = ("ВПР", "ОГЭ", "ЕГЭ", "ГВЭ", "РКР", "РДР", "ДР-10", "НИКО", "МСИ")
_STREAMED_KINDS = {
    "ege_high_scorers",
    "gia_below_minimum",
    "mark2_share",
    "vpr_vs_journal",
    "medalists_not_confirming",
    "observed_procedures",
    "systematic_absence",
    "olympiad_share",
    "vpr_journal_correlation",
}


class Rules:
    """The catalogue's parameters, prepared once: which counters a fact moves."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        p = catalogue.parameters
        self.high = p.get("ege_high_score", 81)
        self.gia_subjects = set(p.get("gia_subjects") or ())
        self.minimum = dict(p.get("ege_minimum") or {})
        self.confirm = p.get("medalist_confirm_score", 0)
        self.absence_lessons = p.get("systematic_absence_lessons", 0)
        self.mark2: list[tuple[tuple[str, str], tuple[str, str], str, set[str], set[int]]] = []
        self.olympiad: list[tuple[tuple[str, str], set[str]]] = []
        self.correlations: list[tuple[str, set[str]]] = []
        self.years = max([years_of(i, p) for i in catalogue.indicators] or [1])
        """How many years the widest indicator spans (2 for «за 2 года»)."""
        for ind in catalogue.indicators:
            q = ind.params
            if ind.kind == "mark2_share":
                grades = set(p[q["grades_param"]]) if q.get("grades_param") else set()
                self.mark2.append(
                    (
                        ("m2d", ind.id),
                        ("m2n", ind.id),
                        q["procedure"],
                        set(q.get("subjects") or ()),
                        grades,
                    )
                )
            elif ind.kind == "olympiad_share":
                self.olympiad.append((("oly", ind.id), set(q["statuses"])))
            elif ind.kind == "vpr_journal_correlation":
                self.correlations.append((ind.id, set(q.get("subjects") or ())))
        self.teachers = [
            (("tvd", t.id), ("tvn", t.id), t.procedure) for t in catalogue.teacher_indicators
        ]
        self.objectivity = objectivity.Counters(catalogue)
        self.directions = directions.Counters(catalogue)
        self._keys: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._shared: dict[Contribution, Contribution] = {}

    def key(self, *parts: Any) -> tuple[Any, ...]:
        """One shared tuple per distinct key: a region holds millions of references to them."""
        k = self._keys.get(parts)
        if k is None:
            k = self._keys[parts] = parts
        return k

    def contribution(self, row: Fact) -> Contribution:
        """What one current fact adds to its cell's counters (``KEPT``: kept whole)."""
        t = row["type"]
        if t == LESSONS:
            if row.get("reason") == "неуважительная":
                return (ABSENCE, row["student"], float(row["lessons_missed"]))
            return ()
        if t != ASSESSMENT:
            return (KEPT, None, 0.0)
        out: list[Any] = []
        proc, subject, student = row["procedure"], row["subject"], row["student"]
        mark, score = row.get("mark"), row.get("test_score")
        if proc == "ЕГЭ":
            out += (DISTINCT, self.key("ege_st", student), 1.0)
            if score is not None and score >= self.high:
                out += (DISTINCT, self.key("ege_hi", student), 1.0)
            if row.get("medalist"):
                out += (DISTINCT, self.key("med", student), 1.0)
                if score is not None and score < self.confirm:
                    out += (DISTINCT, self.key("med_bad", student), 1.0)
        if subject in self.gia_subjects and proc in ("ОГЭ", "ГВЭ", "ЕГЭ"):
            out += (DISTINCT, self.key("gia", student), 1.0)
            if proc == "ЕГЭ" and score is not None:
                failed = score < self.minimum.get(subject, 0)
            else:  # ОГЭ, ГВЭ and ЕГЭ базовая математика: a mark
                failed = mark == 2
            if failed:
                out += (DISTINCT, self.key("gia_f", student), 1.0)
        if mark is not None:
            for den, num, procedure, subjects, grades in self.mark2:
                if (
                    proc == procedure
                    and (not subjects or subject in subjects)
                    and (not grades or row["grade"] in grades)
                ):
                    out += (SUM, den, 1.0, SUM, self.key("m2g", den[1], row["grade"]), 1.0)
                    if mark == 2:
                        out += (SUM, num, 1.0, DISTINCT, self.key(("m2s", num[1]), student), 1.0)
            if proc == "ВПР" and row.get("journal_mark") is not None:
                jm = row["journal_mark"]
                cmp = "lowered" if mark < jm else "confirmed" if mark == jm else "raised"
                out += (SUM, self.key("vj"), 1.0, SUM, self.key("vj", cmp), 1.0)
                for ind_id, subjects in self.correlations:
                    if not subjects or subject in subjects:
                        out += (SUM, self.key("cor", ind_id, mark, jm), 1.0)
            teacher = row.get("teacher")
            if teacher is not None:
                for den, num, procedure in self.teachers:
                    if proc == procedure:
                        out += (SUM, self.key(den[0], den[1], teacher), 1.0)
                        if mark == 2:
                            out += (SUM, self.key(num[0], num[1], teacher), 1.0)
        if proc in _SITTINGS:
            sitting = self.key(proc, subject, row["grade"])
            out += (DISTINCT, self.key("sit", sitting), 1.0)
            if row.get("public_observer"):
                out += (DISTINCT, self.key("sit_obs", sitting), 1.0)
        if proc == "ВсОШ":
            status = row.get("olympiad_status")
            for group, statuses in self.olympiad:
                if status in statuses:
                    out += (DISTINCT, self.key(group, student), 1.0)
        out += self.objectivity.contribution(row, self.key)
        out += self.directions.contribution(row, self.key)
        # most results contribute exactly what many others do (same subject, grade, mark):
        # one shared tuple for them all (a region keeps one contribution per current fact)
        c = tuple(out)
        if len(self._shared) < 200_000:
            c = self._shared.setdefault(c, c)
        return c


class CellStats:
    """Counters of one (school, period) plus the facts kept whole."""

    __slots__ = ("absence", "absent_over", "distinct", "kept", "members", "sums")

    def __init__(self) -> None:
        self.sums: dict[Hashable, float] = defaultdict(float)
        self.members: dict[Hashable, int] = {}  # (group, member) -> facts naming it
        self.distinct: dict[Hashable, int] = defaultdict(int)  # group -> members with facts
        self.absence: dict[str, float] = {}  # student -> unexcused lessons
        self.absent_over = 0  # students at or above the systematic-absence line
        self.kept: dict[str, Fact] = {}

    def apply(
        self, c: Contribution, sign: int, oid: str, row: Fact | None, absence_line: float
    ) -> None:
        """Add (``sign=1``) or subtract (``-1``) a fact's contribution."""
        for i in range(0, len(c), 3):
            op, key, amount = c[i], c[i + 1], c[i + 2]
            if op == SUM:
                self.sums[key] += sign * amount
            elif op == DISTINCT:
                n = self.members.get(key, 0) + sign
                group = key[0]  # keys are (group, member)
                if n <= 0:
                    self.members.pop(key, None)
                    self.distinct[group] -= 1
                else:
                    if n == 1 and sign > 0:
                        self.distinct[group] += 1
                    self.members[key] = n
            elif op == ABSENCE:
                before = self.absence.get(key, 0.0)
                after = before + sign * amount
                if after:
                    self.absence[sys.intern(key)] = after
                else:
                    self.absence.pop(key, None)
                self.absent_over += (after >= absence_line) - (before >= absence_line)
            elif op == KEPT:
                if sign > 0 and row is not None:
                    self.kept[oid] = row
                else:
                    self.kept.pop(oid, None)


def _mark2_year(ind: Indicator, stats: CellStats | None) -> YearCounts | None:
    if stats is None:
        return None
    s = stats.sums
    results = s.get(("m2d", ind.id), 0.0)
    if not results:
        return None
    grades = frozenset(k[0] for k in _keyed(s, "m2g", ind.id))
    ctx = SchoolFacts(stats.kept.values()).context
    students = stats.distinct.get(("m2s", ind.id), 0)
    return YearCounts(s.get(("m2n", ind.id), 0.0), students, results, grades, ctx)


def compute_values(
    rules: Rules, stats: CellStats, earlier: Sequence[CellStats | None] = ()
) -> dict[str, Value]:
    """Every indicator of the cell, equal to ``compute_school`` over its current facts.

    ``earlier``: the same school's cells of the previous years (previous first; None where
    the school has none), for the shares «за 2 года».
    """
    sf = SchoolFacts(stats.kept.values())
    ctx = sf.context
    total = ctx["students_total"] if ctx is not None else 0
    params = rules.catalogue.parameters
    values: dict[str, Value | None] = {}
    composites: list[Indicator] = []
    d, s = stats.distinct, stats.sums
    for ind in rules.catalogue.indicators:
        kind = ind.kind
        if kind == "composite":
            composites.append(ind)
            continue
        if kind in objectivity.STREAMED_KINDS:
            values[ind.id] = objectivity.streamed_value(ind, stats.sums)
            continue
        if kind in directions.STREAMED_KINDS:
            values[ind.id] = directions.streamed_value(ind, stats, earlier, sf)
            continue
        if kind not in _STREAMED_KINDS:
            values[ind.id] = _COMPUTERS[kind](ind, sf, params)
            continue
        v: Value | None = None
        if kind == "ege_high_scorers":
            v = _share(d.get("ege_hi", 0), d.get("ege_st", 0), ind)
            if v is not None and ind.params.get("denominator", GRADUATES) == GRADUATES:
                v = _share(d.get("ege_hi", 0), graduates(ctx, (11,)) or 0, ind)
        elif kind == "gia_below_minimum":
            v = _share(d.get("gia_f", 0), d.get("gia", 0), ind)
            if v is not None and ind.params.get("denominator", GRADUATES) == GRADUATES:
                v = _share(d.get("gia_f", 0), graduates(ctx, (9, 11)) or 0, ind)
        elif kind == "mark2_share":
            years = years_of(ind, params)
            parts = [_mark2_year(ind, stats)]
            if years > 1:
                back = list(earlier[: years - 1])
                parts += [_mark2_year(ind, e) for e in back]
                parts += [None] * (years - len(parts))
            got = mark2_parts(ind.params.get("denominator", ENROLLED), parts)
            v = Value.of(got[0], got[1], ind.scale) if got else None
        elif kind == "vpr_journal_correlation":
            table = {(k[0], k[1]): n for k, n in _keyed(s, "cor", ind.id).items()}
            got = correlation_parts(
                table, ind.params.get("method", "spearman"),
                int(params.get("correlation_min_pairs", 2)),
            )  # fmt: skip
            v = Value.of(got[0], got[1], ind.scale) if got else None
        elif kind == "vpr_vs_journal":
            v = _share(s.get(("vj", ind.params["compare"]), 0.0), s.get(("vj",), 0.0), ind)
        elif kind == "medalists_not_confirming":
            v = _share(d.get("med_bad", 0), d.get("med", 0), ind)
        elif kind == "observed_procedures":
            v = _share(d.get("sit_obs", 0), d.get("sit", 0), ind)
        elif kind == "systematic_absence":
            if total:
                v = Value.of(min(stats.absent_over, total), total, ind.scale)
        elif kind == "olympiad_share" and total:
            v = Value.of(min(d.get(("oly", ind.id), 0), total), total, ind.scale)
        values[ind.id] = v
    for ind in composites:
        values[ind.id] = _composite(ind, values, sf)
    return {k: v for k, v in values.items() if v is not None}


def _keyed(sums: Mapping[Hashable, float], *prefix: Any) -> dict[tuple[Any, ...], float]:
    """The non-zero counters whose key starts with ``prefix``, by the rest of the key."""
    n = len(prefix)
    return {
        k[n:]: v
        for k, v in sums.items()
        if v and isinstance(k, tuple) and len(k) > n and k[:n] == prefix
    }


def _share(num: float, den: float, ind: Indicator) -> Value | None:
    return Value.of(num, den, ind.scale) if den else None


def compute_teacher_values(rules: Rules, stats: CellStats) -> dict[tuple[str, str], Value]:
    """Teacher-level values, only for teachers whose consent is granted (kept facts)."""
    allowed = {f["teacher"] for f in stats.kept.values() if f["type"] == CONSENT and f["granted"]}
    out: dict[tuple[str, str], Value] = {}
    for teacher in sorted(allowed):
        for den, num, _procedure in rules.teachers:
            n = stats.sums.get((den[0], den[1], teacher), 0.0)
            if n:
                out[(den[1], teacher)] = Value.of(
                    stats.sums.get((num[0], num[1], teacher), 0.0), n, 100.0
                )
    return out


def stats_of(rules: Rules, facts: Iterable[tuple[str, Mapping[str, Any]]]) -> CellStats:
    """Counters of a set of current facts ``(originator id, row)`` (tests, time travel)."""
    st = CellStats()
    for oid, row in facts:
        st.apply(rules.contribution(row), 1, oid, row, rules.absence_lessons)
    return st


__all__ = [
    "STREAMED",
    "CellStats",
    "Contribution",
    "Rules",
    "compute_teacher_values",
    "compute_values",
    "stats_of",
]
