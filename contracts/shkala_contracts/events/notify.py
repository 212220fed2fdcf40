"""Operational events of the notify service (webhook endpoints disabled and re-enabled).

Keyed by subscription id; the tenant is the subscription owner's, so a municipality's
subscribers see only their own endpoints' events.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import Field

from shkala_contracts.domain_event import DomainEvent

TOPIC = "shkala.notify.v1"


class _SubscriptionEvent(DomainEvent):
    topic: ClassVar[str] = TOPIC

    subscription_id: str = Field(min_length=1, max_length=64)
    target_host: str = Field(description="Host of the endpoint URL (no path, no query)")

    def partition_key(self) -> str:
        return self.subscription_id


class EndpointDisabled(_SubscriptionEvent):
    """A webhook endpoint kept failing for too long and was disabled; no more attempts."""

    event_type: ClassVar[str] = "ru.shkala.notify.endpoint_disabled.v1"

    failing_since: dt.datetime
    disabled_at: dt.datetime
    reason: str = Field(max_length=500)
    last_error: str | None = Field(default=None, max_length=500)


class EndpointEnabled(_SubscriptionEvent):
    """A disabled webhook endpoint was enabled again by its owner."""

    event_type: ClassVar[str] = "ru.shkala.notify.endpoint_enabled.v1"

    enabled_at: dt.datetime
