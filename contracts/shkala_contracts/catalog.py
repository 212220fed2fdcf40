"""The v1 event catalogue: every event type, its model and its topic."""

from __future__ import annotations

from shkala_contracts.base import Event, Fact
from shkala_contracts.events import (
    assessment,
    attendance,
    cycle,
    directions,
    indicators,
    notify,
    org_units,
    plans,
    reference,
    school_context,
    staffing,
    withdrawals,
)

_MODULES = (
    org_units,
    assessment,
    attendance,
    staffing,
    school_context,
    withdrawals,
    indicators,
    plans,
    cycle,
    notify,
    directions,
    reference,
)


def _collect() -> dict[str, type[Event]]:
    found: dict[str, type[Event]] = {}
    for module in _MODULES:
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Event)
                and obj.__module__ == module.__name__
                and "event_type" in obj.__dict__
            ):
                if obj.event_type in found:
                    raise RuntimeError(f"event type {obj.event_type} defined twice")
                found[obj.event_type] = obj
    return dict(sorted(found.items()))


EVENT_TYPES: dict[str, type[Event]] = _collect()
FACT_TYPES: dict[str, type[Fact]] = {t: c for t, c in EVENT_TYPES.items() if issubclass(c, Fact)}


def event_class(event_type: str) -> type[Event]:
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}") from None
