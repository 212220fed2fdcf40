"""Overdue and due-soon roadmap rows (просрочено / скоро срок)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shkala_web.domain.roadmaps import summarise, urgency

TODAY = dt.date(2026, 3, 20)


def row(status: str = "planned", **deadline: Any) -> dict[str, Any]:
    return {"status": status, "deadline": {"text": "…", **deadline}, "overdue": []}


def test_a_one_off_date_in_the_past_is_overdue_until_done() -> None:
    assert urgency(row(dates=["2026-03-01"]), TODAY, 14) == ("overdue", dt.date(2026, 3, 1))
    assert urgency(row("done", dates=["2026-03-01"]), TODAY, 14) == ("closed", None)
    assert urgency(row("cancelled", dates=["2026-03-01"]), TODAY, 14)[0] == "closed"


def test_a_month_is_due_at_its_end() -> None:
    assert urgency(row(months=["2026-03"]), TODAY, 14) == ("soon", dt.date(2026, 3, 31))
    assert urgency(row(months=["2026-02"]), TODAY, 14) == ("overdue", dt.date(2026, 2, 28))


def test_yearly_dates_are_never_overdue_by_themselves_but_come_due_soon() -> None:
    assert urgency(row(yearly_dates=["03-25"]), TODAY, 14) == ("soon", dt.date(2026, 3, 25))
    assert urgency(row(yearly_dates=["09-01"]), TODAY, 14) == ("ok", dt.date(2026, 9, 1))


def test_plans_signalled_overdue_wins() -> None:
    r = row(yearly_dates=["09-01"]) | {"overdue": ["2025-09-01"]}
    assert urgency(r, TODAY, 14) == ("overdue", dt.date(2025, 9, 1))


def test_summary_counts() -> None:
    rows = [row(dates=["2026-03-01"]), row("done", dates=["2026-01-01"]), row(months=["2026-03"])]
    assert summarise(rows, TODAY, 14) == {"total": 3, "done": 1, "overdue": 1, "soon": 1, "open": 2}
