"""The org-unit registry as plans knows it: read from ``shkala.org_units.v1``, the registry's
record (ingest publishes it only after validating who may change what).

``plan_org_units``: one document per school (``school:<id>``: region, municipality) and per
municipality (``municipality:<id>``: region), each with the originator version it reflects,
so a redelivered or replayed event changes nothing. A ``SchoolMoved`` needs no handling of its
own: the ``SchoolRegistered`` published right after it carries the new municipality.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from shkala_contracts.events.org_units import MunicipalityRegistered, SchoolRegistered
from shkala_plans.adapters.indicator_values import _keep_newest
from shkala_runtime.mongo import find_each

ORG_UNITS = "plan_org_units"
FEW = 8
"""Up to this many ids are looked up one by one (each an indexed equality), more in one scan."""


class OrgUnits:
    def __init__(self, db: AsyncDatabase) -> None:
        self.units = db[ORG_UNITS]

    async def record(
        self, events: Sequence[tuple[SchoolRegistered | MunicipalityRegistered, int]]
    ) -> None:
        """``(event, originator_version)`` pairs, in log order."""
        docs: dict[str, dict[str, Any]] = {}
        for e, version in events:
            if isinstance(e, SchoolRegistered):
                key = f"school:{e.school_id}"
                doc = {"region": e.region_id, "municipality": e.municipality_id}
                # a school's municipality is known even before (or without) its own event;
                # version 0 never overrides a MunicipalityRegistered
                docs.setdefault(
                    f"municipality:{e.municipality_id}", {"region": e.region_id, "version": 0}
                )
            else:
                key = f"municipality:{e.municipality_id}"
                doc = {"region": e.region_id}
            if key not in docs or docs[key]["version"] <= version:
                docs[key] = {**doc, "version": version}
        await _keep_newest(self.units, docs)

    async def schools(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """``school id -> (region, municipality)`` of those registered."""
        keys = [f"school:{i}" for i in ids]
        return {
            d["_id"].split(":", 1)[1]: (d["region"], d["municipality"])
            for d in await self._find(keys)
        }

    async def municipalities(self, ids: Iterable[str]) -> dict[str, str]:
        """``municipality id -> region`` of those registered."""
        keys = [f"municipality:{i}" for i in ids]
        return {d["_id"].split(":", 1)[1]: d["region"] for d in await self._find(keys)}

    async def schools_of(self, municipality: str) -> list[str]:
        """The registered schools of a municipality: one equality query on ``municipality``
        (only school documents carry it), never an ``$in``."""
        found = self.units.find({"municipality": municipality}, {"_id": 1})
        return sorted(
            [d["_id"].split(":", 1)[1] async for d in found if d["_id"].startswith("school:")]
        )

    async def _find(self, keys: list[str]) -> list[dict[str, Any]]:
        # a region's ~450 units: a few ids are one indexed equality each, more one scan
        return await find_each(self.units, "_id", keys, scan_over=FEW)
