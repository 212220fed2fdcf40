"""When a roadmap row is due and whether it is overdue or due soon (просрочено / скоро срок).

The deadline comes from plans already parsed (``Deadline``: dates, months, yearly dates…);
here only the next due date relative to today is worked out, for highlighting.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

OPEN = ("planned", "in_progress")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def due_dates(deadline: dict[str, Any], today: dt.date) -> list[dt.date]:
    """Every concrete due date the deadline names around ``today`` (one-offs, months, this and
    next year's yearly dates)."""
    out: list[dt.date] = []
    for d in deadline.get("dates") or ():
        try:
            out.append(dt.date.fromisoformat(str(d)))
        except ValueError:
            continue
    for m in deadline.get("months") or ():
        try:
            y, mm = (int(x) for x in str(m).split("-")[:2])
            out.append(_month_end(y, mm))
        except ValueError:
            continue
    for year in (today.year - 1, today.year, today.year + 1):
        for md in deadline.get("yearly_dates") or ():
            try:
                mm, dd = (int(x) for x in str(md).split("-")[:2])
                out.append(dt.date(year, mm, dd))
            except ValueError:
                continue
        for mm in deadline.get("yearly_months") or ():
            out.append(_month_end(year, int(mm)))
    return sorted(set(out))


def urgency(row: dict[str, Any], today: dt.date, soon_days: int) -> tuple[str, dt.date | None]:
    """("overdue" | "soon" | "ok" | "closed", the date that decides it)."""
    if row.get("status") not in OPEN:
        return "closed", None
    dates = due_dates(row.get("deadline") or {}, today)
    if row.get("overdue"):
        return "overdue", _first_date(row["overdue"]) or (dates[0] if dates else None)
    upcoming = [d for d in dates if d >= today]
    past = [d for d in dates if d < today]
    one_off = bool(row.get("deadline", {}).get("dates") or row.get("deadline", {}).get("months"))
    if past and one_off and not upcoming:
        return "overdue", past[-1]
    if upcoming and (upcoming[0] - today).days <= soon_days:
        return "soon", upcoming[0]
    return "ok", upcoming[0] if upcoming else None


def _first_date(values: list[Any]) -> dt.date | None:
    for v in values:
        try:
            return dt.date.fromisoformat(str(v)[:10])
        except ValueError:
            continue
    return None


def summarise(rows: list[dict[str, Any]], today: dt.date, soon_days: int) -> dict[str, int]:
    counts = {"total": len(rows), "done": 0, "overdue": 0, "soon": 0, "open": 0}
    for r in rows:
        state, _ = urgency(r, today, soon_days)
        if r.get("status") == "done":
            counts["done"] += 1
        if state in ("overdue", "soon"):
            counts[state] += 1
        if r.get("status") in OPEN:
            counts["open"] += 1
    return counts
