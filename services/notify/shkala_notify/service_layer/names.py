"""Names for the texts: org units from the registry topic (``shkala.org_units.v1``), and the
titles of plans' rows, measures and recommendations from their first event on
``shkala.plans.v1`` (a later «мера … — реализуется» names the measure, not its id)."""

from __future__ import annotations

from collections.abc import Sequence

from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_contracts.events.plans import (
    MeasureTaken,
    RecommendationIssued,
    RoadmapRowAdded,
    RoadmapRowRevised,
)
from shkala_notify.adapters.store import Store
from shkala_notify.domain.texts import PLAN_KINDS
from shkala_runtime.consuming import Delivered

ORG_UNIT_TYPES = (RegionRegistered, MunicipalityRegistered, SchoolRegistered)
TITLE_TYPES = (MeasureTaken, RecommendationIssued, RoadmapRowAdded, RoadmapRowRevised)
NAMED_TYPES = ORG_UNIT_TYPES + TITLE_TYPES
"""The events notify learns names from."""


class OrgNames:
    """Name by id, cached; the id itself when the unit is not (yet) known."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, dict[str, str | None]] = {}

    async def remember(self, batch: Sequence[Delivered], *, store: bool = True) -> None:
        """Learn names from org-unit events; ``store=False`` keeps them in memory only (the
        live stream reads the same events the fan-out already stores)."""
        units: list[dict[str, str | None]] = []
        titles: list[dict[str, str | None]] = []
        for d in batch:
            e = d.event
            unit: dict[str, str | None]
            if title := _title_of(e):
                titles.append(title)
                self._cache[str(title["_id"])] = title
                continue
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
            await self._store.put_titles(titles)

    async def load(self, ids: set[str]) -> None:
        for unit_id in ids - self._cache.keys():
            doc = await (self._store.title if _is_plan_key(unit_id) else self._store.org_unit)(
                unit_id
            )
            if doc is not None:
                self._cache[unit_id] = doc

    def name(self, unit_id: str) -> str:
        unit = self._cache.get(unit_id)
        return str(unit["name"]) if unit and unit.get("name") else unit_id

    def municipality_of(self, school_id: str) -> str | None:
        unit = self._cache.get(school_id)
        return unit.get("municipality") if unit else None


def _title_of(e: object) -> dict[str, str | None] | None:
    """``{_id, name}`` of the plan object an event titles (None: it titles nothing)."""
    if isinstance(e, MeasureTaken):
        return {"_id": e.originator_id, "name": e.title}
    if isinstance(e, RecommendationIssued):
        return {"_id": e.originator_id, "name": e.text}
    if isinstance(e, RoadmapRowAdded | RoadmapRowRevised) and e.activity:
        return {"_id": f"{e.originator_id}|{e.row_id}", "name": e.activity}
    return None


def _is_plan_key(key: str) -> bool:
    return "|" in key or key.split(":", 1)[0] in PLAN_KINDS
