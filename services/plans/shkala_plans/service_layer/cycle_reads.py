"""What the cycle view (``cycle_view``) reads beyond the plans index: the indicators
catalogue's definitions, the ВПР task deficits of schools at risk, and the target values and
indicator links of recommendations and measures indexed before the index carried them.
Each reader says in Russian what it could not read instead of answering an empty success.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from shkala_plans.domain.cycle_steps import weakest_tasks
from shkala_plans.domain.model import Measure, Recommendation
from shkala_plans.domain.proposals import Definition
from shkala_plans.service_layer.proposals import VPR_REQUESTS_AT_ONCE, VprTasksUnavailable
from shkala_plans.service_layer.services import CatalogueUnavailable, Deps, load

log = logging.getLogger(__name__)

CATALOGUE_NOT_SET = (
    "Каталог показателей не подключён (SHKALA_INDICATORS_URL): названия, пороги и целевые"
    " значения показателей не показаны"
)
CATALOGUE_DOWN = (
    "Каталог показателей сервиса показателей не ответил: названия, пороги и целевые значения"
    " показателей не показаны; повторите запрос позже"
)


async def definitions(deps: Deps) -> tuple[dict[str, Definition], str | None]:
    """The catalogue's definitions, or none and the reason they are missing."""
    ask = getattr(deps.catalogue, "definitions", None)
    if ask is None:
        return {}, CATALOGUE_NOT_SET
    try:
        return await ask(), None
    except CatalogueUnavailable as exc:
        log.warning("cycle view without the catalogue: %s", exc)
        return {}, CATALOGUE_DOWN


async def deficits(deps: Deps, schools: dict[str, str]) -> list[dict[str, Any]]:
    """Per school (school → the period asked), its weakest ВПР tasks (``WEAKEST_TASKS``),
    how many more there are, and whether indicators could be asked at all."""
    vpr = deps.vpr_tasks
    asking = asyncio.Semaphore(VPR_REQUESTS_AT_ONCE)

    async def of(school: str, period: str) -> dict[str, Any]:
        out: dict[str, Any] = {"school_id": school, "period": period, "weakest": [], "more": 0}
        if vpr is None:
            return {
                **out,
                "status": "not_configured",
                "total": None,
                "note": f"ВПР по заданиям школы {school} не запрошены: сервис показателей не"
                " подключён (SHKALA_INDICATORS_URL)",
            }
        try:
            async with asking:
                found = await vpr.deficits(school, period)
        except VprTasksUnavailable as exc:
            log.warning("ВПР tasks of %s not read for the cycle view: %s", school, exc)
            return {
                **out,
                "status": "unavailable",
                "total": None,
                "note": f"ВПР по заданиям школы {school} за {period} не получены: сервис"
                " показателей не ответил; повторите запрос позже",
            }
        shown, more = weakest_tasks(found)
        return {
            **out,
            "status": "ok",
            "total": len(found),
            "weakest": shown,
            "more": more,
            "note": None
            if found
            else f"У школы {school} за {period} нет заданий ВПР ниже порога успешности"
            " (или результаты ВПР по заданиям не загружены)",
        }

    return list(await asyncio.gather(*(of(s, p) for s, p in sorted(schools.items()))))


MEMBERSHIP_READS_AT_ONCE = 6
"""List-membership lookups in flight at once: one equality query per school (FerretDB reads
the whole collection for ``$in``), a municipality's 30 schools in a few rounds."""


async def membership(deps: Deps, schools: list[str]) -> list[tuple[str, str, str, str]]:
    """The ШНОР/ШНСУ records (school, list, period, change) of the schools."""
    if not schools:
        return []
    n = -(-len(schools) // MEMBERSHIP_READS_AT_ONCE)  # schools per lookup
    parts = [schools[i : i + n] for i in range(0, len(schools), n)]
    found = await asyncio.gather(*(deps.values.membership_for(p) for p in parts))
    return [x for part in found for x in part]


async def with_targets(deps: Deps, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recommendation index documents with their value and target value (documents indexed
    before the index carried them are completed from their events)."""
    out = []
    for d in recs:
        if "target_value" not in d and d.get("indicator_id"):
            issued = (await load(deps, Recommendation, d["_id"])).issued
            if issued is not None:
                d = {
                    **d,
                    "target_value": issued.target_value,
                    "indicator_value": issued.indicator_value,
                }
        out.append(d)
    return out


async def with_links(deps: Deps, measures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Measure index documents with each linked indicator's better direction."""
    out = []
    for d in measures:
        if "indicators" not in d:
            taken = (await load(deps, Measure, d["_id"])).taken
            links = taken.indicators if taken else ()
            d = {
                **d,
                "indicators": [
                    {"indicator_id": i.indicator_id, "better": i.better.value} for i in links
                ],
            }
        out.append(d)
    return out
