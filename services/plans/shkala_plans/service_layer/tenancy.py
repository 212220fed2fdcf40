"""Every plans write checks the tenant of every unit it names (issue 14).

A roadmap, row, recommendation or measure may name only schools inside the caller's tenant,
its ``municipality_id`` must be the caller's own (the region's: any of its municipalities),
and a school writes only its own school roadmap. Which municipality a school belongs to comes
from the registry (``shkala.org_units.v1``, kept by ``adapters/org_units.py``), never from
the request. The decision itself is ``shkala_runtime.auth.authorize``, the one place every
service asks "may this principal act on these units".

Refusals: 403 (``Forbidden``) when the caller may not act on a unit; 422 (``UnknownUnit``,
``DomainError``) when a unit is not registered or does not belong where the request puts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from shkala_contracts import Tenant
from shkala_contracts.events.org_units import MunicipalityRegistered, SchoolRegistered
from shkala_plans.domain.model import Aggregate, DomainError
from shkala_plans.domain.periods import NotAllowed
from shkala_runtime.auth import Principal, Role, authorize


class OrgRegistry(Protocol):
    async def record(
        self, events: Sequence[tuple[SchoolRegistered | MunicipalityRegistered, int]]
    ) -> None: ...

    async def schools(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]: ...

    async def municipalities(self, ids: Iterable[str]) -> dict[str, str]: ...

    async def schools_of(self, municipality: str) -> list[str]: ...


class UnknownUnit(DomainError):
    """A unit the registry does not hold (not registered, or not yet seen by plans)."""


def owner_of(agg: Aggregate) -> Tenant:
    return Tenant(region=agg.region or "", municipality=agg.municipality, school=agg.school)


async def school_units(orgs: OrgRegistry, schools: Iterable[str]) -> list[Tenant]:
    """The schools as the registry places them; UnknownUnit for any it does not hold."""
    wanted = list(dict.fromkeys(schools))
    known = await orgs.schools(wanted)
    missing = [s for s in wanted if s not in known]
    if missing:
        raise UnknownUnit(
            f"school(s) {', '.join(missing)} not in the org-unit registry: register them with "
            "ingest's org-units format first"
        )
    return [Tenant(region=known[s][0], municipality=known[s][1], school=s) for s in wanted]


def _belongs(owner: Tenant, unit: Tenant) -> bool:
    if unit.region != owner.region:
        return False
    if owner.school is not None:
        return unit.school == owner.school
    return unit.municipality == owner.municipality


def require_within(owner: Tenant, units: Sequence[Tenant], what: str) -> None:
    """Named schools must belong to the plan that names them (a municipality's roadmap names
    its own schools; a school's roadmap only that school)."""
    for u in units:
        if not _belongs(owner, u):
            where = (
                f"school {owner.school}" if owner.school else f"municipality {owner.municipality}"
            )
            raise DomainError(
                f"school {u.school} belongs to municipality {u.municipality}, outside the "
                f"{what} of {where}"
            )


async def authorize_schools(
    orgs: OrgRegistry, who: Principal, schools: Iterable[str], *, owner: Tenant, what: str
) -> list[Tenant]:
    """The caller may act on every school named, and each belongs to ``owner``."""
    units = await school_units(orgs, schools)
    authorize(who, units, action="name")
    require_within(owner, units, what)
    return units


async def authorize_new_plan(
    orgs: OrgRegistry,
    who: Principal,
    *,
    region: str,
    municipality: str,
    school: str | None = None,
    schools: Iterable[str] = (),
    roles: Sequence[Role] | None = None,
    what: str,
) -> Tenant:
    """Who may create a plan object for ``municipality`` (and ``school``) naming ``schools``:
    returns the new object's tenant."""
    mun = Tenant(region=region, municipality=municipality)
    authorize(who, [mun] if school is None else [], roles=roles, action=f"create {what} for")
    if school is None:  # a school token is refused above: it writes its own school's only
        if municipality not in await orgs.municipalities([municipality]):
            raise UnknownUnit(
                f"municipality {municipality} not in the org-unit registry: the region "
                "registers it with ingest's org-units format"
            )
        owner = mun
    else:
        (unit,) = await school_units(orgs, [school])
        authorize(who, [unit], action=f"create {what} for")
        if unit.municipality != municipality:
            raise DomainError(
                f"school {school} belongs to municipality {unit.municipality}, not {municipality}"
            )
        owner = unit
    await authorize_schools(orgs, who, schools, owner=owner, what=what)
    return owner


async def authorize_reach(orgs: OrgRegistry, who: Principal, schools: Iterable[str]) -> None:
    """Reading or evaluating what an existing plan object says about its schools: the caller
    must reach every one of them (a measure taken before these checks may name a foreign
    school; its values are not the caller's to see). A school the registry does not hold is
    beyond reach for all but the region."""
    wanted = list(dict.fromkeys(schools))
    check_reach(who, wanted, await orgs.schools(wanted))


def check_reach(who: Principal, schools: Iterable[str], known: dict[str, tuple[str, str]]) -> None:
    """``authorize_reach`` with the registry's answer in hand (``known``: school → (region,
    municipality), from one lookup for the schools of many objects)."""
    wanted = list(dict.fromkeys(schools))
    units = [
        Tenant(region=known[s][0], municipality=known[s][1], school=s) for s in wanted if s in known
    ]
    authorize(who, units, action="see the values of")
    unknown = [s for s in wanted if s not in known]
    if unknown and who.role is not Role.REGION:
        authorize(
            who,
            [Tenant(region=who.region, school=s) for s in unknown],
            roles=[Role.REGION],
            action=f"see the values of unregistered school(s) {', '.join(unknown)}",
        )


def scoped_query(who: Principal, kind: str, **asked: str | None) -> dict[str, Any]:
    """An index query within the caller's tenant, narrowed by the filters asked for; a filter
    outside the tenant is refused (NotAllowed, 403) rather than allowed to widen it."""
    query: dict[str, Any] = {"kind": kind, "region": who.region}
    if who.role is Role.MUNICIPALITY:
        query["municipality"] = who.municipality
    elif who.role is Role.SCHOOL:
        query["school"] = who.school
    for field, value in asked.items():
        if not value:
            continue
        if query.get(field, value) != value:
            raise NotAllowed(f"a {who.role.value} token cannot list {field} {value}")
        query[field] = value
    return query
