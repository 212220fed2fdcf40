"""The delivery worker: claims due deliveries, sends them, records every attempt, retries on
the schedule, disables endpoints that fail for too long and relays the operational events."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import Counter

from shkala_contracts import Envelope, Tenant
from shkala_contracts.events.notify import EndpointDisabled, EndpointEnabled
from shkala_notify.adapters.store import Store, now_utc
from shkala_notify.adapters.webhooks import WebhookSender
from shkala_notify.domain.subscriptions import (
    RetrySchedule,
    SubscriptionStatus,
    should_disable,
    signing_secrets,
)
from shkala_runtime.kafka import EventPublisher, Outgoing

log = logging.getLogger(__name__)

ATTEMPTS = Counter("notify_delivery_attempts_total", "Webhook delivery attempts", ["outcome"])
DISABLED = Counter("notify_endpoints_disabled_total", "Webhook endpoints disabled")


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        sender: WebhookSender,
        publisher: EventPublisher,
        *,
        source: str,
        schedule: RetrySchedule,
        disable_after: dt.timedelta,
        lease: dt.timedelta,
        poll_interval_s: float,
        batch_size: int,
    ) -> None:
        self._store = store
        self._sender = sender
        self._publisher = publisher
        self._source = source
        self._schedule = schedule
        self._disable_after = disable_after
        self._lease = lease
        self._poll = poll_interval_s
        self._batch = batch_size
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notify-delivery-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._sender.close()

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep delivering; the database or broker may come back
                log.exception("delivery worker round failed")
                busy = False
            if not busy:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)

    async def run_once(self) -> bool:
        """One round: relay operational events, then attempt what is due. True if it worked."""
        await self.relay_op_events()
        claimed = await self._store.claim_due(now_utc(), self._lease, self._batch)
        if claimed:
            subs: dict[str, Any] = {}
            for sub_id in {d["subscription_id"] for d in claimed}:
                subs[sub_id] = await self._store.get_subscription(sub_id)
            try:
                await asyncio.gather(
                    *(self._attempt(d, subs[d["subscription_id"]]) for d in claimed)
                )
            except asyncio.CancelledError:
                # Stopping mid-attempt: hand the unfinished ones back at once, not after the lease.
                await asyncio.shield(self._store.release(claimed, now_utc()))
                raise
        return bool(claimed)

    async def _attempt(self, delivery: dict[str, Any], sub: dict[str, Any] | None) -> None:
        if sub is None:
            await self._store.give_up(delivery, "subscription deleted", now_utc())
            return
        if sub["status"] != SubscriptionStatus.ACTIVE.value:
            await self._store.give_up(delivery, "endpoint disabled", now_utc())
            return
        result = await self._sender.send(
            sub["url"],
            signing_secrets(sub, now_utc()),
            delivery["event_id"],
            delivery["body"],
            traceparent=delivery.get("traceparent"),
            tracestate=delivery.get("tracestate"),
        )
        at = now_utc()
        entry = {
            "at": at,
            "attempt": delivery.get("attempts", 0) + 1,
            "status_code": result.status_code,
            "error": result.error,
            "duration_ms": result.duration_ms,
            "response": result.response_excerpt,
        }
        ATTEMPTS.labels("delivered" if result.ok else "failed").inc()
        if result.ok:
            await self._store.record_attempt(
                delivery, entry, status="delivered", next_attempt_at=None
            )
            await self._store.endpoint_succeeded(sub["_id"])
            return
        delay = self._schedule.next_delay(delivery.get("round_attempts", 0) + 1)
        await self._store.record_attempt(
            delivery,
            entry,
            status="pending" if delay is not None else "failed",
            next_attempt_at=at + dt.timedelta(seconds=delay) if delay is not None else None,
        )
        log.info(
            "webhook %s to subscription %s failed: %s",
            delivery["event_id"],
            sub["_id"],
            result.error,
        )
        after = await self._store.endpoint_failed(sub["_id"], at, result.error)
        if after and should_disable(after.get("failing_since"), at, self._disable_after):
            reason = (
                f"every delivery failed for {int((at - after['failing_since']).total_seconds())} s"
                f" (limit {int(self._disable_after.total_seconds())} s)"
            )
            if await self._store.disable(sub["_id"], at, reason):
                DISABLED.inc()
                log.warning("subscription %s disabled: %s", sub["_id"], reason)
                await self.relay_op_events()

    async def relay_op_events(self) -> None:
        """Publish pending endpoint_disabled/enabled events (written with the state change)."""
        for sub in await self._store.unpublished_op_events():
            op = sub["op_event"]
            o = sub["owner"]
            common = {
                "originator_id": f"notify.subscription:{sub['_id']}",
                "originator_version": sub["version"],
                "region_id": o["region"],
                "municipality_id": o.get("municipality"),
                "school_id": o.get("school"),
                "subscription_id": sub["_id"],
                "target_host": urlsplit(sub["url"]).hostname or "",
            }
            event: EndpointDisabled | EndpointEnabled
            if op["kind"] == "disabled":
                event = EndpointDisabled(
                    **common,
                    failing_since=sub.get("failing_since") or op["at"],
                    disabled_at=op["at"],
                    reason=(sub.get("disabled_reason") or "")[:500],
                    last_error=(sub.get("last_error") or None) and sub["last_error"][:500],
                )
            else:
                event = EndpointEnabled(**common, enabled_at=op["at"])
            tenant = Tenant(
                region=o["region"], municipality=o.get("municipality"), school=o.get("school")
            )
            envelope = Envelope.for_event(
                event,
                source=self._source,
                tenant=tenant,
                # the same state change always carries the same CloudEvents id
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event.originator_id}@{sub['version']}")),
            )
            await self._publisher.publish([Outgoing(event, envelope)])
            await self._store.mark_op_event_published(sub["_id"], sub["version"])
