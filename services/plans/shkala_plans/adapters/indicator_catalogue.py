"""The indicators catalogue as plans needs it: which indicator ids exist and which way each
improves. Read from the indicators service (``GET /catalogue``, the service that owns the
catalogue), with a short-lived region token signed like every Shkala token, and cached.

Cache: the whole catalogue is kept for ``ttl_s`` (``SHKALA_PLANS_CATALOGUE_TTL_S``, 300); an
id the cached copy does not hold makes one fresh read, at most every ``miss_refresh_s`` (10),
so a new indicator is seen at once and a stream of unknown ids cannot flood indicators. When
indicators does not answer, a cached copy (however old) is used; without one the lookup
raises ``CatalogueUnavailable`` (HTTP 503: nothing is appended).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from shkala_contracts.events.plans import Better
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.proposals import Definition
from shkala_plans.service_layer.services import CatalogueUnavailable
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

# the catalogue says up/down; plans' events say higher/lower
_BETTER = {
    "up": Better.HIGHER,
    "down": Better.LOWER,
    "higher": Better.HIGHER,
    "lower": Better.LOWER,
}


def parse_catalogue(doc: dict[str, Any]) -> dict[str, Better]:
    """indicator id → better direction, from the indicators service's ``/catalogue`` answer."""
    out: dict[str, Better] = {}
    for item in doc.get("indicators", []):
        better = _BETTER.get(str(item.get("better", "")).lower())
        if isinstance(item.get("id"), str) and better is not None:
            out[item["id"]] = better
    return out


def parse_definitions(doc: dict[str, Any]) -> dict[str, Definition]:
    """indicator id → what a proposal and the cycle view cite of it (name, direction,
    threshold, unit, seed 003's target values per year)."""
    out: dict[str, Definition] = {}
    for item in doc.get("indicators", []):
        try:
            direction = Direction(item.get("direction"))
        except ValueError:
            continue
        if not isinstance(item.get("id"), str):
            continue
        name = item.get("name")
        threshold = item.get("threshold") or {}
        value = threshold.get("value")
        targets = item.get("targets")
        targets = targets if isinstance(targets, dict) else {}
        by_year = targets.get("values")
        by_year = by_year if isinstance(by_year, dict) else {}
        out[item["id"]] = Definition(
            id=item["id"],
            name_ru=(name.get("ru") if isinstance(name, dict) else None) or item["id"],
            direction=direction,
            risk_if=threshold.get("risk_if"),
            threshold=float(value) if isinstance(value, int | float) else None,
            unit=item.get("unit") if isinstance(item.get("unit"), str) else None,
            targets=tuple(
                sorted(
                    (str(y), float(v))
                    for y, v in by_year.items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                )
            ),
            target_expected=targets.get("expected") if targets.get("expected") else None,
        )
    return out


class HttpIndicatorCatalogue:
    def __init__(
        self,
        settings: ServiceSettings,
        base_url: str,
        *,
        ttl_s: float = 300.0,
        miss_refresh_s: float = 10.0,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.ttl_s = ttl_s
        self.miss_refresh_s = miss_refresh_s
        self.timeout_s = timeout_s
        self.transport = transport
        self.clock = clock
        self.reads = 0  # how many times indicators was asked (the cache's work, for tests)
        self._known: dict[str, Better] | None = None
        self._definitions: dict[str, Definition] = {}
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def better(self, indicator_id: str) -> Better | None:
        if (
            self._known is None
            or self.clock() - self._read_at >= self.ttl_s
            or (
                indicator_id not in self._known
                and self.clock() - self._read_at >= self.miss_refresh_s
            )
        ):
            await self._refresh()
        assert self._known is not None
        return self._known.get(indicator_id)

    async def definitions(self) -> dict[str, Definition]:
        """Every indicator's name, direction and threshold (the same cached read)."""
        if self._known is None or self.clock() - self._read_at >= self.ttl_s:
            await self._refresh()
        return dict(self._definitions)

    async def _refresh(self) -> None:
        seen = self._read_at
        async with self._lock:
            if self._read_at != seen and self._known is not None:
                return  # read by a concurrent lookup while this one waited
            try:
                doc = await self._read()
                self._known = parse_catalogue(doc)
                self._definitions = parse_definitions(doc)
            except CatalogueUnavailable:
                if self._known is None:
                    raise
                log.warning("indicators catalogue not refreshed; using the copy read earlier")
            finally:
                self._read_at = self.clock()

    async def _read(self) -> dict[str, Any]:
        self.reads += 1
        token = issue_token(
            self.settings, Role.REGION, subject="shkala-plans", ttl=dt.timedelta(minutes=5)
        )
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout_s, transport=self.transport
            ) as client:
                r = await client.get("/catalogue", headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise CatalogueUnavailable(
                f"the indicators catalogue at {self.base_url} did not answer"
                f" ({type(exc).__name__}); nothing was changed, try again shortly"
            ) from exc
        if r.status_code != 200:
            raise CatalogueUnavailable(
                f"the indicators catalogue at {self.base_url} answered {r.status_code};"
                " nothing was changed, try again shortly"
            )
        return r.json()
