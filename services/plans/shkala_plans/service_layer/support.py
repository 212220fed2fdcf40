"""Use case: seed 002's support indicators plans can count for a period — ШНОР/ШНСУ schools
given a recommendation, staff-shortage measures and the understaffed schools they reach —
within the caller's tenant (a municipality its schools, the region all; a school only itself)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, Protocol

from shkala_contracts import Tenant
from shkala_contracts.events.indicators import MembershipChange
from shkala_plans.domain.model import Measure, Recommendation
from shkala_plans.domain.support import (
    RECOMMENDED_SHARE,
    STAFF_MEASURES_SHARE,
    SUPPORT_LISTS,
    Share,
    recommended_share,
    staff_measures_share,
)
from shkala_plans.service_layer import tenancy
from shkala_plans.service_layer.services import Deps
from shkala_runtime.auth import Principal, authorize


class ListRecords(Protocol):
    async def lists_for(
        self, period: str, schools: Iterable[str] | None = None
    ) -> list[dict[str, Any]]: ...


class CitedValues(Protocol):
    async def cited_for(
        self, period: str, schools: Iterable[str] | None = None
    ) -> list[dict[str, Any]]: ...


async def support_indicators(
    deps: Deps, who: Principal, period: str, municipality: str | None = None
) -> dict[str, Any]:
    if municipality is not None:
        authorize(
            who, [Tenant(region=who.region, municipality=municipality)], action="see the figures of"
        )
    records: ListRecords = deps.values  # type: ignore[assignment]
    latest: dict[tuple[str, str], str] = {}
    for d in await records.lists_for(period):  # the newest record of each school and list
        latest[(d["school"], d["list"])] = d["change"]
    on_list = {
        s for (s, li), c in latest.items() if li in SUPPORT_LISTS and c == MembershipChange.ENTERED
    }
    placed = await deps.orgs.schools(sorted(on_list))
    listed = {s for s, (r, m) in placed.items() if _in_reach(who, r, m, s, municipality)}
    recs = await deps.store.index_find(tenancy.scoped_query(who, Recommendation.kind))
    recommended = {x["school"] for x in recs if x.get("period") == period and x.get("school")}
    share = recommended_share(listed, recommended)
    staff, staffing = await _staff_measures(deps, who, period, municipality)
    return {
        "period": period,
        "municipality_id": municipality,
        "indicators": [
            {"id": RECOMMENDED_SHARE["id"], "definition": RECOMMENDED_SHARE, **asdict(share)},
            {
                "id": STAFF_MEASURES_SHARE["id"],
                "definition": STAFF_MEASURES_SHARE,
                **asdict(staff),
                "measures": staffing,
            },
        ],
    }


async def _staff_measures(
    deps: Deps, who: Principal, period: str, municipality: str | None
) -> tuple[Share, list[dict[str, Any]]]:
    """The understaffed schools in reach and the staffing measures of the period."""
    values: CitedValues = deps.values  # type: ignore[assignment]
    flagged = {
        d["school"]
        for d in await values.cited_for(period)
        if d.get("indicator") == "understaffed" and (d.get("value") or 0) >= 1
    }
    placed = await deps.orgs.schools(sorted(flagged))
    understaffed = {s for s, (r, m) in placed.items() if _in_reach(who, r, m, s, municipality)}
    query = tenancy.scoped_query(who, Measure.kind, municipality=municipality)
    found = [
        {"id": x["_id"], **x}
        for x in await deps.store.index_find(query)
        if x.get("baseline_period") == period
    ]
    return staff_measures_share(understaffed, found)


def _in_reach(who: Principal, region: str, mun: str, school: str, only: str | None) -> bool:
    return who.can_access(Tenant(region=region, municipality=mun, school=school)) and (
        only is None or mun == only
    )


__all__ = ["support_indicators"]
