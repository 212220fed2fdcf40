"""Who may change which org unit, asked at one point of an org-units import: the rules live
in ``domain/registry_rules.py`` and are judged against the registry as it stands."""

from __future__ import annotations

from typing import Any

from shkala_contracts import Tenant
from shkala_contracts.base import Fact
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_contracts.formats import UploadFormat
from shkala_ingest.domain.registry_rules import Registry, judge_parent, judge_school
from shkala_ingest.domain.rows import RowError
from shkala_ingest.service_layer.validation import Accepted
from shkala_runtime.auth import Principal


async def registry_rules(
    store: Any,
    principal: Principal,
    fmt: UploadFormat,
    batch: bool,
    accepted: list[Accepted],
    parents: dict[str, tuple[int, Fact, Tenant]],
) -> tuple[list[RowError], dict[str, Accepted]]:
    """Refused rows (403) and the moves the rows imply, by the row's stream."""
    registry = Registry.from_documents(await store.registry())
    by_field = {c.field: c.header for c in fmt.columns}

    def column(name: str) -> str:
        return name if batch else by_field.get(name, name)

    refused: list[RowError] = []
    moves: dict[str, Accepted] = {}
    for a in accepted:
        assert isinstance(a.fact, SchoolRegistered)
        no, moved = judge_school(principal, registry, a.fact)
        if no is not None:
            refused.append(
                RowError(
                    a.row,
                    column("municipality_id"),
                    a.fact.municipality_id,
                    no.reason,
                    "forbidden",
                )
            )
        elif moved is not None:
            moves[a.oid] = Accepted.of(a.row, moved, a.tenant)
    for row, parent, _ in parents.values():
        assert isinstance(parent, RegionRegistered | MunicipalityRegistered)
        no = judge_parent(principal, registry, parent)
        if no is not None:
            name = "region_name" if isinstance(parent, RegionRegistered) else "municipality_name"
            refused.append(RowError(row, column(name), parent.name, no.reason, "forbidden"))
    return refused, moves
