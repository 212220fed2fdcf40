"""Base for events a Shkala service decides (derived and plans events)."""

from __future__ import annotations

from pydantic import Field

from shkala_contracts.base import Event
from shkala_contracts.vocabulary import OrgId


class DomainEvent(Event):
    """An event a service decided. Like every event it names its originator and version:
    the aggregate or projection stream it belongs to and its position in that stream."""

    originator_id: str = Field(min_length=1, max_length=200)
    originator_version: int = Field(ge=1)
    region_id: OrgId
    municipality_id: OrgId | None = None
    school_id: OrgId | None = None

    def partition_key(self) -> str:
        return self.school_id or self.municipality_id or self.region_id
