"""Seed 002's formulas that both computation paths share (:mod:`compute` over whole facts,
:mod:`stats` over counters): the denominators from the school context, the shares «за 2
года», the correlation of ВПР marks with journal marks, and the relative ШНСУ list.

Pure functions over small inputs, no framework imports.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CONTEXT_V1 = "ru.shkala.fact.school_context.v1"
CONTEXT_V2 = "ru.shkala.fact.school_context.v2"
CONTEXT_TYPES = (CONTEXT_V1, CONTEXT_V2)

GRADUATES = "graduates"  # «общее количество выпускников» (seed 002), from the school context
ENROLLED = "enrolled"  # «общее количество обучающихся в классе» (seed 002), from the context
PARTICIPANTS = "participants"  # those who sat the procedure (a regional choice)
DENOMINATORS = (GRADUATES, ENROLLED, PARTICIPANTS)


def previous_period(period: str) -> str:
    """``2025/26`` → ``2024/25``."""
    start = int(period[:4]) - 1
    return f"{start}/{(start + 1) % 100:02d}"


def next_period(period: str) -> str:
    start = int(period[:4]) + 1
    return f"{start}/{(start + 1) % 100:02d}"


def enrolled(ctx: Mapping[str, Any] | None, grade: int) -> int | None:
    """Students on the roll of a parallel (``Обучающихся в N кл.``), None when not reported."""
    if ctx is None:
        return None
    n = ctx.get(f"enrolled_grade_{grade}")
    return int(n) if n is not None else None


def graduates(ctx: Mapping[str, Any] | None, grades: Iterable[int]) -> int | None:
    """Graduates of grades 9 and/or 11 (``Выпускников N кл.``), None when any is missing."""
    if ctx is None:
        return None
    total = 0
    for g in grades:
        n = ctx.get(f"graduates_{g}")
        if n is None:
            return None
        total += int(n)
    return total


@dataclass(frozen=True, slots=True)
class YearCounts:
    """One year's part of a mark-"2" share: its results with a "2", the students with a
    "2" (different students), its results, the parallels written, that year's context."""

    twos: float
    students_with_two: float
    results: float
    grades: frozenset[int]
    context: Mapping[str, Any] | None


def mark2_parts(denominator: str, years: Sequence[YearCounts | None]) -> tuple[float, float] | None:
    """(numerator, denominator) of a mark-"2" share over the years given (this year first).

    Every year must have results; with ``enrolled`` each parallel written must have its
    roll in that year's context — otherwise there is no value (never a silent fallback).
    With ``enrolled`` the numerator counts students («число обучающихся, получивших отметку
    «2»»: one student with two "2"s counts once), with ``participants`` results over results.
    """
    num = den = 0.0
    for y in years:
        if y is None or not y.results:
            return None
        num += y.students_with_two if denominator == ENROLLED else y.twos
        if denominator == ENROLLED:
            for g in sorted(y.grades):
                n = enrolled(y.context, g)
                if n is None:
                    return None
                den += n
        else:
            den += y.results
    if not den:
        return None
    return num, den


MARKS = (2, 3, 4, 5)
Table = Mapping[tuple[int, int], float]  # (ВПР mark, journal mark) -> results


def _ranks(counts: Mapping[int, float]) -> dict[int, float]:
    """Average (mid) ranks of tied values, as Spearman's coefficient takes them."""
    out, below = {}, 0.0
    for v in sorted(counts):
        n = counts[v]
        if n:
            out[v] = below + (n + 1) / 2
            below += n
    return out


def _pearson(table: Mapping[tuple[Any, Any], float]) -> float | None:
    n = sum(table.values())
    if not n:
        return None
    mx = sum(x * c for (x, _), c in table.items()) / n
    my = sum(y * c for (_, y), c in table.items()) / n
    sxy = sum((x - mx) * (y - my) * c for (x, y), c in table.items())
    sxx = sum((x - mx) ** 2 * c for (x, _), c in table.items())
    syy = sum((y - my) ** 2 * c for (_, y), c in table.items())
    if sxx <= 0 or syy <= 0:
        return None  # all marks equal on one side: no correlation is defined
    return sxy / math.sqrt(sxx * syy)


def correlation(table: Table, method: str) -> float | None:
    """Pearson's r, or Spearman's ρ (Pearson's r of the mid-ranks), from the counts of
    (ВПР mark, journal mark) pairs; None when one side does not vary."""
    table = {k: c for k, c in table.items() if c}
    if method == "pearson":
        return _pearson(table)
    if method != "spearman":
        raise ValueError(f"unknown correlation method {method!r} (spearman | pearson)")
    xs: dict[int, float] = {}
    ys: dict[int, float] = {}
    for (x, y), c in table.items():
        xs[x] = xs.get(x, 0.0) + c
        ys[y] = ys.get(y, 0.0) + c
    rx, ry = _ranks(xs), _ranks(ys)
    return _pearson({(rx[x], ry[y]): c for (x, y), c in table.items()})


def correlation_parts(table: Table, method: str, min_pairs: int) -> tuple[float, float] | None:
    """(r × n, n): the value is r and roll-ups come out as the n-weighted mean of r."""
    n = sum(table.values())
    if n < max(min_pairs, 2):
        return None
    r = correlation(table, method)
    if r is None:
        return None
    return r * n, n


def lowest(
    values: Mapping[str, float], share: float | None = None, count: int | None = None
) -> set[str]:
    """Seed 002's ШНСУ: «школы с самым низким индексом социального благополучия» — the
    ``count`` schools (or ``ceil(share × schools)``) with the lowest values; schools tied
    with the last one taken are all in (the cut never splits equal values)."""
    if not values:
        return set()
    k = count if count is not None else math.ceil((share or 0.0) * len(values) - 1e-9)
    k = max(0, min(k, len(values)))
    if k == 0:
        return set()
    ordered = sorted(values.items(), key=lambda kv: (kv[1], kv[0]))
    cut = ordered[k - 1][1]
    return {s for s, v in values.items() if v <= cut}


__all__ = [
    "CONTEXT_TYPES",
    "DENOMINATORS",
    "ENROLLED",
    "GRADUATES",
    "PARTICIPANTS",
    "YearCounts",
    "correlation",
    "correlation_parts",
    "enrolled",
    "graduates",
    "lowest",
    "mark2_parts",
    "next_period",
    "previous_period",
]
