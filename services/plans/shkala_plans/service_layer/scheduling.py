"""The deadline scheduler, once per deployment: every instance ticks, only the lease
holder runs the roadmaps' due/overdue check, and only when the interval has passed since
the last run by anyone. Each due date is signalled once anyway (the roadmap aggregate
records it, and a concurrent append loses on its version): the lease keeps instances from
doing the same work and racing on every roadmap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)


class LeaseLike(Protocol):
    async def hold(self) -> bool: ...
    async def last_run(self) -> dt.datetime | None: ...
    async def ran(self, at: dt.datetime) -> None: ...
    async def release(self) -> None: ...


def tick_seconds(interval_s: float) -> float:
    return max(min(interval_s, 5.0), 0.05)


async def tick(
    lease: LeaseLike,
    job: Callable[[], Awaitable[object]],
    interval_s: float,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> bool:
    """One tick: True when this instance ran the job."""
    if not await lease.hold():
        return False
    last = await lease.last_run()
    at = now()
    if last is not None and (at - last).total_seconds() < interval_s:
        return False
    await job()
    await lease.ran(at)
    return True


async def run_forever(
    lease: LeaseLike, job: Callable[[], Awaitable[object]], interval_s: float
) -> None:
    try:
        while True:
            await asyncio.sleep(tick_seconds(interval_s))
            try:
                await tick(lease, job, interval_s)
            except Exception:
                log.exception("deadline scheduler tick failed")
    finally:
        try:
            await asyncio.shield(lease.release())
        except Exception:  # the database is away: the lease simply expires
            log.warning("scheduler lease not released; it expires by itself")
