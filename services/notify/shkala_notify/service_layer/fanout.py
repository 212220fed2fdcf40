"""From the log to the outbox: one delivery per matching subscription, persisted before the
consumer commits (so a crash or restart resumes from the database, never loses an event)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import Counter

from shkala_contracts import DomainEvent
from shkala_notify.adapters.store import Store, now_utc
from shkala_notify.domain.cloudevents import structured
from shkala_notify.domain.subscriptions import EventFacts, Filters, Owner, matches
from shkala_notify.domain.texts import describe, named_ids
from shkala_notify.service_layer.names import NAMED_TYPES, OrgNames
from shkala_runtime.consuming import Delivered, Rejection
from shkala_runtime.tracing import event_span

log = logging.getLogger(__name__)

QUEUED = Counter("notify_deliveries_queued_total", "Webhook deliveries written to the outbox")


def owner_of(sub: dict[str, Any]) -> Owner:
    o = sub["owner"]
    return Owner(o["region"], o.get("municipality"), o.get("school"))


async def to_cloudevent(d: Delivered, names: OrgNames) -> dict[str, Any]:
    ce = structured(d.envelope, d.event)
    units = {x for x in (ce.get("school"), ce.get("municipality"), ce["region"]) if x}
    await names.load(units | named_ids(ce))
    ce["text"] = describe(ce, names.name)
    return ce


class FanOut:
    def __init__(
        self, store: Store, names: OrgNames, wake: Callable[[], None] | None = None
    ) -> None:
        self._store = store
        self._names = names
        self._wake = wake or (lambda: None)

    async def handle(self, batch: Sequence[Delivered]) -> Sequence[Rejection]:
        await self._names.remember([d for d in batch if isinstance(d.event, NAMED_TYPES)])
        events = [d for d in batch if isinstance(d.event, DomainEvent)]
        if not events:
            return []
        subs = await self._store.active_subscriptions()
        now = now_utc()
        docs = []
        for d in events:
            with event_span(d, "fan out event"):
                ce = await to_cloudevent(d, self._names)
                facts = EventFacts.of(ce)
                body: str | None = None
                for sub in subs:
                    if not matches(owner_of(sub), Filters.from_dict(sub.get("filters")), facts):
                        continue
                    body = body or json.dumps(ce, ensure_ascii=False, separators=(",", ":"))
                    docs.append(
                        {
                            "_id": f"{sub['_id']}:{d.envelope.id}",
                            "subscription_id": sub["_id"],
                            "event_id": d.envelope.id,
                            "event_type": d.envelope.type,
                            "tenant": d.envelope.tenant.model_dump(),
                            "text": ce["text"],
                            "body": body,
                            "traceparent": d.envelope.traceparent,
                            "tracestate": d.envelope.tracestate,
                            "status": "pending",
                            "attempts": 0,
                            "round_attempts": 0,
                            "lease": None,
                            "next_attempt_at": now,
                            "created_at": now,
                            "updated_at": now,
                            "log": [],
                            "source_position": [
                                d.position.topic,
                                d.position.partition,
                                d.position.offset,
                            ],
                        }
                    )
        added = await self._store.add_deliveries(docs)
        QUEUED.inc(added)
        if added:
            log.info("queued %s webhook deliveries from %s events", added, len(events))
            self._wake()
        return []
