"""Who may change the org-unit registry (реестр ОО), and what a change means.

The registry is region → municipality → school. Rules (issue 14):

- a municipality registers and changes only schools of its own municipality, and only schools
  the registry does not already place in another municipality (no re-parenting);
- only the region registers or renames the region and municipalities; a municipality's file
  may repeat their registered names (the format has the columns), never change them;
- moving a school to another municipality is the region's alone and is an event of its own
  (``SchoolMoved``), published before the ``SchoolRegistered`` that carries the new parent;
- a school token loads no registry at all.

Pure: the registry as it stands comes in, the verdicts go out. The tenant decision itself is
``shkala_runtime.auth.refusal``, the one place every service asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shkala_contracts import Tenant
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolMoved,
    SchoolRegistered,
)
from shkala_runtime.auth import Principal, Role, refusal

REGION_ONLY = (Role.REGION,)


@dataclass(frozen=True)
class Registry:
    """The registry as loaded: names of regions and municipalities, schools' parents."""

    regions: Mapping[str, str] = field(default_factory=dict)  # region id -> name
    municipalities: Mapping[str, tuple[str, str]] = field(
        default_factory=dict
    )  # id -> (region, name)
    schools: Mapping[str, tuple[str, str]] = field(
        default_factory=dict
    )  # id -> (region, municipality)

    @classmethod
    def from_documents(cls, docs: Iterable[Mapping[str, Any]]) -> Registry:
        regions: dict[str, str] = {}
        municipalities: dict[str, tuple[str, str]] = {}
        schools: dict[str, tuple[str, str]] = {}
        for d in docs:
            unit = d.get("unit")
            if unit == "region":
                regions[d["region_id"]] = d["name"]
            elif unit == "municipality":
                municipalities[d["municipality_id"]] = (d["region_id"], d["name"])
            elif unit == "school":
                schools[d["school_id"]] = (d["region_id"], d["municipality_id"])
        return cls(regions, municipalities, schools)


@dataclass(frozen=True)
class Refusal:
    """One refused unit: the event that names it and why (always a 403: a tenant rule)."""

    event: RegionRegistered | MunicipalityRegistered | SchoolRegistered
    reason: str


def judge_school(
    principal: Principal, registry: Registry, fact: SchoolRegistered
) -> tuple[Refusal | None, SchoolMoved | None]:
    """A school row: refused, or allowed (with the move it implies, if any)."""
    new = Tenant(region=fact.region_id, municipality=fact.municipality_id, school=fact.school_id)
    why = refusal(principal, [new], action="register or change")
    if why:
        return Refusal(fact, why), None
    known = registry.schools.get(fact.school_id)
    if known is None:
        return None, None
    old = Tenant(region=known[0], municipality=known[1], school=fact.school_id)
    why = refusal(principal, [old], action="change")
    if why:
        return Refusal(fact, f"{why} (the registry has it in municipality {known[1]})"), None
    if known[1] == fact.municipality_id:
        return None, None
    why = refusal(principal, [old, new], roles=REGION_ONLY, action="move a school")
    if why:
        return Refusal(
            fact, f"{why} (from municipality {known[1]} to {fact.municipality_id})"
        ), None
    moved = SchoolMoved(
        region_id=fact.region_id,
        school_id=fact.school_id,
        from_municipality_id=known[1],
        to_municipality_id=fact.municipality_id,
    )
    return None, moved


def judge_parent(
    principal: Principal, registry: Registry, event: RegionRegistered | MunicipalityRegistered
) -> Refusal | None:
    """A region or municipality named by the rows: anyone in the tenant may repeat what the
    registry holds; registering or renaming it is the region's."""
    if isinstance(event, RegionRegistered):
        unit = Tenant(region=event.region_id)
        same = registry.regions.get(event.region_id) == event.name
        what = "region"
    else:
        unit = Tenant(region=event.region_id, municipality=event.municipality_id)
        same = registry.municipalities.get(event.municipality_id) == (event.region_id, event.name)
        what = "municipality"
    # every file of the region repeats the region's name: naming it is in every tenant of it
    # (the caller's own scope stands for it); a municipality's name only in its own tenant
    named = unit
    if what == "region" and event.region_id == principal.region:
        named = Tenant(region=principal.region, municipality=principal.municipality)
    if why := refusal(principal, [named], action="name"):
        return Refusal(event, why)
    if same:
        return None
    known = (
        registry.regions.get(event.region_id)
        if isinstance(event, RegionRegistered)
        else (registry.municipalities.get(event.municipality_id) or (None, None))[1]
    )
    action = f"rename the {what} ({known!r} → {event.name!r})" if known else f"register a {what}"
    if why := refusal(principal, [unit], roles=REGION_ONLY, action=action):
        return Refusal(event, why)
    return None
