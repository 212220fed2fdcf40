"""Org-unit names for the texts, from the registry topic (``shkala.org_units.v1``)."""

from __future__ import annotations

from collections.abc import Sequence

from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_notify.adapters.store import Store
from shkala_runtime.consuming import Delivered

ORG_UNIT_TYPES = (RegionRegistered, MunicipalityRegistered, SchoolRegistered)


class OrgNames:
    """Name by id, cached; the id itself when the unit is not (yet) known."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, dict[str, str | None]] = {}

    async def remember(self, batch: Sequence[Delivered], *, store: bool = True) -> None:
        """Learn names from org-unit events; ``store=False`` keeps them in memory only (the
        live stream reads the same events the fan-out already stores)."""
        units: list[dict[str, str | None]] = []
        for d in batch:
            e = d.event
            unit: dict[str, str | None]
            if isinstance(e, SchoolRegistered):
                unit_id = e.school_id
                unit = {"_id": unit_id, "name": e.name, "municipality": e.municipality_id}
            elif isinstance(e, MunicipalityRegistered):
                unit_id = e.municipality_id
                unit = {"_id": unit_id, "name": e.name, "region": e.region_id}
            elif isinstance(e, RegionRegistered):
                unit_id = e.region_id
                unit = {"_id": unit_id, "name": e.name}
            else:
                continue
            units.append(unit)
            self._cache[unit_id] = unit
        if store:
            await self._store.put_org_units(units)

    async def load(self, ids: set[str]) -> None:
        for unit_id in ids - self._cache.keys():
            doc = await self._store.org_unit(unit_id)
            if doc is not None:
                self._cache[unit_id] = doc

    def name(self, unit_id: str) -> str:
        unit = self._cache.get(unit_id)
        return str(unit["name"]) if unit and unit.get("name") else unit_id

    def municipality_of(self, school_id: str) -> str | None:
        unit = self._cache.get(school_id)
        return unit.get("municipality") if unit else None
