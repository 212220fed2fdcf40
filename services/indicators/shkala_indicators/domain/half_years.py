"""Half-year reporting periods (seed 004 item 2.1: «общеобразовательные организации —
ежегодно 01.01, 01.07»): the part of an academic year reported on each date, for the
indicators whose facts carry dates. The academic year stays the default period everywhere.

Period keys: ``2025/26-H1`` — the facts of academic year 2025/26 dated 01.09.2025-31.12.2025
(reported on 01.01.2026); ``2025/26-H2`` — dated 01.01.2026-30.06.2026 (reported on
01.07.2026). July and August belong to the year only.

Which facts count in a half:
- **dated events** count in the half their date falls in: missed lessons by the end of their
  period (``period_end``), deficit diagnostics (``diagnosed_on``), courses (``completed_on``),
  individual routes (``opened_on``);
- **reports of a state** stand as of the half's end: the latest staffing report dated by then
  (its posts are the teachers' denominator), the school context of the year (its
  ``students_total`` is a denominator; its flags are not dated events);
- anything else (assessment results, mentoring pairs: no date the indicators can rely on)
  is not used, and the indicators reading it have no half-year value (``not_dated``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shkala_indicators.domain.catalogue import Catalogue, Indicator
from shkala_indicators.domain.compute import (
    CONTEXT_TYPES,
    COURSE,
    DEFICITS,
    LESSONS,
    ROUTE,
    STAFFING,
    Value,
    compute_school,
)

HALF_YEAR_RE = re.compile(r"^(\d{4})/(\d{2})-H([12])$")
DATED: dict[str, str] = {
    LESSONS: "period_end",
    DEFICITS: "diagnosed_on",
    COURSE: "completed_on",
    ROUTE: "opened_on",
}
"""Fact type → the date that places it in a half."""
STATE_AS_OF: dict[str, str] = {STAFFING: "as_of"}
"""Reports of a state: the latest dated by the half's end counts."""
DATED_KINDS = ("systematic_absence", "staffing_fill", "understaffed")
DATED_TEACHER_FACTS = ("deficits", "kpk_own_request", "kpk_at_risk", "routes")


@dataclass(frozen=True)
class HalfYear:
    """Полугодие: ``half`` 1 (Sept-Dec) or 2 (Jan-June) of ``academic_year``."""

    academic_year: str
    half: int

    @property
    def key(self) -> str:
        return f"{self.academic_year}-H{self.half}"

    @property
    def start(self) -> str:
        y = int(self.academic_year[:4])
        return f"{y}-09-01" if self.half == 1 else f"{y + 1}-01-01"

    @property
    def end(self) -> str:
        """The last day (inclusive), ISO."""
        y = int(self.academic_year[:4])
        return f"{y}-12-31" if self.half == 1 else f"{y + 1}-06-30"

    @property
    def reported_on(self) -> str:
        """Seed 004's reporting date for it (dd.mm.yyyy)."""
        y = int(self.academic_year[:4])
        return f"01.01.{y + 1}" if self.half == 1 else f"01.07.{y + 1}"

    def previous(self) -> HalfYear:
        if self.half == 2:
            return HalfYear(self.academic_year, 1)
        y = int(self.academic_year[:4]) - 1
        return HalfYear(f"{y}/{(y + 1) % 100:02d}", 2)

    def describe(self) -> dict[str, Any]:
        return {
            "period": self.key,
            "academic_year": self.academic_year,
            "half": self.half,
            "from": self.start,
            "to": self.end,
            "reported_on": self.reported_on,
        }


def parse(key: str) -> HalfYear | None:
    """A half-year key, or None when ``key`` is not one."""
    m = HALF_YEAR_RE.match(key)
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        return None
    return HalfYear(f"{m.group(1)}/{m.group(2)}", int(m.group(3)))


def dated(ind: Indicator) -> bool:
    """Whether the indicator reads only facts a half-year can place."""
    if ind.kind in DATED_KINDS:
        return True
    return ind.kind == "teacher_share" and ind.params.get("fact") in DATED_TEACHER_FACTS


def dated_indicators(catalogue: Catalogue) -> list[Indicator]:
    return [i for i in catalogue.indicators if dated(i)]


def _date(value: Any) -> str:
    return str(value)[:10] if value is not None else ""


def select(facts: Iterable[dict[str, Any]], half: HalfYear) -> list[dict[str, Any]]:
    """The facts of the academic year that stand for the half (see the module's rules)."""
    out: list[dict[str, Any]] = []
    states: dict[str, list[dict[str, Any]]] = {}
    for f in facts:
        t = f["type"]
        if t in DATED:
            if half.start <= _date(f.get(DATED[t])) <= half.end:
                out.append(f)
        elif t in STATE_AS_OF:
            if _date(f.get(STATE_AS_OF[t])) <= half.end:
                states.setdefault(t, []).append(f)
        elif t in CONTEXT_TYPES:
            out.append(f)
    for rows in states.values():
        out += rows  # the computation takes the latest report among them
    return out


def compute_half(
    catalogue: Catalogue, facts: Iterable[dict[str, Any]], half: HalfYear
) -> dict[str, Value]:
    """The dated indicators of one school in a half-year, by the catalogue's own formulas
    applied to the facts that stand for the half."""
    wanted = {i.id for i in dated_indicators(catalogue)}
    values = compute_school(catalogue, select(facts, half))
    return {k: v for k, v in values.items() if k in wanted}
