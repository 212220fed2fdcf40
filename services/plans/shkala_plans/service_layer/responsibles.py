"""Use cases of the roster (состав координаторов и ответственных исполнителей): who
coordinates and who executes each direction of a municipality, appointed by its head office
or the region; the ``person:`` responsibles a roadmap row names must be on it. What their duty
then allows is ``duties``.
"""

from __future__ import annotations

from collections.abc import Iterable

from shkala_contracts import Tenant
from shkala_contracts.events.cycle import Duty
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.roster import Roster
from shkala_plans.service_layer.services import Deps, execute, load
from shkala_plans.service_layer.tenancy import UnknownUnit, owner_of
from shkala_runtime.auth import Principal, Role, authorize

# --------------------------------------------------------------------------- roster


async def _municipality(deps: Deps, municipality: str) -> Tenant | None:
    """The municipality as the registry places it (its region), None if not registered."""
    region = (await deps.orgs.municipalities([municipality])).get(municipality)
    return None if region is None else Tenant(region=region, municipality=municipality)


async def roster_of(deps: Deps, who: Principal, municipality: str) -> Roster:
    roster = await load(deps, Roster, Roster.id_for(municipality))
    unit = owner_of(roster) if roster.version else await _municipality(deps, municipality)
    # an unregistered municipality without a roster: an empty one, nobody's to hide
    authorize(
        who,
        [unit or Tenant(region=who.region, municipality=municipality)],
        action="see the roster of",
    )
    return roster


async def _may_staff(deps: Deps, who: Principal, municipality: str) -> None:
    """The municipality's head office (no duty of its own) for itself, or the region of the
    municipality the registry names, staffs its directions."""
    if who.duty is not None:
        raise NotAllowed("coordinators and executors are appointed by the municipality")
    authorize(
        who,
        [],
        roles=[Role.MUNICIPALITY, Role.REGION],
        action="appoint coordinators and executors",
    )
    unit = await _municipality(deps, municipality)
    if unit is None:
        raise UnknownUnit(
            f"municipality {municipality} not in the org-unit registry: the region registers"
            " it with ingest's org-units format"
        )
    roster = await load(deps, Roster, Roster.id_for(municipality))
    units = [unit, owner_of(roster)] if roster.version else [unit]
    authorize(who, units, action="change the roster of")


async def assign(
    deps: Deps,
    who: Principal,
    *,
    municipality: str,
    person_id: str,
    duty: Duty,
    directions: Iterable[Direction],
    position: str | None = None,
) -> Roster:
    await _may_staff(deps, who, municipality)
    agg, _ = await execute(
        deps,
        Roster,
        Roster.id_for(municipality),
        lambda r: r.decide_assign(
            region=who.region,
            municipality=municipality,
            person_id=person_id,
            duty=duty,
            directions=directions,
            position=position,
        ),
        must_exist=False,
    )
    return agg


async def remove(deps: Deps, who: Principal, *, municipality: str, person_id: str) -> Roster:
    await _may_staff(deps, who, municipality)
    agg, _ = await execute(
        deps, Roster, Roster.id_for(municipality), lambda r: r.decide_remove(person_id)
    )
    return agg


async def check_named(deps: Deps, municipality: str, responsible: Iterable[str]) -> None:
    """A row's ``person:`` responsibles are on the municipality's roster."""
    refs = list(responsible)
    if any(r.startswith("person:") for r in refs):
        roster = await load(deps, Roster, Roster.id_for(municipality))
        roster.check_named(refs)
