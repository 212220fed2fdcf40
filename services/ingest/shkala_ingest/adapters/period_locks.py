"""Is the monitoring period an upload would change locked? Asked of the plans service, which
owns monitoring periods (``POST /periods/locks/query``), once per import for all the
(school, school year) pairs its rows name.

Configuration (``SHKALA_`` prefix): ``PLANS_URL`` (e.g. http://plans:8003; unset ⇒ no
check, for a deployment without plans), ``PLANS_TIMEOUT_S`` (5). Plans is asked with a
short-lived region token signed like every Shkala token (subject ``shkala-ingest``). When
plans is configured but does not answer, the upload is refused (503) rather than risk
changing a locked period: nothing is published, the uploader tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from shkala_runtime.auth import Role, issue_token
from shkala_runtime.problems import Problem
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)


class PlansLink(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHKALA_", env_file=None, extra="ignore")

    plans_url: str | None = None
    plans_timeout_s: float = 5.0


class LockStateUnknown(Exception):
    """Plans did not say whether the periods are locked; ``reason`` names why, without the
    URL (the problem goes to the uploader)."""

    def __init__(self, reason: str, where: str = "") -> None:
        super().__init__(f"{reason} asking {where}" if where else reason)
        self.reason = reason


class PeriodLocks:
    def __init__(
        self,
        settings: ServiceSettings,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.transport = transport

    async def locked(self, pairs: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        items = [{"school_id": s, "period": p} for s, p in sorted(set(pairs))]
        token = issue_token(
            self.settings, Role.REGION, subject="shkala-ingest", ttl=dt.timedelta(minutes=5)
        )
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout_s, transport=self.transport
            ) as client:
                r = await client.post(
                    "/periods/locks/query",
                    json={"items": items},
                    headers={"Authorization": f"Bearer {token}"},
                )
        except httpx.HTTPError as exc:
            raise LockStateUnknown(type(exc).__name__, self.base_url) from exc
        if r.status_code != 200:
            raise LockStateUnknown(f"plans answered {r.status_code}")
        return _hits(r, {(i["school_id"], i["period"]) for i in items})


def _hits(r: httpx.Response, asked: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """The locked pairs of a 200 answer, only those asked. An answer that is not the
    documented ``{"locked": [{school_id, period, …}]}`` says nothing: unknown, not "open"
    (a proxy's HTML page or a truncated body must not let an upload through)."""
    try:
        body = r.json()
    except ValueError as exc:
        raise LockStateUnknown("plans answered 200 without JSON") from exc
    locked = body.get("locked") if isinstance(body, dict) else None
    if not isinstance(locked, list) or not all(
        isinstance(h, dict) and isinstance(h.get("school_id"), str)
        and isinstance(h.get("period"), str)
        for h in locked
    ):  # fmt: skip
        raise LockStateUnknown("plans answered 200 without a list of locked periods")
    return [h for h in locked if (h["school_id"], h["period"]) in asked]


def locks_for(ingestor: Any) -> PeriodLocks | None:
    """The ingestor's lock checker: set explicitly (``ingestor.period_locks``), else made
    once from ``SHKALA_PLANS_URL``; None when plans is not configured."""
    explicit = getattr(ingestor, "period_locks", None)
    if explicit is not None:
        return explicit
    link = PlansLink()
    if not link.plans_url:
        return None
    made = PeriodLocks(ingestor.settings, link.plans_url, timeout_s=link.plans_timeout_s)
    ingestor.period_locks = made
    return made


async def refusal(ingestor: Any, accepted: Sequence[Any]) -> Problem | None:
    """The problem that refuses an import touching a locked period, or None. ``accepted``
    are the validated rows (``row``, ``year``: the academic year, ``tenant``)."""
    locks = locks_for(ingestor)
    if locks is None:
        return None
    rows: dict[tuple[str, str], list[int]] = {}
    for a in accepted:
        year = a.year
        if year and a.tenant.school:
            rows.setdefault((a.tenant.school, str(year)), []).append(a.row)
    if not rows:
        return None
    cap = getattr(ingestor.settings, "max_reported_errors", 100)
    try:
        hits = await locks.locked(rows)
    except LockStateUnknown as exc:
        log.warning("period lock state unknown: %s", exc)
        pairs = sorted(rows)
        periods = ", ".join(f"{year} школы {school}" for school, year in pairs[:5])
        if len(pairs) > 5:
            periods += f" и ещё {len(pairs) - 5}"
        return Problem(
            503,
            "Monitoring period state unknown",
            f"не удалось спросить сервис планов (plans), закрыты ли периоды мониторинга"
            f" {periods}; ничего не опубликовано, повторите запрос через минуту. The plans"
            f" service could not be asked whether the monitoring periods of this upload are"
            f" locked ({exc.reason}); nothing was published, send it again in a minute",
            type="period-state-unknown",
            periods=[{"school_id": s, "period": y} for s, y in pairs[:cap]],
        )
    if not hits:
        return None
    errors: list[dict[str, Any]] = []
    total = 0
    for hit in hits:
        key = (hit["school_id"], hit["period"])
        reason = _reason(hit)
        for row in rows.get(key, []):
            total += 1
            if len(errors) < cap:
                errors.append(
                    {
                        "row": row,
                        "column": "academic_year",
                        "value": hit["period"],
                        "reason": reason,
                        "code": "period-locked",
                    }
                )
    names = ", ".join(f"{h['period']} школы {h['school_id']}" for h in hits)
    return Problem(
        409,
        "Monitoring period locked",
        f"период мониторинга {names} закрыт регионом; изменить данные можно после того, как"
        f" региональный оператор откроет период заново. {total} row(s) refused; nothing was"
        " published",
        type="period-locked",
        locked_periods=hits,
        errors=errors,
        total_errors=total,
    )


def _reason(hit: dict[str, Any]) -> str:
    slug = hit["period"].replace("/", "-")
    return (
        f"period {hit['period']} of school {hit['school_id']} is locked by the region;"
        f" the regional operator reopens it (POST /periods/{hit['school_id']}/{slug}/reopen"
        " on plans, with a reason)"
    )
