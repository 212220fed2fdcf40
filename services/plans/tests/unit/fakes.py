"""In-memory fakes of the plans service's dependencies (unit tests of one use case)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shkala_contracts.events.org_units import MunicipalityRegistered, SchoolRegistered


class FakeOrgs:
    """The org-unit registry: municipality -> schools, all in one region."""

    def __init__(self, region: str, registry: dict[str, tuple[str, ...]]) -> None:
        self.region = region
        self.mun = set(registry)
        self.school = {s: m for m, schools in registry.items() for s in schools}

    async def record(
        self, events: Sequence[tuple[SchoolRegistered | MunicipalityRegistered, int]]
    ) -> None:
        for e, _ in events:
            self.mun.add(e.municipality_id)
            if isinstance(e, SchoolRegistered):
                self.school[e.school_id] = e.municipality_id

    async def schools(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        return {i: (self.region, self.school[i]) for i in ids if i in self.school}

    async def municipalities(self, ids: Iterable[str]) -> dict[str, str]:
        return {i: self.region for i in ids if i in self.mun}
