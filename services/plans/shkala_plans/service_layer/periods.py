"""Use cases of monitoring periods: submit, return, approve, lock, reopen, and the questions
others ask (which periods are locked, which are approved).

Every step checks the tenant of the period it names against the caller: a school submits
only its own period, a municipality approves or returns only its schools', the region locks
and reopens within its own region.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shkala_contracts import Tenant
from shkala_plans.adapters.event_store import ConcurrencyError
from shkala_plans.domain.model import NotFound
from shkala_plans.domain.periods import (
    STEPS,
    WHO_RU,
    Actor,
    MonitoringPeriod,
    NotAllowed,
    period_id,
)
from shkala_plans.service_layer.services import Deps, execute, load
from shkala_runtime.auth import Principal


def actor_of(who: Principal) -> Actor:
    role = who.duty.value if who.duty else who.role.value
    return Actor(role, who.school or who.municipality or who.region)


def _require(who: Principal, period: MonitoringPeriod) -> None:
    tenant = Tenant(
        region=period.region or "", municipality=period.municipality, school=period.school
    )
    if not who.can_access(tenant):
        raise NotAllowed(
            f"{period.id} belongs to school {period.school} of {period.municipality}:"
            f" outside the caller's tenant"
        )


async def get_period(deps: Deps, who: Principal, school: str, period: str) -> MonitoringPeriod:
    agg = await load(deps, MonitoringPeriod, period_id(school, period))
    if agg.version == 0:
        raise NotFound(f"school {school} has not submitted period {period} yet (it is open)")
    _require(who, agg)
    return agg


async def submit(
    deps: Deps,
    who: Principal,
    *,
    school: str,
    period: str,
    note: str | None = None,
    expected_version: int | None = None,
) -> MonitoringPeriod:
    if who.school != school or not who.municipality:
        raise NotAllowed(
            f"a school submits only its own period; this token is a {actor_of(who).role}"
            f" token for {who.school or who.municipality or who.region}"
        )
    agg, _ = await execute(
        deps,
        MonitoringPeriod,
        period_id(school, period),
        lambda p: p.decide_submit(
            actor_of(who),
            region=who.region,
            municipality=who.municipality or "",
            school=school,
            period=period,
            note=note,
        ),
        expected_version,
        must_exist=False,
    )
    return agg


async def _step(
    deps: Deps,
    who: Principal,
    step: str,
    school: str,
    period: str,
    expected_version: int | None,
    **kw: Any,
) -> MonitoringPeriod:
    actor = actor_of(who)
    current = await get_period(deps, who, school, period)  # tenant first: 403 before 422
    if actor.role != STEPS[step]:
        raise NotAllowed(
            f"only the {STEPS[step]} ({WHO_RU[STEPS[step]]}) may {step} period {period} of"
            f" school {school}; this is a {actor.role} token"
        )
    decide = getattr(MonitoringPeriod, f"decide_{step}")
    agg, _ = await execute(
        deps,
        MonitoringPeriod,
        current.id,
        lambda p: decide(p, actor, **kw),
        expected_version,
    )
    return agg


async def return_period(
    deps: Deps,
    who: Principal,
    *,
    school: str,
    period: str,
    reason: str,
    expected_version: int | None = None,
) -> MonitoringPeriod:
    return await _step(deps, who, "return", school, period, expected_version, reason=reason)


async def approve(
    deps: Deps,
    who: Principal,
    *,
    school: str,
    period: str,
    note: str | None = None,
    expected_version: int | None = None,
) -> MonitoringPeriod:
    return await _step(deps, who, "approve", school, period, expected_version, note=note)


async def lock(
    deps: Deps, who: Principal, *, school: str, period: str, expected_version: int | None = None
) -> MonitoringPeriod:
    return await _step(deps, who, "lock", school, period, expected_version)


async def reopen(
    deps: Deps,
    who: Principal,
    *,
    school: str,
    period: str,
    reason: str,
    expected_version: int | None = None,
) -> MonitoringPeriod:
    return await _step(deps, who, "reopen", school, period, expected_version, reason=reason)


@dataclass
class MunicipalLock:
    locked: list[str]
    already_locked: list[str]
    not_ready: dict[str, str]  # school → state


async def lock_municipality(
    deps: Deps, who: Principal, *, municipality: str, period: str
) -> MunicipalLock:
    """The region closes a municipality's period: every approved school period is locked;
    the ones not approved yet are named and stay as they are."""
    if actor_of(who).role != "region":
        raise NotAllowed("only the region (региональный оператор) locks monitoring periods")
    if not who.can_access(Tenant(region=who.region, municipality=municipality)):
        raise NotAllowed(f"municipality {municipality} is outside region {who.region}")
    out = MunicipalLock([], [], {})
    docs = await deps.store.index_find(
        {"kind": MonitoringPeriod.kind, "region": who.region, "municipality": municipality}
    )
    for doc in sorted(docs, key=lambda d: d.get("school") or ""):
        if doc.get("period") != period:
            continue
        school = doc["school"]
        if doc.get("state") == "locked":
            out.already_locked.append(school)
            continue
        if doc.get("state") != "approved":
            out.not_ready[school] = doc.get("state", "open")
            continue
        for _attempt in range(3):
            try:
                await lock(deps, who, school=school, period=period)
                out.locked.append(school)
                break
            except ConcurrencyError:
                continue
    return out


async def list_periods(
    deps: Deps,
    who: Principal,
    *,
    municipality: str | None = None,
    school: str | None = None,
    period: str | None = None,
) -> list[dict[str, Any]]:
    """Periods inside the caller's tenant, narrowed by the filters (a filter outside the
    tenant is refused, never allowed to widen it)."""
    query: dict[str, Any] = {"kind": MonitoringPeriod.kind, "region": who.region}
    if who.role.value == "municipality":
        query["municipality"] = who.municipality
    elif who.role.value == "school":
        query["school"] = who.school
    for name, value in (("municipality", municipality), ("school", school)):
        if value and query.get(name, value) != value:
            raise NotAllowed(f"a {who.role.value} token cannot list periods of {name} {value}")
        if value:
            query[name] = value
    docs = await deps.store.index_find(query)
    return sorted(
        (
            {
                "id": d["_id"],
                "school_id": d.get("school"),
                "municipality_id": d.get("municipality"),
                "period": d.get("period"),
                "state": d.get("state"),
                "approved": bool(d.get("approved")),
                "version": d.get("version"),
            }
            for d in docs
            if period is None or d.get("period") == period
        ),
        key=lambda x: (x["period"] or "", x["school_id"] or ""),
    )


async def locked_among(
    deps: Deps, who: Principal, pairs: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Which of these (school, period) pairs are locked — what ingest asks before an upload."""
    if actor_of(who).role != "region":
        raise NotAllowed("the lock state is asked with a region (service) token")
    wanted = set(pairs)
    # one read of the locked periods (FerretDB scans per query: never one lookup per pair)
    docs = await deps.store.index_find(
        {"kind": MonitoringPeriod.kind, "region": who.region, "state": "locked"}
    )
    return sorted(
        (
            {
                "school_id": d["school"],
                "municipality_id": d.get("municipality"),
                "period": d["period"],
                "period_id": d["_id"],
                "locked_by": d.get("locked_by") or who.region,
                "reopen_by": "region",
            }
            for d in docs
            if (d.get("school"), d.get("period")) in wanted
        ),
        key=lambda x: (x["school_id"], x["period"]),
    )
