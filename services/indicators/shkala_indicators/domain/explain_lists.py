"""Why a school is (or is not) on a list, and how its rating score is made (как посчитано).

A list entry: every criterion of the rule with the school's value, numerator, denominator
and threshold, whether it fired; a ``lowest`` rule: the school's rank among the region's
schools and the cut. A rating score: per component the value, its normalisation between the
worst and the best school, the weight and the contribution. Membership and the score come
from the rules' own functions (:func:`compute.list_membership`, :func:`analysis.
school_rating`): the explanation re-derives them and says so if it ever did not agree.
Pure: no framework imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shkala_indicators.domain.analysis import school_rating
from shkala_indicators.domain.catalogue import Catalogue, Indicator, ListRule, RatingRule
from shkala_indicators.domain.compute import (
    Value,
    at_risk,
    list_membership,
    relative_members,
)


def _threshold(ind: Indicator) -> dict[str, Any] | None:
    t = ind.threshold
    return {"risk_if": t.risk_if, "value": t.value} if t else None


def criterion(ind: Indicator, v: Value | None, role: str) -> dict[str, Any]:
    """One criterion of a list with the school's figures and whether it fired."""
    return {
        "indicator_id": ind.id,
        "name": ind.name_ru,
        "role": role,  # criterion: counts towards min_count; always: alone puts on the list
        "value": v.value if v else None,
        "numerator": v.numerator if v else None,
        "denominator": v.denominator if v else None,
        "unit": ind.unit,
        "threshold": _threshold(ind),
        "fired": at_risk(ind, v),
        "source": ind.sources.get("threshold"),
    }


def explain_list(
    rule: ListRule,
    catalogue: Catalogue,
    values: Mapping[str, Value],
    peers: Mapping[str, Value | None] | None = None,
    school: str | None = None,
) -> dict[str, Any]:
    """A school's entry in a list: the rule, each criterion fired or not, the decision.

    ``peers``: for a ``lowest`` rule, the region's schools' values of its indicator."""
    by_id = catalogue.by_id()
    base = {"list": rule.name, "rule": rule.rule, "source": rule.source}
    if rule.rule == "lowest":
        ind = by_id[rule.indicators[0]]
        lowest = relative_members(rule, peers or {})
        member, reasons = list_membership(rule, catalogue, values, lowest, school)
        ranked = {s: v.value for s, v in (peers or {}).items() if v and v.value is not None}
        have = sorted((x, s) for s, x in ranked.items())
        rank = next((i for i, (_, s) in enumerate(have, start=1) if s == school), None)
        return base | {
            "member": member,
            "reasons": list(reasons),
            "criteria": [criterion(ind, values.get(ind.id), "ranked")],
            "bottom_share": rule.bottom_share,
            "bottom_count": rule.bottom_count,
            "rank": rank,  # 1 = the lowest value of the region
            "schools_ranked": len(have),
            "taken": len(lowest),
            "cut_value": max((ranked[s] for s in lowest), default=None),
        }
    member, reasons = list_membership(rule, catalogue, values)
    crits = [criterion(by_id[i], values.get(i), "criterion") for i in rule.indicators]
    crits += [
        criterion(by_id[i], values.get(i), "always")
        for i in rule.always
        if i not in rule.indicators
    ]
    for c in crits:  # an «always» criterion that is also counted says both
        if c["indicator_id"] in rule.always:
            c["role"] = "always" if c["role"] == "always" else "criterion, always"
    fired = [c for c in crits if c["fired"] and "criterion" in c["role"]]
    forced = [c for c in crits if c["fired"] and "always" in c["role"]]
    decided = len(fired) >= rule.min_count or bool(forced)
    return base | {
        "member": member,
        "consistent": decided == member,  # the criteria re-derive the rule's decision
        "reasons": list(reasons),
        "min_count": rule.min_count,
        "fired_count": len(fired),
        "forced_by": [c["indicator_id"] for c in forced],
        "criteria": crits,
    }


def explain_rating(
    values: Mapping[str, Mapping[str, float | None]],
    rule: RatingRule,
    indicators: Mapping[str, Indicator],
    school: str,
) -> dict[str, Any] | None:
    """A school's rating score component by component; None when the school is not rated."""
    rows = school_rating(values, rule, indicators)
    row = next((r for r in rows if r.school_id == school), None)
    if row is None:
        return None
    weights = dict(rule.weights)
    total = sum(weights[i] for i in row.parts)
    comps: list[dict[str, Any]] = []
    for ind_id, weight in rule.weights:
        ind = indicators[ind_id]
        have = [x for v in values.values() if (x := v.get(ind_id)) is not None]
        x = values.get(school, {}).get(ind_id)
        if x is None or ind_id not in row.parts:
            comps.append({"indicator_id": ind_id, "name": ind.name_ru, "weight": weight,
                          "value": None, "included": False})  # fmt: skip
            continue
        lo, hi = min(have), max(have)
        standing = row.parts[ind_id]
        if hi == lo:
            formula = "все школы равны: 1"
        elif ind.better == "up":
            formula = "(значение − минимум) / (максимум − минимум)"
        else:
            formula = "1 − (значение − минимум) / (максимум − минимум)"
        comps.append(
            {
                "indicator_id": ind_id,
                "name": ind.name_ru,
                "included": True,
                "value": x,
                "better": ind.better,
                "min": lo,
                "max": hi,
                "schools_with_value": len(have),
                "normalisation": formula,
                "standing": round(standing, 6),
                "weight": weight,
                "contribution": round(weight * standing / total * 100.0, 6),
            }
        )
    added = round(sum(c["contribution"] for c in comps if c["included"]), 4)
    return {
        "school_id": school,
        "score": row.score,
        "rank": row.rank,
        "of": len(rows),
        "bottom": row.bottom,
        "bottom_count": rule.bottom,
        "weights_used": total,
        "components": comps,
        "how": "балл = Σ (вес × положение) / Σ весов показателей, по которым у школы есть "
        "значение, × 100",
        "consistent": abs(added - row.score) <= 1e-3,
        "source": rule.source,
    }


def fired_criteria(
    rule: ListRule, catalogue: Catalogue, values: Mapping[str, Value], reasons: Any
) -> list[dict[str, Any]]:
    """A list member's reasons in full: each indicator that put it on the list with the
    school's value, numerator, denominator and threshold (region-relative signs, which are
    not indicators, are described by their own figures beside)."""
    by_id = catalogue.by_id()
    role = "ranked" if rule.rule == "lowest" else "criterion"
    return [criterion(by_id[i], values.get(i), role) for i in reasons if i in by_id]
