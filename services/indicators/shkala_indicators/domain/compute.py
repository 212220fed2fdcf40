"""Pure computation of indicators for one (school, period) from the school's current facts.

A fact here is a plain dict: the event's JSON payload plus ``type`` (its CloudEvents type).
The caller passes the *current* facts only (a correction has already replaced the original).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shkala_indicators.domain.catalogue import Catalogue, Indicator, ListRule
from shkala_indicators.domain.seed_formulas import (
    CONTEXT_TYPES,
    ENROLLED,
    GRADUATES,
    YearCounts,
    correlation_parts,
    lowest,
    mark2_parts,
)
from shkala_indicators.domain.seed_formulas import (
    graduates as graduates_of,
)

ASSESSMENT = "ru.shkala.fact.assessment_result.v1"
CONSENT = "ru.shkala.fact.teacher_results_consent.v1"
LESSONS = "ru.shkala.fact.lessons_missed.v1"
CONTEXT = "ru.shkala.fact.school_context.v1"
STAFFING = "ru.shkala.fact.staffing_positions.v1"
DEFICITS = "ru.shkala.fact.professional_deficits.v1"
COURSE = "ru.shkala.fact.qualification_course.v1"
ROUTE = "ru.shkala.fact.individual_route.v1"
MENTORING = "ru.shkala.fact.mentoring_pair.v1"

Fact = Mapping[str, Any]


@dataclass(frozen=True)
class Value:
    numerator: float
    denominator: float
    value: float | None

    @classmethod
    def of(cls, numerator: float, denominator: float, scale: float) -> Value:
        numerator, denominator = float(numerator), float(denominator)
        value = round(numerator / denominator * scale, 6) if denominator else None
        return cls(numerator, denominator, value)


class SchoolFacts:
    """The current facts of one school and period, indexed by type."""

    def __init__(self, facts: Iterable[Fact], earlier: Sequence[SchoolFacts] | None = None) -> None:
        self.by_type: dict[str, list[Fact]] = defaultdict(list)
        for f in facts:
            # a v2 school context (graduates, rolls per parallel) is read as the context too
            t = CONTEXT if f["type"] in CONTEXT_TYPES else f["type"]
            self.by_type[t].append(f)
        self._by_procedure: dict[str, list[Fact]] | None = None
        self.earlier = earlier
        """The same school's earlier years, the previous one first (None: not known)."""

    def results(self, procedure: str) -> list[Fact]:
        """Assessment results of one procedure (indexed once: most indicators ask)."""
        if self._by_procedure is None:
            self._by_procedure = defaultdict(list)
            for r in self.of(ASSESSMENT):
                self._by_procedure[r["procedure"]].append(r)
        return self._by_procedure.get(procedure, [])

    def of(self, event_type: str) -> list[Fact]:
        return self.by_type.get(event_type, [])

    @property
    def context(self) -> Fact | None:
        ctx = self.of(CONTEXT)
        return max(ctx, key=lambda f: f["as_of"]) if ctx else None

    def latest_staffing(self) -> list[Fact]:
        rows = self.of(STAFFING)
        if not rows:
            return []
        last = max(r["as_of"] for r in rows)
        return [r for r in rows if r["as_of"] == last]

    def teacher_posts(self) -> float:
        return sum(r["filled"] for r in self.latest_staffing() if r["position"] == "учитель")


Computer = Callable[[Indicator, SchoolFacts, Mapping[str, Any]], "Value | None"]
_COMPUTERS: dict[str, Computer] = {}


def computer(kind: str) -> Callable[[Computer], Computer]:
    def register(fn: Computer) -> Computer:
        _COMPUTERS[kind] = fn
        return fn

    return register


def _results(sf: SchoolFacts, procedure: str) -> list[Fact]:
    return sf.results(procedure)


@computer("ege_high_scorers")
def _ege_high(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    by_student: dict[str, int] = {}
    for r in _results(sf, "ЕГЭ"):
        score = r.get("test_score")  # none for ЕГЭ базовая математика (a mark only)
        by_student[r["student"]] = max(
            by_student.get(r["student"], -1), -1 if score is None else score
        )
    if not by_student:
        return None
    high = sum(1 for s in by_student.values() if s >= p["ege_high_score"])
    if ind.params.get("denominator", GRADUATES) == GRADUATES:
        den = graduates_of(sf.context, (11,))
        return Value.of(high, den, ind.scale) if den else None
    return Value.of(high, len(by_student), ind.scale)


@computer("gia_below_minimum")
def _gia_below(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    subjects = set(p["gia_subjects"])
    minimum = p["ege_minimum"]
    graduates: dict[str, bool] = {}  # student -> failed any
    for r in sf.of(ASSESSMENT):
        if r["subject"] not in subjects:
            continue
        if r["procedure"] in ("ОГЭ", "ГВЭ"):
            failed = r.get("mark") == 2
        elif r["procedure"] == "ЕГЭ":
            score = r.get("test_score")
            # ЕГЭ базовая математика has a mark, not a score: "2" is below the threshold
            failed = r.get("mark") == 2 if score is None else score < minimum.get(r["subject"], 0)
        else:
            continue
        graduates[r["student"]] = graduates.get(r["student"], False) or failed
    if not graduates:
        return None
    if ind.params.get("denominator", GRADUATES) == GRADUATES:
        den = graduates_of(sf.context, (9, 11))
        return Value.of(sum(graduates.values()), den, ind.scale) if den else None
    return Value.of(sum(graduates.values()), len(graduates), ind.scale)


def mark2_year(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> YearCounts | None:
    """One year's "2"s, results and parallels of a mark-"2" share."""
    q = ind.params
    subjects = set(q.get("subjects") or ())
    grades = set(p[q["grades_param"]]) if q.get("grades_param") else set()
    rows = [
        r
        for r in _results(sf, q["procedure"])
        if r.get("mark") is not None
        and (not subjects or r["subject"] in subjects)
        and (not grades or r["grade"] in grades)
    ]
    if not rows:
        return None
    twos = [r for r in rows if r["mark"] == 2]
    students = len({r["student"] for r in twos})
    return YearCounts(
        len(twos), students, len(rows), frozenset(r["grade"] for r in rows), sf.context
    )


def years_of(ind: Indicator, p: Mapping[str, Any]) -> int:
    q = ind.params
    return int(p[q["years_param"]]) if q.get("years_param") else 1


@computer("mark2_share")
def _mark2(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    years = years_of(ind, p)
    parts: list[YearCounts | None] = [mark2_year(ind, sf, p)]
    if years > 1:
        if sf.earlier is None:
            return None  # the earlier years are not known here: no partial value
        earlier: list[SchoolFacts | None] = list(sf.earlier[: years - 1])
        earlier += [None] * (years - 1 - len(earlier))
        parts += [mark2_year(ind, e, p) if e is not None else None for e in earlier]
    got = mark2_parts(ind.params.get("denominator", ENROLLED), parts)
    return Value.of(got[0], got[1], ind.scale) if got else None


def correlation_table(ind: Indicator, sf: SchoolFacts) -> dict[tuple[int, int], float]:
    subjects = set(ind.params.get("subjects") or ())
    table: dict[tuple[int, int], float] = defaultdict(float)
    for r in _results(sf, "ВПР"):
        if r.get("mark") is None or r.get("journal_mark") is None:
            continue
        if subjects and r["subject"] not in subjects:
            continue
        table[(r["mark"], r["journal_mark"])] += 1
    return table


@computer("vpr_journal_correlation")
def _correlation(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    got = correlation_parts(
        correlation_table(ind, sf), ind.params.get("method", "spearman"),
        int(p.get("correlation_min_pairs", 2)),
    )  # fmt: skip
    return Value.of(got[0], got[1], ind.scale) if got else None


@computer("accreditation")
def _accreditation(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    ctx = sf.context
    if ctx is None:
        return None
    return Value.of(1 if ctx["accreditation"] in ("приостановлена", "лишена") else 0, 1, ind.scale)


@computer("vpr_vs_journal")
def _vpr_vs_journal(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    rows = [r for r in _results(sf, "ВПР") if r.get("journal_mark") is not None]
    if not rows:
        return None
    compare = ind.params["compare"]
    test = {
        "lowered": lambda r: r["mark"] < r["journal_mark"],
        "confirmed": lambda r: r["mark"] == r["journal_mark"],
        "raised": lambda r: r["mark"] > r["journal_mark"],
    }[compare]
    return Value.of(sum(1 for r in rows if test(r)), len(rows), ind.scale)


@computer("medalists_not_confirming")
def _medalists(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    lowest: dict[str, int] = {}
    for r in _results(sf, "ЕГЭ"):
        if r.get("medalist"):
            score = r.get("test_score")  # a mark-only result (базовая математика) is not checked
            lowest[r["student"]] = min(
                lowest.get(r["student"], 101), 101 if score is None else score
            )
    if not lowest:
        return None
    bad = sum(1 for s in lowest.values() if s < p["medalist_confirm_score"])
    return Value.of(bad, len(lowest), ind.scale)


# every assessment procedure; olympiads and contests are not procedures of quality assessment
_SITTING_PROCEDURES = ("ВПР", "ОГЭ", "ЕГЭ", "ГВЭ", "РКР", "РДР", "ДР-10", "НИКО", "МСИ")


@computer("observed_procedures")
def _observed(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    sittings: dict[tuple[str, str, int], bool] = {}
    for r in sf.of(ASSESSMENT):
        if r["procedure"] not in _SITTING_PROCEDURES:
            continue
        key = (r["procedure"], r["subject"], r["grade"])
        sittings[key] = sittings.get(key, False) or bool(r.get("public_observer"))
    if not sittings:
        return None
    return Value.of(sum(sittings.values()), len(sittings), ind.scale)


@computer("context_share")
def _context_share(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    ctx = sf.context
    if ctx is None or not ctx["students_total"]:
        return None
    return Value.of(ctx[ind.params["field"]], ctx["students_total"], ind.scale)


@computer("context_flag")
def _context_flag(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    ctx = sf.context
    if ctx is None:
        return None
    return Value.of(1 if ctx[ind.params["field"]] else 0, 1, ind.scale)


@computer("systematic_absence")
def _absence(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    ctx = sf.context
    if ctx is None or not ctx["students_total"]:
        return None
    missed: dict[str, int] = defaultdict(int)
    for r in sf.of(LESSONS):
        if r["reason"] == "неуважительная":
            missed[r["student"]] += r["lessons_missed"]
    systematic = sum(1 for n in missed.values() if n >= p["systematic_absence_lessons"])
    return Value.of(min(systematic, ctx["students_total"]), ctx["students_total"], ind.scale)


@computer("staffing_fill")
def _staffing_fill(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    rows = sf.latest_staffing()
    posts = sum(r["posts"] for r in rows)
    if not posts:
        return None
    return Value.of(sum(r["filled"] for r in rows), posts, ind.scale)


@computer("understaffed")
def _understaffed(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    rows = sf.latest_staffing()
    if not rows:
        return None
    posts = sum(r["posts"] for r in rows)
    filled = sum(r["filled"] for r in rows)
    vacancies = sum(r["vacancies"] for r in rows)
    short = vacancies > 0 or (posts > 0 and filled / posts < p["understaffed_fill_ratio"])
    return Value.of(1 if short else 0, 1, ind.scale)


def _teachers(sf: SchoolFacts, fact: str) -> set[str]:
    if fact == "deficits":
        return {r["teacher"] for r in sf.of(DEFICITS)}
    if fact == "kpk_own_request":
        return {r["teacher"] for r in sf.of(COURSE) if r["on_own_request"]}
    if fact == "kpk_at_risk":
        return {r["teacher"] for r in sf.of(COURSE) if r["on_students_at_risk"]}
    if fact == "mentees":
        return {r["mentee"] for r in sf.of(MENTORING)}
    if fact == "routes":
        return {r["teacher"] for r in sf.of(ROUTE)}
    raise KeyError(fact)


@computer("teacher_share")
def _teacher_share(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    posts = sf.teacher_posts()
    if not posts:
        return None
    return Value.of(len(_teachers(sf, ind.params["fact"])), posts, ind.scale)


@computer("olympiad_share")
def _olympiad(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    ctx = sf.context
    if ctx is None or not ctx["students_total"]:
        return None
    statuses = set(ind.params["statuses"])
    students = {r["student"] for r in _results(sf, "ВсОШ") if r.get("olympiad_status") in statuses}
    return Value.of(min(len(students), ctx["students_total"]), ctx["students_total"], ind.scale)


def _composite(ind: Indicator, values: Mapping[str, Value | None], sf: SchoolFacts) -> Value | None:
    if sf.context is None:
        return None
    fired = 0.0
    total = 0.0
    for c in ind.criteria:
        total += c.weight
        v = values.get(c.indicator)
        if v is not None and v.value is not None and v.value >= c.at_least:
            fired += c.weight
    if not total:
        return None
    return Value.of(total - fired, total, ind.scale)


def compute_school(
    catalogue: Catalogue,
    facts: Iterable[Fact],
    earlier: Sequence[Iterable[Fact]] | None = None,
) -> dict[str, Value]:
    """Every catalogue indicator computable from one (school, period)'s current facts.

    ``earlier``: the same school's facts of the previous years, the previous one first, for
    the shares «за 2 года»; without it those indicators are left out (not guessed).
    """
    sf = SchoolFacts(facts, [SchoolFacts(e) for e in earlier] if earlier is not None else None)
    values: dict[str, Value | None] = {}
    composites = []
    for ind in catalogue.indicators:
        if ind.kind == "composite":
            composites.append(ind)
            continue
        values[ind.id] = _COMPUTERS[ind.kind](ind, sf, catalogue.parameters)
    for ind in composites:
        values[ind.id] = _composite(ind, values, sf)
    return {k: v for k, v in values.items() if v is not None}


def consented_teachers(facts: Iterable[Fact]) -> set[str]:
    return {f["teacher"] for f in facts if f["type"] == CONSENT and f["granted"]}


def compute_teachers(catalogue: Catalogue, facts: Sequence[Fact]) -> dict[tuple[str, str], Value]:
    """Teacher-level indicators, only for teachers who opted in (consent granted)."""
    allowed = consented_teachers(facts)
    out: dict[tuple[str, str], Value] = {}
    if not allowed:
        return out
    for t in catalogue.teacher_indicators:
        rows: dict[str, list[Fact]] = defaultdict(list)
        for f in facts:
            if (
                f["type"] == ASSESSMENT
                and f["procedure"] == t.procedure
                and f.get("teacher") in allowed
                and f.get("mark") is not None
            ):
                rows[f["teacher"]].append(f)
        for teacher, rs in rows.items():
            out[(t.id, teacher)] = Value.of(sum(1 for r in rs if r["mark"] == 2), len(rs), 100.0)
    return out


def at_risk(ind: Indicator, value: Value | None) -> bool:
    return ind.threshold is not None and value is not None and ind.threshold.at_risk(value.value)


def list_membership(
    rule: ListRule,
    catalogue: Catalogue,
    values: Mapping[str, Value],
    lowest_schools: set[str] | None = None,
    school: str | None = None,
) -> tuple[bool, tuple[str, ...]]:
    """Whether a school belongs to a list, and the indicators that decided it.

    A ``lowest`` rule (relative: the region's schools with the lowest value) needs the set
    the region's values give (:func:`relative_members`) and the school's id; without them
    the school is not a member (a single school cannot know its rank).
    """
    if rule.rule == "lowest":
        ind = rule.indicators[0]
        v = values.get(ind)
        member = (
            lowest_schools is not None
            and school in lowest_schools
            and v is not None
            and v.value is not None
        )
        return member, (ind,) if member else ()
    by_id = catalogue.by_id()
    risky = tuple(i for i in rule.indicators if at_risk(by_id[i], values.get(i)))
    forced = any(at_risk(by_id[i], values.get(i)) for i in rule.always)
    return (len(risky) >= rule.min_count or forced), risky


def relative_members(rule: ListRule, values: Mapping[str, Value | None]) -> set[str]:
    """The schools of a ``lowest`` rule: among ``values`` (school → its value of the rule's
    indicator, all schools of one region and period), the lowest share or count."""
    have = {s: v.value for s, v in values.items() if v is not None and v.value is not None}
    return lowest(have, rule.bottom_share, rule.bottom_count)


def list_dynamics(previous: set[str], current: set[str]) -> dict[str, list[str]]:
    return {
        "entered": sorted(current - previous),
        "left": sorted(previous - current),
        "stayed": sorted(current & previous),
    }


def roll_up(ind: Indicator, parts: Iterable[Value]) -> Value | None:
    """A municipality's or region's value: sum of numerators over sum of denominators."""
    parts = list(parts)
    if not parts:
        return None
    return Value.of(sum(v.numerator for v in parts), sum(v.denominator for v in parts), ind.scale)


# the objectivity and the four directions' kinds register their computers here
# (domain/objectivity.py, domain/directions.py)
from shkala_indicators.domain import directions as _directions  # noqa: E402, F401
from shkala_indicators.domain import objectivity as _objectivity  # noqa: E402, F401
