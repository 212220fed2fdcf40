"""Operational events of the notify service (endpoint disabled, delivery failed)."""

from __future__ import annotations

TOPIC = "shkala.notify.v1"
