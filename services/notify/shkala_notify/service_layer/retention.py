"""Retention of delivery records (срок хранения журнала доставок).

A delivery record holds the whole webhook body and its attempt log; kept forever they
would grow with every event. Records that are finished — delivered, or failed for good —
and unchanged for ``SHKALA_WEBHOOK_DELIVERY_RETENTION_DAYS`` are deleted by a sweep every
instance runs (deleting is idempotent, so several instances need no coordination); pending
ones are never deleted, whatever their age. The events themselves stay on the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Protocol

from prometheus_client import Counter

log = logging.getLogger(__name__)

PURGED = Counter(
    "notify_deliveries_purged_total", "Finished delivery records deleted by the retention policy"
)
FINISHED = ("delivered", "failed")


class DeliveryRecords(Protocol):
    async def purge_finished(self, statuses: tuple[str, ...], before: dt.datetime) -> int: ...


async def sweep(store: DeliveryRecords, now: dt.datetime, keep: dt.timedelta) -> int:
    """Delete finished records last changed before ``now - keep``; returns how many."""
    purged = await store.purge_finished(FINISHED, now - keep)
    if purged:
        PURGED.inc(purged)
        log.info("retention: deleted %s delivery records older than %s", purged, keep)
    return purged


class RetentionSweeper:
    def __init__(self, store: DeliveryRecords, keep_days: float, every_s: float) -> None:
        self._store = store
        self._keep = dt.timedelta(days=keep_days) if keep_days > 0 else None
        self._every = every_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._keep is not None:
            self._task = asyncio.create_task(self._run(), name="notify-retention")

    async def _run(self) -> None:
        assert self._keep is not None
        while True:
            try:
                await sweep(self._store, dt.datetime.now(dt.UTC), self._keep)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may come back; the next sweep catches up
                log.exception("retention sweep failed")
            await asyncio.sleep(self._every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
