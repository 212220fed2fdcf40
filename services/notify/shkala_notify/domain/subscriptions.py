"""Subscriptions and which events they match. Pure: no framework, no I/O."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SECRET_PREFIX = "whsec_"
OPERATIONAL_PREFIX = "ru.shkala.notify."
"""Operational events (endpoint disabled…) reach only subscriptions that name them."""

# Lists that decide a direction when the event names none (ListMembershipChanged).
_LIST_DIRECTIONS = {
    "ШНОР": "low_results",
    "ШНСУ": "low_results",
    "признаки необъективности": "objectivity",
}
_TYPE_DIRECTIONS = {
    "ru.shkala.indicators.objectivity_flag_raised.v1": "objectivity",
}


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Owner:
    """The tenant a subscription belongs to: it sees nothing outside it."""

    region: str
    municipality: str | None = None
    school: str | None = None

    def covers(self, region: str, municipality: str | None, school: str | None) -> bool:
        if region != self.region:
            return False
        if self.school is not None:
            return school == self.school
        if self.municipality is not None:
            return municipality == self.municipality
        return True


@dataclass(frozen=True, slots=True)
class Filters:
    """Empty tuple = no restriction on that dimension."""

    event_types: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()
    schools: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "event_types": list(self.event_types),
            "municipalities": list(self.municipalities),
            "schools": list(self.schools),
            "directions": list(self.directions),
            "indicators": list(self.indicators),
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Iterable[str]] | None) -> Filters:
        doc = doc or {}
        return cls(**{k: tuple(doc.get(k, ())) for k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What matching needs to know about one event (from its CloudEvent)."""

    type: str
    region: str
    municipality: str | None
    school: str | None
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, cloudevent: Mapping[str, Any]) -> EventFacts:
        return cls(
            type=cloudevent["type"],
            region=cloudevent["region"],
            municipality=cloudevent.get("municipality"),
            school=cloudevent.get("school"),
            data=cloudevent.get("data") or {},
        )

    def directions(self) -> set[str]:
        found: set[str] = set()
        if isinstance(d := self.data.get("direction"), str):
            found.add(d)
        if isinstance(lst := self.data.get("risk_list"), str) and lst in _LIST_DIRECTIONS:
            found.add(_LIST_DIRECTIONS[lst])
        if self.type in _TYPE_DIRECTIONS:
            found.add(_TYPE_DIRECTIONS[self.type])
        return found

    def indicators(self) -> set[str]:
        found: set[str] = set()
        if isinstance(i := self.data.get("indicator_id"), str):
            found.add(i)
        for key in ("reasons", "indicator_ids"):
            if isinstance(many := self.data.get(key), list | tuple):
                found.update(x for x in many if isinstance(x, str))
        return found


def type_matches(patterns: Iterable[str], event_type: str) -> bool:
    """``ru.shkala.indicators.*`` matches every type of that family."""
    for p in patterns:
        if p == event_type or (p.endswith("*") and event_type.startswith(p[:-1])):
            return True
    return False


def matches(owner: Owner, filters: Filters, event: EventFacts) -> bool:
    """Tenant first (never widened by filters), then every non-empty filter must hold."""
    if not owner.covers(event.region, event.municipality, event.school):
        return False
    if filters.event_types:
        if not type_matches(filters.event_types, event.type):
            return False
    elif event.type.startswith(OPERATIONAL_PREFIX):
        return False  # operational events only for those who name them
    if filters.municipalities and event.municipality not in filters.municipalities:
        return False
    if filters.schools and event.school not in filters.schools:
        return False
    if filters.directions and not (event.directions() & set(filters.directions)):
        return False
    return not (filters.indicators and not (event.indicators() & set(filters.indicators)))


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_secret(secret: str) -> str | None:
    """Why a caller-supplied secret is unusable, or None when it is fine."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        return "secret must be whsec_ followed by base64"
    if not 24 <= len(key) <= 64:
        return "secret must decode to 24..64 bytes"
    return None


def signing_secrets(sub: dict[str, object], now: dt.datetime) -> list[str]:
    """Секреты подписи: the current secret, then every earlier one still inside its overlap
    window after a rotation; a webhook is signed with each (Standard Webhooks puts several
    space-separated signatures in ``webhook-signature``), so a receiver that still checks
    the old secret and one that already checks the new both accept it meanwhile."""
    current = sub["secret"]
    assert isinstance(current, str)
    previous = sub.get("previous_secrets") or []
    assert isinstance(previous, list)
    return [current] + [
        p["secret"] for p in previous if _aware(p["expires_at"]) > now and p["secret"] != current
    ]


def still_valid(previous: list[dict[str, object]], now: dt.datetime) -> list[dict[str, object]]:
    return [p for p in previous if _aware(p["expires_at"]) > now]  # type: ignore[arg-type]


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)  # BSON dates are UTC


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Svix-like: the first attempt at once, then after each delay in turn; then give up."""

    delays_s: tuple[float, ...]

    def next_delay(self, attempts_made: int) -> float | None:
        """Delay before the next attempt after ``attempts_made`` failed ones, None = give up."""
        i = attempts_made - 1
        return self.delays_s[i] if 0 <= i < len(self.delays_s) else None


def should_disable(
    failing_since: dt.datetime | None, now: dt.datetime, disable_after: dt.timedelta
) -> bool:
    return failing_since is not None and now - failing_since >= disable_after
