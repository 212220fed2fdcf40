"""What each page shows, gathered from the services' APIs (no data of its own).

Every function takes ``api`` (anything with the :class:`Reader` shape) and returns plain
dicts for the templates; errors of the services (403, 404) pass through as they are.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any, Protocol

from shkala_web.domain import roadmaps as rm
from shkala_web.domain.format import LISTS


class Reader(Protocol):
    async def get(self, service: str, path: str, **params: Any) -> Any: ...

    async def send(self, service: str, method: str, path: str, body: Any = None) -> Any: ...


def academic_year(today: dt.date) -> str:
    start = today.year if today.month >= 9 else today.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def shift(period: str, years: int) -> str:
    start = int(period[:4]) + years
    return f"{start}/{(start + 1) % 100:02d}"


def recent_periods(today: dt.date, n: int = 4) -> list[str]:
    now = academic_year(today)
    return [shift(now, -i) for i in range(n)]


class Catalogue:
    """The indicator catalogue, fetched once and kept for a few minutes (it is the same for
    every user and changes only with a new definition version)."""

    def __init__(self, ttl_s: float = 300.0) -> None:
        self.ttl_s = ttl_s
        self._data: dict[str, Any] | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def get(self, api: Reader) -> dict[str, Any]:
        async with self._lock:
            if self._data is None or time.monotonic() - self._at > self.ttl_s:
                self._data = await api.get("indicators", "/catalogue")
                self._at = time.monotonic()
        return self._data

    @staticmethod
    def by_id(cat: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {i["id"]: i for i in cat.get("indicators", [])}

    @staticmethod
    def key_columns(cat: dict[str, Any]) -> list[str]:
        """The schools table's columns: every indicator a list rule looks at, in list order."""
        out: list[str] = []
        for rule in cat.get("lists", []):
            for i in rule.get("indicators", []):
                if i not in out:
                    out.append(i)
        return out


async def region_page(api: Reader, cat: dict[str, Any], period: str) -> dict[str, Any]:
    columns = Catalogue.key_columns(cat)  # the page's columns only: not all of the catalogue
    summary, approved, before, units = await asyncio.gather(
        api.get("indicators", "/region/summary", period=period, indicator=columns),
        # beside the live figures: each school as its period was approved (ADR 0010)
        api.get(
            "indicators", "/region/summary", period=period, basis="approved", indicator=columns
        ),
        # the previous year: its list counts only
        api.get("indicators", "/region/summary", period=shift(period, -1), indicator=columns),
        api.get("indicators", "/org-units"),
    )
    names = {u["id"]: u.get("name") or u["id"] for u in units["units"]}
    muns = sorted(
        [u["id"] for u in units["units"] if u["kind"] == "municipality"],
        key=lambda m: names.get(m, m),
    )
    counts = {
        name: {
            "now": sum(summary["list_counts"].get(name, {}).values()),
            "before": sum(before["list_counts"].get(name, {}).values()),
            "by_mun": summary["list_counts"].get(name, {}),
        }
        for name in LISTS
    }
    by_mun = approved.get("by_municipality", {})
    return {
        "period": period,
        "columns": columns,
        "municipalities": [
            {
                "id": m,
                "name": names.get(m, m),
                "values": summary["municipalities"].get(m, {}),
                "approved": approved.get("municipalities", {}).get(m, {}),
                "counted": _counted(by_mun.get(m)),
            }
            for m in muns
        ],
        "region": summary["region"],
        "region_approved": approved.get("region", {}),
        "region_counted": _counted(approved),
        "counts": counts,
        "freshness": summary.get("freshness"),
    }


def _counted(answer: dict[str, Any] | None) -> dict[str, int]:
    """How many schools the approved figures rest on, of how many."""
    c = (answer or {}).get("counted") or {}
    return {"approved": int(c.get("schools", 0)), "of": int(c.get("of", 0))}


async def municipality_page(
    api: Reader,
    cat: dict[str, Any],
    mun: str,
    period: str,
    sort: str | None,
    order: str,
    only_list: str | None,
) -> dict[str, Any]:
    table, rating, units, *lists = await asyncio.gather(
        api.get(
            "indicators", f"/municipalities/{mun}/table", period=period, sort=sort, order=order
        ),
        api.get("indicators", f"/municipalities/{mun}/rating", period=period),
        api.get("indicators", "/org-units"),
        *(
            api.get("indicators", f"/lists/{name}", period=period, municipality=mun)
            for name in LISTS
        ),
    )
    names = {u["id"]: u.get("name") or u["id"] for u in units["units"]}
    rows = table["rows"]
    if only_list:
        rows = [r for r in rows if only_list in r.get("lists", [])]
    return {
        "municipality": {"id": mun, "name": names.get(mun, mun)},
        "period": period,
        "columns": Catalogue.key_columns(cat),
        "rows": rows,
        "sort": sort,
        "order": order,
        "only_list": only_list,
        "total": table.get("municipality", {}),
        "lists": [
            {
                "name": name,
                "members": lst["members"],
                "dynamics": lst["dynamics"],
                "previous_period": lst["previous_period"],
            }
            for name, lst in zip(LISTS, lists, strict=True)
        ],
        "rating": rating,
        "names": names,
        "freshness": table.get("freshness"),
    }


async def school_page(api: Reader, cat: dict[str, Any], school: str, period: str) -> dict[str, Any]:
    """The card without its ВПР tasks: those read every protocol of the school, so the page
    asks for them separately (:func:`school_vpr`) and shows the card meanwhile."""
    card = await api.get("indicators", f"/schools/{school}")
    rules = {r["list"]: r for r in cat.get("lists", [])}
    by_id = Catalogue.by_id(cat)
    memberships = []
    for m in card["lists"]:
        if m["period"] != period or not m["member"]:
            continue
        rule = rules.get(m["list"], {})
        fired = []
        for ind_id in m.get("reasons", []):
            ind = next((i for i in card["indicators"] if i["id"] == ind_id), None)
            latest = ind.get("latest") if ind else None
            fired.append(
                {
                    "id": ind_id,
                    "name": by_id.get(ind_id, {}).get("name", {}).get("ru", ind_id),
                    "unit": by_id.get(ind_id, {}).get("unit"),
                    "value": latest.get("value") if latest else None,
                    "numerator": latest.get("numerator") if latest else None,
                    "denominator": latest.get("denominator") if latest else None,
                    "threshold": by_id.get(ind_id, {}).get("threshold"),
                }
            )
        memberships.append(
            {
                "list": m["list"],
                "fired": fired,
                "min_count": rule.get("min_count"),
                "always": [
                    by_id.get(a, {}).get("name", {}).get("ru", a) for a in rule.get("always", [])
                ],
                "of": len(rule.get("indicators", [])),
            }
        )
    indicators = []
    for ind in card["indicators"]:
        now = next((v for v in ind["trend"] if v["period"] == period), None)
        indicators.append({**ind, "now": now, "at_risk_now": bool(now and now.get("at_risk"))})
    journal = {
        k: next((i["now"] for i in indicators if i["id"] == f"vpr_{k}_share"), None)
        for k in ("lowered", "confirmed", "raised")
    }
    return {
        "school": card["school"],
        "period": period,
        "indicators": indicators,
        "memberships": memberships,
        "journal": journal,
        "freshness": card.get("freshness"),
    }


async def school_vpr(api: Reader, school: str, period: str) -> dict[str, Any]:
    """ВПР per-task success of the school (the card's heatmap and its deficits)."""
    vpr = await api.get("indicators", f"/schools/{school}/vpr-tasks", period=period)
    return {"school_id": school, "period": period, "vpr": vpr, "heatmap": heatmap(vpr["tasks"])}


def heatmap(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ВПР tasks grouped by subject and grade: one heatmap row each, tasks in natural order."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for t in tasks:
        groups.setdefault((t["subject"], int(t["grade"])), []).append(t)

    def task_key(t: dict[str, Any]) -> list[int]:
        return [int(p) if p.isdigit() else 0 for p in str(t["task"]).split(".")]

    return [
        {"subject": s, "grade": g, "tasks": sorted(ts, key=task_key)}
        for (s, g), ts in sorted(groups.items())
    ]


async def roadmap_list(api: Reader, mun: str | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get("plans", "/roadmaps", municipality_id=mun)
    return found


def roadmap_rows(roadmap: dict[str, Any], today: dt.date, soon_days: int) -> dict[str, Any]:
    sections = {s["section_id"]: {**s, "rows": []} for s in roadmap["sections"]}
    loose: list[dict[str, Any]] = []
    for row in roadmap["rows"]:
        state, due = rm.urgency(row, today, soon_days)
        item = {**row, "urgency": state, "due": due.isoformat() if due else None}
        target = sections.get(row.get("section_id") or "")
        (target["rows"] if target else loose).append(item)
    return {
        "sections": list(sections.values()),
        "loose": loose,
        "summary": rm.summarise(roadmap["rows"], today, soon_days),
    }


async def measures_of(api: Reader, mun: str | None) -> list[dict[str, Any]]:
    """Every measure of a municipality (``None``: every one the caller's tenant holds) with
    its evaluation (baseline and evaluation values)."""
    # whole, in one answer: a request per measure was ~30 ms each on the typical region
    measures: list[dict[str, Any]] = await api.get(
        "plans", "/measures", municipality_id=mun, full="true"
    )
    return measures


async def direction_page(api: Reader, mun: str, direction: str, period: str) -> dict[str, Any]:
    view, units = await asyncio.gather(
        api.get("indicators", f"/directions/{direction}", period=period, municipality=mun),
        api.get("indicators", "/org-units"),
    )
    names = {u["id"]: u.get("name") or u["id"] for u in units["units"]}
    schools = sorted(
        (u["id"] for u in units["units"] if u["kind"] == "school" and u["municipality_id"] == mun),
        key=lambda s: names.get(s, s),
    )
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    total: dict[str, dict[str, Any]] = {}
    for v in view["values"]:
        if v["scope"] == "school":
            cells[(v["unit_id"], v["indicator_id"])] = v
        elif v["scope"] == "municipality":
            total[v["indicator_id"]] = v
    return {
        "municipality": {"id": mun, "name": names.get(mun, mun)},
        "direction": direction,
        "period": period,
        "indicators": view["indicators"],
        "schools": [{"id": s, "name": names.get(s, s)} for s in schools],
        "cells": {f"{s}|{i}": v for (s, i), v in cells.items()},
        "total": total,
        "freshness": view.get("freshness"),
    }
