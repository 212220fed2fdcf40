"""A school's ВПР task deficits as the indicators service answers them
(``GET /schools/{id}/vpr-tasks?period=``), for the proposals of targeted recommendations.
Asked with a short-lived region token signed like every Shkala token. An answer is kept
``ttl_s`` (60 s): a list of proposals asks once per school at risk, and indicators reads the
school's stored ВПР facts for it (~0.25 s a school on the typical region), so a coordinator
paging through proposals does not ask again."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx

from shkala_plans.domain.proposals import TaskDeficit
from shkala_plans.service_layer.proposals import VprTasksUnavailable
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings


def parse_deficits(doc: dict[str, Any]) -> list[TaskDeficit]:
    """The answer's ``deficits`` rows; ``planned_result`` when the row has one."""
    threshold = float(doc.get("threshold") or 0)
    out = []
    for r in doc.get("deficits") or ():
        try:
            out.append(
                TaskDeficit(
                    subject=str(r["subject"]),
                    grade=int(r["grade"]),
                    task=str(r["task"]),
                    rate=float(r["rate"]),
                    threshold=threshold,
                    points=float(r["points"]),
                    max_points=float(r["max_points"]),
                    planned_result=r.get("planned_result") or None,
                    definition_version=doc.get("definition_version"),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a row of another shape: not proposable, not fatal
    return out


class HttpVprTasks:
    def __init__(
        self,
        settings: ServiceSettings,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        ttl_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self.transport = transport
        self.clock = clock
        self._kept: dict[tuple[str, str], tuple[float, list[TaskDeficit]]] = {}

    async def deficits(self, school: str, period: str) -> list[TaskDeficit]:
        kept = self._kept.get((school, period))
        if kept is not None and self.clock() - kept[0] < self.ttl_s:
            return list(kept[1])
        found = await self._ask(school, period)
        if len(self._kept) > 10_000:  # a bound, not an LRU: the region's schools fit
            self._kept.clear()
        self._kept[(school, period)] = (self.clock(), found)
        return list(found)

    async def _ask(self, school: str, period: str) -> list[TaskDeficit]:
        token = issue_token(
            self.settings, Role.REGION, subject="shkala-plans", ttl=dt.timedelta(minutes=5)
        )
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout_s, transport=self.transport
            ) as client:
                r = await client.get(
                    f"/schools/{school}/vpr-tasks",
                    params={"period": period},
                    headers={"Authorization": f"Bearer {token}"},
                )
        except httpx.HTTPError as exc:
            raise VprTasksUnavailable(
                f"the indicators service at {self.base_url} did not answer ({type(exc).__name__})"
            ) from exc
        if r.status_code == 404:
            return []  # indicators does not know the school (yet): no deficits to propose
        if r.status_code != 200:
            raise VprTasksUnavailable(
                f"the indicators service at {self.base_url} answered {r.status_code}"
            )
        return parse_deficits(r.json())
