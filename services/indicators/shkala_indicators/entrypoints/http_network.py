"""HTTP routes for resource centres, network pairs and seed 002's support indicators
(``service_layer/read_network.py``). Tenant rule as every other read: a school sees its own
pairs and itself in its centre, a municipality its schools, the region everything."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from shkala_contracts import Tenant
from shkala_contracts.events.indicators import TOPIC as DERIVED_TOPIC
from shkala_contracts.events.org_units import TOPIC as ORG_TOPIC
from shkala_contracts.vocabulary import ACADEMIC_YEAR_RE
from shkala_indicators.domain import half_years
from shkala_indicators.domain.half_years import HalfYear
from shkala_indicators.entrypoints.http import (
    _municipality_schools,
    _read,
    _school_tenant,
    answer,
    parse_after,
    read_your_writes,
)
from shkala_indicators.service_layer.read import WAIT_MS_DEFAULT, WAIT_MS_MAX
from shkala_indicators.service_layer.read_half_years import HalfYearReads
from shkala_indicators.service_layer.read_network import (
    NetworkReads,
    UnknownIndicator,
    UnknownUnit,
)
from shkala_runtime.auth import CurrentPrincipal, Principal, Role
from shkala_runtime.params import OrgUnitFilter
from shkala_runtime.problems import Problem


async def org_topic_read(request: Request) -> None:
    """Read-your-writes for what these reads take from the org-unit topic itself (pairs,
    resource centres): past the projection's checkpoint (``read_your_writes``), also wait
    until this instance's read table has read the named org-topic positions."""
    raw = request.query_params.getlist("after")
    if not raw:
        return
    read = _read(request)
    org_topic = read.derived_topic.replace(DERIVED_TOPIC, ORG_TOPIC)
    wanted = [(t, p, o) for t, p, o in parse_after(raw) if t == org_topic]
    wait_ms = int(request.query_params.get("wait_ms", WAIT_MS_DEFAULT) or 0)
    deadline = time.monotonic() + min(max(wait_ms, 0), WAIT_MS_MAX) / 1000
    while any(read.table.positions.get((t, p), -1) < o for t, p, o in wanted):
        if time.monotonic() >= deadline:
            after = getattr(request.state, "after", None)
            if isinstance(after, dict):
                after["satisfied"] = False
            return
        await asyncio.sleep(0.05)


router = APIRouter(
    tags=["network"], dependencies=[Depends(read_your_writes), Depends(org_topic_read)]
)

Period = Annotated[
    str, Query(description="Academic year (учебный год), e.g. 2025/26", examples=["2025/26"])
]
Indicators = Annotated[
    list[str] | None,
    Query(
        description="Indicator ids to show (repeatable); default: the indicators the risk "
        "lists are decided by",
    ),
]


def _period(period: str) -> str:
    m = ACADEMIC_YEAR_RE.match(period)
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise Problem(
            422,
            "Invalid period",
            f"period={period!r}: expected an academic year such as 2025/26",
            type="validation",
        )
    return period


def _visible(request: Request, principal: Principal):
    org = _read(request).table.org

    def visible(school: str) -> bool:
        o = org.get(school)
        return o is not None and principal.can_access(
            Tenant(region=o["region_id"], municipality=o["municipality_id"], school=school)
        )

    return visible


def _reads(request: Request, indicators: list[str] | None) -> tuple[NetworkReads, Any]:
    reads = NetworkReads(_read(request))
    try:
        return reads, reads.indicators(indicators)
    except UnknownIndicator as exc:
        raise Problem(
            422, "Unknown indicator", f"indicators: {exc.args[0]} not in the catalogue",
            type="validation",
        ) from None  # fmt: skip


@router.get("/resource-centres", summary="Resource centres (ОРЦ) with schools in your scope")
async def resource_centres(
    request: Request, principal: CurrentPrincipal, period: Period
) -> dict[str, Any]:
    reads = NetworkReads(_read(request))
    body = await reads.resource_centres(
        principal.region, _period(period), _visible(request, principal)
    )
    return answer(request, body)


@router.get(
    "/resource-centres/{centre_id}",
    summary="A resource centre: its schools' key indicators and lists beside the previous "
    "year, and the centre's roll-up",
)
async def resource_centre(
    request: Request,
    centre_id: str,
    principal: CurrentPrincipal,
    period: Period,
    indicators: Indicators = None,
) -> dict[str, Any]:
    reads, inds = _reads(request, indicators)
    try:
        body = await reads.resource_centre(
            principal.region, centre_id, _period(period), _visible(request, principal), inds
        )
    except UnknownUnit:
        raise Problem(
            404, "Not found", f"no resource centre {centre_id!r}", type="not-found"
        ) from None
    if body is None:
        raise Problem(
            403, "Forbidden", f"no school of resource centre {centre_id!r} is in your tenant",
            type="forbidden",
        )  # fmt: skip
    return answer(request, body)


@router.get(
    "/municipalities/{municipality_id}/network-pairs",
    summary="Network pairs (ведущая школа — ШНОР) with a school of the municipality, both "
    "schools' dynamics side by side",
)
async def municipality_pairs(
    request: Request,
    municipality_id: str,
    principal: CurrentPrincipal,
    period: Period,
    indicators: Indicators = None,
) -> dict[str, Any]:
    principal.require(Tenant(region=principal.region, municipality=municipality_id))
    reads, inds = _reads(request, indicators)
    body = await reads.network_pairs(
        principal.region, _period(period), _visible(request, principal), inds,
        municipality=municipality_id,
    )  # fmt: skip
    return answer(request, body)


@router.get("/schools/{school_id}/network-pairs", summary="The school's network pairs")
async def school_pairs(
    request: Request,
    school_id: str,
    principal: CurrentPrincipal,
    period: Period,
    indicators: Indicators = None,
) -> dict[str, Any]:
    principal.require(await _school_tenant(_read(request), school_id))
    reads, inds = _reads(request, indicators)
    body = await reads.network_pairs(
        principal.region, _period(period), _visible(request, principal), inds, school=school_id
    )
    return answer(request, body)


@router.get("/region/network-pairs", summary="Every network pair of the region (region role)")
async def region_pairs(
    request: Request,
    principal: CurrentPrincipal,
    period: Period,
    indicators: Indicators = None,
) -> dict[str, Any]:
    if principal.role is not Role.REGION:
        raise Problem(403, "Forbidden", "the region's pairs need a region token", type="forbidden")
    reads, inds = _reads(request, indicators)
    body = await reads.network_pairs(
        principal.region, _period(period), _visible(request, principal), inds
    )
    return answer(request, body)


@router.get(
    "/support-indicators",
    summary="Seed 002's support indicators per municipality and region: ШНОР schools in a "
    "network pair, schools with positive / negative dynamics in the ШНОР/ШНСУ lists",
)
async def support_indicators(
    request: Request,
    principal: CurrentPrincipal,
    period: Period,
    municipality: OrgUnitFilter = None,
) -> dict[str, Any]:
    if principal.role is Role.SCHOOL:
        raise Problem(
            403, "Forbidden", "support indicators are for municipalities and the region",
            type="forbidden",
        )  # fmt: skip
    if principal.role is Role.MUNICIPALITY:
        municipality = municipality or principal.municipality
    principal.require(Tenant(region=principal.region, municipality=municipality))
    reads = NetworkReads(_read(request))
    return answer(request, await reads.support(principal.region, _period(period), municipality))


# ---------------------------------------------------------------------- half-year periods
HalfPeriod = Annotated[
    str,
    Query(
        description="Half of an academic year (seed 004's reporting dates): 2025/26-H1 "
        "(01.09-31.12.2025, reported on 01.01.2026) or 2025/26-H2 (01.01-30.06.2026, reported "
        "on 01.07.2026)",
        examples=["2025/26-H1"],
    ),
]


def _half(period: str) -> HalfYear:
    half = half_years.parse(period)
    if half is None:
        raise Problem(
            422,
            "Invalid period",
            f"period={period!r}: expected a half of an academic year, 2025/26-H1 "
            "(September-December) or 2025/26-H2 (January-June)",
            type="validation",
        )
    return half


@router.get(
    "/schools/{school_id}/half-year",
    summary="The school's dated indicators (attendance, staffing, teachers' development) in "
    "a half-year, beside the previous half",
)
async def school_half_year(
    request: Request, school_id: str, principal: CurrentPrincipal, period: HalfPeriod
) -> dict[str, Any]:
    read = _read(request)
    principal.require(await _school_tenant(read, school_id))
    return answer(request, await HalfYearReads(read).schools([school_id], _half(period)))


@router.get(
    "/municipalities/{municipality_id}/half-year",
    summary="The municipality's schools' dated indicators in a half-year and their roll-up",
)
async def municipality_half_year(
    request: Request, municipality_id: str, principal: CurrentPrincipal, period: HalfPeriod
) -> dict[str, Any]:
    read = _read(request)
    schools = _municipality_schools(read, principal, municipality_id)
    body = await HalfYearReads(read).schools(schools, _half(period))
    return answer(request, {"municipality_id": municipality_id, **body})


@router.get(
    "/region/half-year",
    summary="The region's schools' dated indicators in a half-year and their roll-up (region)",
)
async def region_half_year(
    request: Request, principal: CurrentPrincipal, period: HalfPeriod
) -> dict[str, Any]:
    if principal.role is not Role.REGION:
        raise Problem(403, "Forbidden", "the region's half-year needs a region token",
                      type="forbidden")  # fmt: skip
    read = _read(request)
    t = read.table
    schools = [s for m in t.municipalities_of(principal.region) for s in t.schools_of(m)]
    body = await HalfYearReads(read).schools(schools, _half(period))
    return answer(request, {"region_id": principal.region, **body})
