"""Use case: seed 002's support indicator of recommendations for a period, within the
caller's tenant (a municipality its schools, the region all; a school only itself)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, Protocol

from shkala_contracts import Tenant
from shkala_contracts.events.indicators import MembershipChange
from shkala_plans.domain.model import Recommendation
from shkala_plans.domain.support import RECOMMENDED_SHARE, SUPPORT_LISTS, recommended_share
from shkala_plans.service_layer import tenancy
from shkala_plans.service_layer.services import Deps
from shkala_runtime.auth import Principal, authorize


class ListRecords(Protocol):
    async def lists_for(
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
    listed = {
        s
        for s, (r, m) in placed.items()
        if who.can_access(Tenant(region=r, municipality=m, school=s))
        and (municipality is None or m == municipality)
    }
    recs = await deps.store.index_find(tenancy.scoped_query(who, Recommendation.kind))
    recommended = {x["school"] for x in recs if x.get("period") == period and x.get("school")}
    share = recommended_share(listed, recommended)
    return {
        "period": period,
        "municipality_id": municipality,
        "indicators": [
            {"id": RECOMMENDED_SHARE["id"], "definition": RECOMMENDED_SHARE, **asdict(share)}
        ],
    }


__all__ = ["support_indicators"]
