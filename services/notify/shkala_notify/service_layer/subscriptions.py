"""Use cases of the subscriptions API: register, change, list, deliveries, redeliver."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from shkala_contracts import DomainEvent
from shkala_contracts.catalog import EVENT_TYPES
from shkala_contracts.vocabulary import Direction
from shkala_notify.adapters.store import Store, now_utc
from shkala_notify.adapters.targets import TargetGuard
from shkala_notify.domain.ssrf import TargetRefused
from shkala_notify.domain.subscriptions import (
    Filters,
    Owner,
    SubscriptionStatus,
    check_secret,
    new_secret,
    still_valid,
)
from shkala_notify.service_layer.names import OrgNames
from shkala_runtime.auth import Principal, Role
from shkala_runtime.problems import Problem


def domain_event_types() -> list[str]:
    return [t for t, c in EVENT_TYPES.items() if issubclass(c, DomainEvent)]


def owner_of_principal(p: Principal) -> Owner:
    if p.role is Role.REGION:
        return Owner(p.region)
    if p.role is Role.MUNICIPALITY:
        return Owner(p.region, p.municipality)
    return Owner(p.region, p.municipality, p.school)


def owner_query(p: Principal) -> dict[str, Any]:
    """Subscriptions a principal may see: those whose owner lies inside its tenant."""
    q: dict[str, Any] = {"owner.region": p.region}
    if p.role is Role.MUNICIPALITY:
        q["owner.municipality"] = p.municipality
    elif p.role is Role.SCHOOL:
        q["owner.school"] = p.school
    return q


def _visible(p: Principal, sub: dict[str, Any]) -> bool:
    o = sub["owner"]
    if o["region"] != p.region:
        return False
    if p.role is Role.MUNICIPALITY:
        return o.get("municipality") == p.municipality
    if p.role is Role.SCHOOL:
        return o.get("school") == p.school
    return True


def _invalid(detail: str, field: str) -> Problem:
    return Problem(
        422,
        "Subscription is not valid",
        detail,
        type="validation",
        errors=[{"location": field, "reason": detail}],
    )


async def validate_filters(p: Principal, filters: Filters, names: OrgNames) -> None:
    known = set(domain_event_types())
    for i, t in enumerate(filters.event_types):
        if not (t in known or (t.endswith("*") and any(k.startswith(t[:-1]) for k in known))):
            raise _invalid(f"unknown event type {t!r}", f"body.filters.event_types.{i}")
    directions = {d.value for d in Direction}
    for i, d in enumerate(filters.directions):
        if d not in directions:
            raise _invalid(f"unknown direction {d!r}", f"body.filters.directions.{i}")
    # A municipality subscribes to its own schools only; a school to itself.
    owner = owner_of_principal(p)
    if owner.municipality:
        for mun in filters.municipalities:
            if mun != owner.municipality:
                raise Problem(
                    403,
                    "Forbidden",
                    f"a {p.role.value} token for {owner.school or owner.municipality} "
                    f"cannot subscribe to municipality {mun}",
                    type="forbidden",
                )
        await names.load(set(filters.schools))
        for s in filters.schools:
            known_in = names.municipality_of(s)
            outside = (owner.school is not None and s != owner.school) or (
                known_in is not None and known_in != owner.municipality
            )
            if outside:
                raise Problem(
                    403,
                    "Forbidden",
                    f"school {s} is not in {owner.school or owner.municipality}",
                    type="forbidden",
                )


async def check_target(guard: TargetGuard, url: str) -> None:
    try:
        await guard.check(url)
    except TargetRefused as exc:
        raise Problem(
            422,
            "Webhook target refused",
            str(exc),
            type="webhook-target-refused",
            errors=[{"location": "body.url", "reason": str(exc)}],
        ) from exc


async def create(
    store: Store,
    guard: TargetGuard,
    names: OrgNames,
    p: Principal,
    *,
    url: str,
    filters: Filters,
    secret: str | None,
    description: str | None,
) -> dict[str, Any]:
    await check_target(guard, url)
    await validate_filters(p, filters, names)
    if secret is not None and (why := check_secret(secret)):
        raise _invalid(why, "body.secret")
    owner = owner_of_principal(p)
    at = now_utc()
    doc = {
        "_id": "sub_" + secrets.token_hex(12),
        "owner": {
            "region": owner.region,
            "municipality": owner.municipality,
            "school": owner.school,
        },
        "created_by": p.subject,
        "url": url,
        "description": description,
        "filters": filters.as_dict(),
        "secret": secret or new_secret(),
        "status": SubscriptionStatus.ACTIVE.value,
        "version": 1,
        "failing_since": None,
        "last_error": None,
        "disabled_at": None,
        "disabled_reason": None,
        "op_event": None,
        "created_at": at,
        "updated_at": at,
    }
    await store.insert_subscription(doc)
    return doc


async def get(store: Store, p: Principal, sub_id: str) -> dict[str, Any]:
    sub = await store.get_subscription(sub_id)
    if sub is None or not _visible(p, sub):  # another tenant's subscription does not exist
        raise Problem(404, "Not Found", f"no subscription {sub_id}", type="not-found")
    return sub


async def update(
    store: Store,
    guard: TargetGuard,
    names: OrgNames,
    p: Principal,
    sub_id: str,
    *,
    url: str | None,
    filters: Filters | None,
    description: str | None,
    enabled: bool | None,
) -> dict[str, Any]:
    sub = await get(store, p, sub_id)
    changes: dict[str, Any] = {}
    if url is not None:
        await check_target(guard, url)
        changes["url"] = url
    if filters is not None:
        await validate_filters(p, filters, names)
        changes["filters"] = filters.as_dict()
    if description is not None:
        changes["description"] = description
    if changes:
        sub = await store.update_subscription(sub_id, changes) or sub
    at = now_utc()
    if enabled is True and sub["status"] == SubscriptionStatus.DISABLED.value:
        sub = await store.enable(sub_id, at) or sub
    elif enabled is False and sub["status"] == SubscriptionStatus.ACTIVE.value:
        sub = await store.disable(sub_id, at, f"disabled by {p.subject}") or sub
    return sub


async def delete(store: Store, p: Principal, sub_id: str) -> None:
    await get(store, p, sub_id)
    await store.delete_subscription(sub_id)


async def rotate_secret(
    store: Store,
    p: Principal,
    sub_id: str,
    *,
    secret: str | None,
    overlap: dt.timedelta,
) -> dict[str, Any]:
    """Ротация секрета: a new secret signs from now on; the one it replaces keeps signing
    beside it until ``overlap`` has passed, so receivers can switch without losing one."""
    sub = await get(store, p, sub_id)
    if secret is not None and (why := check_secret(secret)):
        raise _invalid(why, "body.secret")
    new = secret or new_secret()
    if new == sub["secret"]:
        raise _invalid("the new secret must differ from the current one", "body.secret")
    at = now_utc()
    previous = [
        *still_valid(sub.get("previous_secrets") or [], at),
        {"secret": sub["secret"], "expires_at": at + overlap, "rotated_at": at},
    ]
    updated = await store.update_subscription(
        sub_id, {"secret": new, "previous_secrets": previous[-5:]}
    )
    if updated is None:
        raise Problem(404, "Not Found", f"no subscription {sub_id}", type="not-found")
    return updated


async def deliveries(
    store: Store,
    p: Principal,
    sub_id: str,
    *,
    status: str | None,
    limit: int,
    before: dt.datetime | None,
) -> list[dict[str, Any]]:
    await get(store, p, sub_id)
    return await store.list_deliveries(sub_id, status, limit, before)


async def redeliver(store: Store, p: Principal, sub_id: str, delivery_id: str) -> dict[str, Any]:
    sub = await get(store, p, sub_id)
    if sub["status"] != SubscriptionStatus.ACTIVE.value:
        raise Problem(
            409,
            "Endpoint disabled",
            "enable the subscription first (PATCH enabled=true)",
            type="endpoint-disabled",
        )
    if await store.get_delivery(sub_id, delivery_id) is None:
        raise Problem(404, "Not Found", f"no delivery {delivery_id}", type="not-found")
    doc = await store.redeliver(delivery_id, now_utc())
    assert doc is not None
    return doc
