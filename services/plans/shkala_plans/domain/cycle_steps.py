"""The figures of a direction's management cycle (управленческий цикл, seed 002), computed
from what the cycle view has read: the academic year a date falls in, a goal's target values
(целевые значения), monitoring coverage of a period («сколько школ представили и утвердили,
из скольких») and a school's weakest ВПР tasks (дефициты). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shkala_contracts.vocabulary import ACADEMIC_YEAR_RE
from shkala_plans.domain.model import FieldRefused
from shkala_plans.domain.proposals import Definition, TaskDeficit

WEAKEST_TASKS = 5
"""ВПР tasks shown per school at risk: the lowest success rates first (the rest are counted)."""

# coverage groups of a school's monitoring period, by the state of its record
APPROVED = ("approved", "locked")
AWAITING = ("submitted",)
RETURNED = ("returned",)


def academic_year(day: dt.date) -> str:
    """``2025/26`` for any day from 1 September 2025 to 31 August 2026."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def period_of(period: str | None, today: dt.date) -> str:
    """The academic year a view is of: the one asked, else the one today falls in."""
    if period is None:
        return academic_year(today)
    m = ACADEMIC_YEAR_RE.match(period)
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise FieldRefused(
            "Not an academic year",
            "query.period",
            period,
            f"period={period!r}: an academic year like 2025/26 (two consecutive years)",
        )
    return period


def year_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of an academic year (``2025/26`` → 1.09.2025 … 31.08.2026)."""
    start = int(period[:4])
    return dt.date(start, 9, 1), dt.date(start + 1, 8, 31)


def a_year_later(day: dt.date) -> dt.date:
    """The same day a year on (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def catalogue_target(d: Definition | None, period: str) -> dict[str, Any] | None:
    """The catalogue's target value of the indicator for the year (seed 003's expected
    results), or None when the catalogue sets it none."""
    if d is None or not d.targets:
        return None
    return {"period": period, "value": dict(d.targets).get(period), "expected": d.target_expected}


def target_values(
    indicator_ids: Iterable[str],
    definitions: Mapping[str, Definition],
    recommendations: Sequence[Mapping[str, Any]],
    period: str,
) -> list[dict[str, Any]]:
    """A goal's numeric targets: for each indicator it names, the catalogue's target for the
    period and every target value a recommendation set for it (per school)."""
    out: list[dict[str, Any]] = []
    for ind in dict.fromkeys(indicator_ids):
        d = definitions.get(ind)
        name = d.name_ru if d else None
        t = catalogue_target(d, period)
        if t is not None and t["value"] is not None:
            out.append(
                {
                    "indicator_id": ind,
                    "name": name,
                    "source": "catalogue",
                    "period": period,
                    "value": t["value"],
                    "expected": t["expected"],
                    "school_id": None,
                    "recommendation_id": None,
                }
            )
        for r in recommendations:
            if r.get("indicator_id") == ind and r.get("target_value") is not None:
                out.append(
                    {
                        "indicator_id": ind,
                        "name": name,
                        "source": "recommendation",
                        "period": r.get("period"),
                        "value": r["target_value"],
                        "expected": None,
                        "school_id": r.get("school"),
                        "recommendation_id": r["_id"],
                    }
                )
    return out


def indicator_targets_of(
    ind: str,
    d: Definition | None,
    recommendations: Sequence[Mapping[str, Any]],
    measures: Sequence[Mapping[str, Any]],
    period: str,
) -> dict[str, Any]:
    """An indicator of the direction as the indicators step shows it: the catalogue's name,
    threshold and target for the period (and per year), the target values recommendations
    set for it and the measures that aim to move it (which way, from which year to which)."""
    return {
        "name": d.name_ru if d else None,
        "in_catalogue": d is not None,
        "unit": d.unit if d else None,
        "threshold": {"risk_if": d.risk_if, "value": d.threshold}
        if d and d.threshold is not None
        else None,
        "target": catalogue_target(d, period),
        "targets_by_year": dict(d.targets) if d else {},
        "recommended_targets": [
            {
                "recommendation_id": r["_id"],
                "school_id": r.get("school"),
                "period": r.get("period"),
                "indicator_value": r.get("indicator_value"),
                "target_value": r.get("target_value"),
            }
            for r in sorted(recommendations, key=lambda r: r["_id"])
            if r.get("indicator_id") == ind
        ],
        "measure_targets": [
            {
                "measure_id": m["_id"],
                "title": m.get("title"),
                "better": link["better"],
                "baseline_period": m.get("baseline_period"),
                "evaluation_period": m.get("evaluation_period"),
                "target_schools": list(m.get("target_schools", [])),
            }
            for m in sorted(measures, key=lambda m: m["_id"])
            for link in m.get("indicators", [])
            if link["indicator_id"] == ind
        ],
    }


def _schools_word(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return "школы"  # «из 1 школы», «из 21 школы»
    return "школ"


def coverage(period: str, schools: Iterable[str], states: Mapping[str, str]) -> dict[str, Any]:
    """Which of the schools submitted the period's monitoring data and which had it approved.

    ``schools``: the schools the view covers (the municipality's, or the one school);
    ``states``: school → state of its period record (a school without one never submitted).
    Every school falls in exactly one group, so the four counts add up to ``of``."""
    every = sorted({*schools, *states})
    groups: dict[str, list[str]] = {
        "approved": [],
        "submitted": [],
        "returned": [],
        "not_submitted": [],
    }
    for s in every:
        state = states.get(s)
        if state in APPROVED:
            groups["approved"].append(s)
        elif state in AWAITING:
            groups["submitted"].append(s)
        elif state in RETURNED:
            groups["returned"].append(s)
        else:  # no record, or open (reopened by the region): not (yet) submitted
            groups["not_submitted"].append(s)
    n = len(every)
    counts = {k: len(v) for k, v in groups.items()}
    summary = (
        f"{period}: утверждено {counts['approved']} из {n} {_schools_word(n)}; "
        f"ждут проверки муниципалитетом — {counts['submitted']}; "
        f"возвращено на доработку — {counts['returned']}; "
        f"не представлено — {counts['not_submitted']}"
    )
    return {
        "of": n,
        "counts": counts,
        "approved_schools": groups["approved"],
        "awaiting_approval": groups["submitted"],
        "returned_schools": groups["returned"],
        "not_submitted": groups["not_submitted"],
        "summary_ru": summary,
    }


def coverage_by_year(
    period_docs: Sequence[Mapping[str, Any]], registered: Sequence[str], year: str
) -> list[dict[str, Any]]:
    """Monitoring coverage per year from the period records (index documents: school,
    period, state, approved) of the schools viewed; the year viewed is always there, a year
    nobody reported is all «не представлено»."""
    out: dict[str, dict[str, Any]] = {}
    states: dict[str, dict[str, str]] = {year: {}}
    for d in sorted(period_docs, key=lambda d: (d.get("period") or "", d.get("school") or "")):
        c = out.setdefault(
            d["period"], {"period": d["period"], "by_state": {}, "schools": {}, "approved": 0}
        )
        c["by_state"][d["state"]] = c["by_state"].get(d["state"], 0) + 1
        c["schools"][d["school"]] = d["state"]
        c["approved"] += 1 if d.get("approved") else 0
        states.setdefault(d["period"], {})[d["school"]] = d["state"]
    for p in sorted(states):
        c = out.setdefault(p, {"period": p, "by_state": {}, "schools": {}, "approved": 0})
        c |= coverage(p, registered, states[p])
    return [out[p] for p in sorted(out)]


def weakest_tasks(
    deficits: Sequence[TaskDeficit], limit: int = WEAKEST_TASKS
) -> tuple[list[dict[str, Any]], int]:
    """The ``limit`` ВПР tasks with the lowest success rate (ties: subject, grade, task), and
    how many more deficits there are."""
    ordered = sorted(deficits, key=lambda t: (t.rate, t.subject, t.grade, t.task))
    shown = [
        {
            "subject": t.subject,
            "grade": t.grade,
            "task": t.task,
            "rate": t.rate,
            "threshold": t.threshold,
            "planned_result": t.planned_result,
        }
        for t in ordered[:limit]
    ]
    return shown, max(0, len(ordered) - limit)
