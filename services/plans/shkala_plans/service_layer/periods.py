"""Use cases of monitoring periods: submit, return, approve, lock, reopen, and the questions
others ask (which periods are locked, which are approved).

Every step checks the tenant of the period it names against the caller through
``shkala_runtime.auth.authorize`` (the one decider), with the school placed where the org-unit
registry puts it, never where a token or an old event says: a school submits only its own
period, a municipality approves or returns only its schools', the region locks and reopens
within its own region. A refusal (403) appends nothing.
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
from shkala_plans.service_layer.tenancy import UnknownUnit, owner_of, school_units
from shkala_runtime.auth import Principal, Role, authorize


def actor_of(who: Principal) -> Actor:
    role = who.duty.value if who.duty else who.role.value
    return Actor(role, who.school or who.municipality or who.region)


async def _school_unit(deps: Deps, period: MonitoringPeriod) -> Tenant:
    """The period's school as the registry places it now (a school moved to another
    municipality is that municipality's to approve); the period's own record if the registry
    does not hold the school."""
    known = await deps.orgs.schools([period.school or ""])
    if period.school in known:
        region, municipality = known[period.school]
        return Tenant(region=region, municipality=municipality, school=period.school)
    return owner_of(period)


async def get_period(
    deps: Deps, who: Principal, school: str, period: str, *, action: str = "see"
) -> MonitoringPeriod:
    agg = await load(deps, MonitoringPeriod, period_id(school, period))
    if agg.version == 0:
        raise NotFound(f"school {school} has not submitted period {period} yet (it is open)")
    authorize(who, [await _school_unit(deps, agg)], action=f"{action} period {period} of")
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
    authorize(who, [], roles=[Role.SCHOOL], action="submit a monitoring period")
    if who.school != school:
        authorize(who, [Tenant(region=who.region, school=school)], action="submit the period of")
    (unit,) = await school_units(deps.orgs, [school])  # the registry says where it belongs
    authorize(who, [unit], action=f"submit period {period} of")
    agg, _ = await execute(
        deps,
        MonitoringPeriod,
        period_id(school, period),
        lambda p: p.decide_submit(
            actor_of(who),
            region=unit.region,
            municipality=unit.municipality or "",
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
    # tenant first: 403 before 422
    current = await get_period(deps, who, school, period, action=step)
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
    authorize(who, [], roles=[Role.REGION], action="lock monitoring periods")
    region = (await deps.orgs.municipalities([municipality])).get(municipality)
    if region is None:
        raise UnknownUnit(f"municipality {municipality} not in the org-unit registry")
    authorize(
        who,
        [Tenant(region=region, municipality=municipality)],
        action=f"lock period {period} of",
    )
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
    wanted = set(pairs)
    authorize(who, [], roles=[Role.REGION], action="ask the lock state of monitoring periods")
    known = await deps.orgs.schools({school for school, _ in wanted})
    # a school the registry places in another region is not this region's to ask about
    authorize(
        who,
        [Tenant(region=r, municipality=m, school=s) for s, (r, m) in known.items()],
        action="ask the lock state of",
    )
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
