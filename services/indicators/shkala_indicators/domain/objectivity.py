"""Objectivity of assessment (объективность процедур оценки, seeds 000 §2.5, 001 §2.1, 004).

Seed 001 asks for «индексы необъективности ВПР и ОГЭ»; seeds 000 and 004 for the schools «с
признаками необъективности» on the federal list. Beside the ВПР-vs-journal shares (compute.py)
this module holds, all pure:

Per school and period (cell-local, kept as counters like every streamed indicator):
- ``exam_vs_journal`` — an exam mark against the student's journal (year) mark, e.g. ОГЭ:
  share of results below / equal to / above it (понизили / подтвердили / повысили);
- ``mark_quality`` — share of marks 4 and 5 (качество) of a procedure, subjects and grades:
  the two sides of the «ВПР not backed by later ОГЭ» check;
- ``boundary_band`` — of the results whose primary score lies within ``band`` points of a mark
  boundary, the share at or just above it (``b ≤ score < b + band`` among
  ``b − band ≤ score < b + band``): the mass that «pulling up to the mark» piles up;
- ``federal_list`` — 1 when the school is on the federal list for the year (a kept fact).

Region-relative flags, computed on read from the schools' values (:func:`screen`):
- ``vpr_not_backed`` — a school's ВПР quality far above the region's while the same cohort's
  later exam (ОГЭ a year later) is not;
- ``boundary_excess`` — a school's boundary-band share well above the region's, with a
  one-sided binomial test against the region's share.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shkala_indicators.domain.catalogue import Catalogue, Indicator
from shkala_indicators.domain.compute import ASSESSMENT, Fact, SchoolFacts, Value, computer

FEDERAL_LIST = "ru.shkala.fact.federal_nonobjectivity_listed.v1"
STREAMED_KINDS = frozenset({"exam_vs_journal", "mark_quality", "boundary_band"})
LIST_NAME = "признаки необъективности"

SUM = 0  # the op code of stats.SUM (kept equal; stats imports this module)


# ------------------------------------------------------------------ per-result tests (pure)


def compare_with_journal(mark: int, journal_mark: int) -> str:
    return "lowered" if mark < journal_mark else "confirmed" if mark == journal_mark else "raised"


def _selected(ind: Indicator, row: Fact) -> bool:
    q = ind.params
    if row.get("procedure") != q["procedure"]:
        return False
    subjects = q.get("subjects")
    grades = q.get("grades")
    return (not subjects or row["subject"] in subjects) and (not grades or row["grade"] in grades)


def boundary_position(score: float, boundaries: Iterable[float], band: float) -> list[bool]:
    """For each boundary whose window holds ``score``: True when at or above the boundary."""
    return [score >= b for b in boundaries if b - band <= score < b + band]


def boundaries_of(ind: Indicator, subject: str) -> list[float]:
    """The mark boundaries (primary score of the lowest mark-``m`` result) the band checks:
    ``params.boundaries[subject]`` lists the scores from which marks 3, 4, 5 are given."""
    scale = (ind.params.get("boundaries") or {}).get(subject)
    if not scale:
        return []
    marks = ind.params.get("marks") or (3, 4, 5)
    return [float(scale[m - 3]) for m in marks if 3 <= m <= 5 and m - 3 < len(scale)]


# --------------------------------------------------------- counters (stats.Rules delegates)


class Counters:
    """Which counters of a cell one assessment result moves, for this module's indicators."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.journal: set[str] = set()
        self.quality: list[Indicator] = []
        self.band: list[tuple[Indicator, dict[str, list[float]], float]] = []
        for ind in catalogue.indicators:
            if ind.kind == "exam_vs_journal":
                self.journal.add(ind.params["procedure"])
            elif ind.kind == "mark_quality":
                self.quality.append(ind)
            elif ind.kind == "boundary_band":
                by_subject = {s: boundaries_of(ind, s) for s in ind.params.get("boundaries") or {}}
                self.band.append((ind, by_subject, float(ind.params.get("band", 2))))
        self.active = bool(self.journal or self.quality or self.band)

    def contribution(self, row: Fact, key: Callable[..., tuple[Any, ...]]) -> list[Any]:
        if not self.active:
            return []
        out: list[Any] = []
        proc, mark = row["procedure"], row.get("mark")
        if proc in self.journal and mark is not None and row.get("journal_mark") is not None:
            cmp = compare_with_journal(mark, row["journal_mark"])
            out += (SUM, key("ej", proc), 1.0, SUM, key("ej", proc, cmp), 1.0)
        if mark is not None:
            for ind in self.quality:
                if _selected(ind, row):
                    out += (SUM, key("mq_d", ind.id), 1.0)
                    if mark >= 4:
                        out += (SUM, key("mq_n", ind.id), 1.0)
        score = row.get("primary_score")
        if score is not None:
            for ind, by_subject, band in self.band:
                if not _selected(ind, row):
                    continue
                for above in boundary_position(score, by_subject.get(row["subject"], ()), band):
                    out += (SUM, key("bb_d", ind.id), 1.0)
                    if above:
                        out += (SUM, key("bb_n", ind.id), 1.0)
        return out


def streamed_value(ind: Indicator, sums: Mapping[Any, float]) -> Value | None:
    """The value of one of this module's streamed indicators from a cell's sums."""
    if ind.kind == "exam_vs_journal":
        proc = ind.params["procedure"]
        num, den = sums.get(("ej", proc, ind.params["compare"]), 0.0), sums.get(("ej", proc), 0.0)
    elif ind.kind == "mark_quality":
        num, den = sums.get(("mq_n", ind.id), 0.0), sums.get(("mq_d", ind.id), 0.0)
    else:
        num, den = sums.get(("bb_n", ind.id), 0.0), sums.get(("bb_d", ind.id), 0.0)
    return Value.of(num, den, ind.scale) if den else None


# ------------------------------------------- the same from whole facts (compute_school path)


@computer("exam_vs_journal")
def _exam_vs_journal(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    rows = [
        r
        for r in sf.results(ind.params["procedure"])
        if r.get("mark") is not None and r.get("journal_mark") is not None
    ]
    if not rows:
        return None
    want = ind.params["compare"]
    hits = sum(1 for r in rows if compare_with_journal(r["mark"], r["journal_mark"]) == want)
    return Value.of(hits, len(rows), ind.scale)


@computer("mark_quality")
def _mark_quality(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    rows = [r for r in sf.of(ASSESSMENT) if r.get("mark") is not None and _selected(ind, r)]
    if not rows:
        return None
    return Value.of(sum(1 for r in rows if r["mark"] >= 4), len(rows), ind.scale)


@computer("boundary_band")
def _boundary_band(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    band = float(ind.params.get("band", 2))
    num = den = 0
    for r in sf.of(ASSESSMENT):
        if r.get("primary_score") is None or not _selected(ind, r):
            continue
        for above in boundary_position(r["primary_score"], boundaries_of(ind, r["subject"]), band):
            den += 1
            num += above
    return Value.of(num, den, ind.scale) if den else None


@computer("federal_list")
def _federal_list(ind: Indicator, sf: SchoolFacts, p: Mapping[str, Any]) -> Value | None:
    rows = sf.of(FEDERAL_LIST)
    if not rows:
        return None
    return Value.of(1 if any(r.get("listed", True) for r in rows) else 0, 1, ind.scale)


# ----------------------------------------------------------- region-relative flags (on read)


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed in log space (n up to many thousands)."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


@dataclass(frozen=True)
class Flag:
    """One region-relative sign of non-objectivity that fired, with the figures behind it."""

    rule: str
    school_id: str
    period: str
    figures: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        return {"rule": self.rule, "period": self.period, **self.figures}


def region_value(values: Mapping[str, Mapping[str, Value]], indicator: str) -> Value | None:
    """The region's value of a share: sums of the schools' numerators and denominators."""
    num = den = 0.0
    for v in values.values():
        x = v.get(indicator)
        if x is not None and x.denominator:
            num, den = num + x.numerator, den + x.denominator
    return Value.of(num, den, 100.0) if den else None


def vpr_not_backed(
    vpr_id: str,
    spec: Mapping[str, Any],
    earlier: Mapping[str, Mapping[str, Value]],
    later: Mapping[str, Mapping[str, Value]],
    period: str,
    earlier_period: str,
) -> list[Flag]:
    """Schools whose ВПР quality (earlier period) is ≥ ``above_region_pp`` points above the
    region's while the same cohort's later exam does not back it: its standing above the
    region (``later`` period) is at least ``min_drop_pp`` points lower; each side with
    ≥ ``min_results`` results."""
    later_id = spec["later_indicator"]
    r_vpr, r_later = region_value(earlier, vpr_id), region_value(later, later_id)
    if r_vpr is None or r_later is None or r_vpr.value is None or r_later.value is None:
        return []
    out = []
    for school in sorted(set(earlier) & set(later)):
        v, w = earlier[school].get(vpr_id), later[school].get(later_id)
        if v is None or w is None or v.value is None or w.value is None:
            continue
        if min(v.denominator, w.denominator) < spec["min_results"]:
            continue
        gap_vpr, gap_later = v.value - r_vpr.value, w.value - r_later.value
        if gap_vpr >= spec["above_region_pp"] and gap_vpr - gap_later >= spec["min_drop_pp"]:
            out.append(
                Flag(
                    "vpr_not_backed", school, period,
                    {
                        "vpr_indicator": vpr_id, "vpr_period": earlier_period,
                        "vpr_value": v.value, "vpr_region": r_vpr.value,
                        "vpr_gap_pp": round(gap_vpr, 6), "vpr_results": v.denominator,
                        "later_indicator": later_id, "later_period": period,
                        "later_value": w.value, "later_region": r_later.value,
                        "later_gap_pp": round(gap_later, 6), "later_results": w.denominator,
                        "above_region_pp": spec["above_region_pp"],
                        "min_drop_pp": spec["min_drop_pp"],
                    },
                )
            )  # fmt: skip
    return out


def boundary_excess(
    ind: str, spec: Mapping[str, Any], values: Mapping[str, Mapping[str, Value]], period: str
) -> list[Flag]:
    """Schools whose share of results just above a mark boundary (among those near it) is
    ≥ ``min_ratio`` × the region's share, and the one-sided binomial test against the
    region's share gives p ≤ ``max_p_value``; at least ``min_results`` results near it."""
    region = region_value(values, ind)
    if region is None or not region.denominator:
        return []
    p0 = region.numerator / region.denominator
    out = []
    for school in sorted(values):
        v = values[school].get(ind)
        if v is None or v.denominator < spec["min_results"] or p0 <= 0:
            continue
        share = v.numerator / v.denominator
        ratio = share / p0
        p_value = binomial_upper_tail(round(v.numerator), round(v.denominator), p0)
        if ratio >= spec["min_ratio"] and p_value <= spec["max_p_value"]:
            out.append(
                Flag(
                    "boundary_excess", school, period,
                    {
                        "indicator": ind, "results_near_boundary": v.denominator,
                        "just_above": v.numerator, "share": round(share * 100, 6),
                        "region_share": round(p0 * 100, 6), "ratio": round(ratio, 6),
                        "p_value": p_value, "min_ratio": spec["min_ratio"],
                        "max_p_value": spec["max_p_value"],
                    },
                )
            )  # fmt: skip
    return out


def screen(
    catalogue: Catalogue,
    region_values: Callable[[str], Mapping[str, Mapping[str, Value]]],
    period: str,
) -> dict[str, list[Flag]]:
    """Region-relative flags of every school of a region in ``period`` (by school).

    ``region_values(period)`` gives the region's schools' values in a period; the region is
    the reference whatever municipality the caller looks at.
    """
    now = region_values(period)
    flags: list[Flag] = []
    for ind in catalogue.indicators:
        spec = ind.params.get("screening")
        if not spec:
            continue
        if spec["rule"] == "vpr_not_backed":
            earlier = shift_period(period, -int(spec.get("later_years", 1)))
            flags += vpr_not_backed(ind.id, spec, region_values(earlier), now, period, earlier)
        elif spec["rule"] == "boundary_excess":
            flags += boundary_excess(ind.id, spec, now, period)
    out: dict[str, list[Flag]] = {}
    for f in flags:
        out.setdefault(f.school_id, []).append(f)
    return out


def shift_period(period: str, years: int) -> str:
    """``2025/26`` shifted by ``years`` academic years."""
    start = int(period[:4]) + years
    return f"{start}/{(start + 1) % 100:02d}"


def federal_listed(values: Mapping[str, Mapping[str, Value]], indicator: str) -> set[str]:
    """Schools whose federal-list flag is 1 in the period."""
    return {s for s, v in values.items() if (x := v.get(indicator)) is not None and x.value == 1}


__all__ = [
    "FEDERAL_LIST",
    "STREAMED_KINDS",
    "Counters",
    "Flag",
    "binomial_upper_tail",
    "boundary_excess",
    "federal_listed",
    "screen",
    "shift_period",
    "streamed_value",
    "vpr_not_backed",
]
