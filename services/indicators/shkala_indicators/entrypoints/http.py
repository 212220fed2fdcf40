"""HTTP routes of the indicators service: translate requests and delegate to the read side.

Authorisation: a school sees only itself, a municipality its schools, the region everything.
Every answer carries ``freshness``: the log positions and event time of the last applied batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import ORJSONResponse

from shkala_contracts import Tenant
from shkala_indicators.service_layer.read import (
    WAIT_MS_DEFAULT,
    WAIT_MS_MAX,
    NotYetApplied,
    ReadModel,
    previous_period,
)
from shkala_indicators.service_layer.read_analyses import Analyses
from shkala_indicators.service_layer.read_views import UnknownPosition, View
from shkala_runtime.auth import CurrentPrincipal, Principal, Role
from shkala_runtime.params import OrgUnitFilter
from shkala_runtime.problems import Problem


def parse_after(values: list[str]) -> list[tuple[str, int, int]]:
    out = []
    for raw in values:
        parts = raw.rsplit(":", 2)
        if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
            raise Problem(
                422,
                "Invalid log position",
                f"after={raw!r}: expected <topic>:<partition>:<offset>, e.g. "
                "shkala.facts.assessment.v1:3:1520 (the import answer's log_positions)",
                type="validation",
            )
        out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


async def read_your_writes(
    request: Request,
    after: Annotated[
        list[str] | None,
        Query(
            description="Answer once this log position is applied: <topic>:<partition>:<offset> "
            "(repeatable; the offsets an ingest import answer gives in `log_positions`)",
            examples=["shkala.facts.assessment.v1:0:41"],
        ),
    ] = None,
    wait_ms: Annotated[
        int,
        Query(ge=0, le=WAIT_MS_MAX, description="How long to wait for `after` (milliseconds)"),
    ] = WAIT_MS_DEFAULT,
) -> None:
    """Read-your-writes: wait (bounded) until the named positions are applied and visible;
    after the wait, answer anyway, with ``freshness.after.satisfied = false`` and how far it is."""
    positions = parse_after(after or [])
    request.state.after = None
    if not positions:
        return
    read: ReadModel = request.app.state.read_model
    try:
        await read.wait_for(positions, wait_ms)
        request.state.after = {"satisfied": True, "requested": after, "missing": {}}
    except NotYetApplied as exc:
        request.state.after = {
            "satisfied": False,
            "requested": after,
            "missing": exc.freshness["waiting_for"],
            "waited_ms": wait_ms,
        }


router = APIRouter(tags=["indicators"], dependencies=[Depends(read_your_writes)])


def parse_as_of(raw: str) -> dt.datetime | tuple[str, int, int]:
    """A moment (ISO datetime; a bare date is its start, UTC) or a log position."""
    parts = raw.rsplit(":", 2)
    if len(parts) == 3 and parts[0] and parts[1].isdigit() and parts[2].isdigit():
        if int(parts[1]) >= 2**31 or int(parts[2]) >= 2**63:
            raise Problem(
                422,
                "Invalid as_of",
                f"as_of={raw!r}: no such partition or offset",
                type="validation",
            )
        return (parts[0], int(parts[1]), int(parts[2]))
    try:
        t = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(
            422,
            "Invalid as_of",
            f"as_of={raw!r}: expected a date (2026-03-01), a datetime "
            "(2026-03-01T12:00:00Z) or a log position <topic>:<partition>:<offset>",
            type="validation",
        ) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def view_of(
    request: Request,
    basis: Annotated[
        Literal["live", "approved"],
        Query(
            description="`live`: every value as it stands; `approved`: each school with its "
            "values as they stood when its monitoring period was approved, unapproved schools "
            "left out and counted (ADR 0010)"
        ),
    ] = "live",
    as_of: Annotated[
        str | None,
        Query(
            description="The view as it stood at a moment (date or datetime) or a log position "
            "<topic>:<partition>:<offset>",
            examples=["2026-03-01", "shkala.facts.assessment.v1:0:41"],
        ),
    ] = None,
    definition_version: Annotated[str | None, Query(examples=["2025.1"])] = None,
) -> View:
    read: ReadModel = request.app.state.read_model
    known = {read.catalogue.version, *read.previous}
    if definition_version is not None and definition_version not in known:
        raise Problem(
            422,
            "Unknown definition version",
            f"definition_version={definition_version!r}: known are {sorted(known)}",
            type="validation",
        )
    return View(basis, parse_as_of(as_of) if as_of else None, definition_version)


ViewQuery = Annotated[View, Depends(view_of)]


async def viewed(body: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    try:
        return await body
    except UnknownPosition as exc:
        raise Problem(
            422,
            "Unknown log position",
            f"as_of={exc.args[0]!r}: no stored fact at this position (a fact topic's "
            "<topic>:<partition>:<offset>, e.g. from an import answer's log_positions)",
            type="validation",
        ) from None


def _read(request: Request) -> ReadModel:
    return request.app.state.read_model


def answer(request: Request, body: dict[str, Any]) -> Any:
    """The body serialised by orjson straight away: FastAPI's own validation and encoding of
    a card-sized dict cost several milliseconds a request (measured: 111 answers/s under 200
    readers); the routes' annotations still describe the body in the OpenAPI document."""
    after = getattr(request.state, "after", None)
    if after is not None and isinstance(body.get("freshness"), dict):
        body["freshness"]["after"] = after
    return ORJSONResponse(body)


def _municipality_schools(read: ReadModel, principal: Principal, municipality_id: str) -> list[str]:
    """The municipality's schools, once the caller may read the municipality."""
    principal.require(Tenant(region=principal.region, municipality=municipality_id))
    return read.table.schools_of(municipality_id)


async def _school_tenant(read: ReadModel, school_id: str) -> Tenant:
    org = await read.org(school_id)
    if org is None or org.get("kind") != "school":
        raise Problem(404, "Not found", f"no school {school_id!r}", type="not-found")
    return Tenant(region=org["region_id"], municipality=org["municipality_id"], school=school_id)


@router.get("/catalogue", summary="The indicator catalogue (definitions, thresholds, list rules)")
async def catalogue(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    read = _read(request)
    return answer(request, {**read.catalogue.describe(), "freshness": await read.freshness()})


@router.get("/schools/{school_id}", summary="School card: every indicator with its trend")
async def school_card(
    request: Request, school_id: str, principal: CurrentPrincipal
) -> dict[str, Any]:
    read = _read(request)
    principal.require(await _school_tenant(read, school_id))
    return answer(request, await read.school_card(school_id))


@router.get(
    "/schools/{school_id}/indicators/{indicator_id}",
    summary="One indicator of a school; `as_of` gives the value as it stood at that time, "
    "`definition_version` today's facts under an earlier definition version",
)
async def school_indicator(
    request: Request,
    school_id: str,
    indicator_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
    as_of: dt.datetime | None = None,
    definition_version: Annotated[str | None, Query(examples=["2025.1"])] = None,
) -> dict[str, Any]:
    read = _read(request)
    principal.require(await _school_tenant(read, school_id))
    if indicator_id not in read.catalogue.by_id():
        raise Problem(404, "Not found", f"no indicator {indicator_id!r}", type="not-found")
    known = {read.catalogue.version, *read.previous}
    if definition_version is not None and definition_version not in known:
        raise Problem(
            404,
            "Not found",
            f"no definition version {definition_version!r}; known: {sorted(known)}",
            type="not-found",
        )
    if as_of is not None and definition_version not in (None, read.catalogue.version):
        raise Problem(
            422,
            "Unsupported combination",
            "as_of gives stored values under the current definitions; an earlier definition "
            "version recomputes today's facts: ask for one at a time",
            type="invalid-query",
        )
    return answer(
        request,
        await read.school_indicator(school_id, indicator_id, period, as_of, definition_version),
    )


@router.get("/municipalities/{municipality_id}/table", summary="Schools × indicators, sortable")
async def municipality_table(
    request: Request,
    municipality_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
    view: ViewQuery,
    sort: str | None = None,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
) -> dict[str, Any]:
    read = _read(request)
    principal.require(Tenant(region=principal.region, municipality=municipality_id))
    if (
        sort is not None
        and sort not in read.catalogue.by_id()
        and sort not in ("school_id", "name")
    ):
        raise Problem(422, "Unknown sort key", f"cannot sort by {sort!r}", type="validation")
    return answer(
        request,
        await viewed(read.municipality_table(municipality_id, period, sort, order == "desc", view)),
    )


@router.get("/region/summary", summary="Region roll-ups, municipalities, list counts")
async def region_summary(
    request: Request,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
    view: ViewQuery,
    indicator: Annotated[
        list[str] | None,
        Query(
            description="Roll-ups of these indicators only (repeat the parameter); "
            "every indicator when absent",
            examples=[["vpr_mark2_share_math"]],
        ),
    ] = None,
) -> dict[str, Any]:
    read = _read(request)
    if principal.role is not Role.REGION:
        raise Problem(403, "Forbidden", "the region summary needs a region token", type="forbidden")
    known = read.catalogue_of(view.definition_version).by_id()
    if unknown := [i for i in indicator or () if i not in known]:
        raise Problem(
            422,
            "Unknown indicator",
            f"indicator={unknown[0]!r}: not in the catalogue",
            type="validation",
        )
    return answer(
        request, await viewed(read.region_summary(principal.region, period, view, indicator))
    )


@router.get("/lists/{risk_list}", summary="ШНОР / ШНСУ / признаки необъективности, with dynamics")
async def risk_list(
    request: Request,
    risk_list: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
    view: ViewQuery,
    municipality: OrgUnitFilter = None,
) -> dict[str, Any]:
    read = _read(request)
    if risk_list not in {r.name for r in read.catalogue.lists}:
        raise Problem(404, "Not found", f"no list {risk_list!r}", type="not-found")
    if principal.role is Role.SCHOOL:
        raise Problem(
            403, "Forbidden", "lists are for municipalities and the region", type="forbidden"
        )
    if principal.role is Role.MUNICIPALITY:
        municipality = municipality or principal.municipality
    principal.require(Tenant(region=principal.region, municipality=municipality))
    return answer(
        request,
        await viewed(
            read.risk_list(
                risk_list,
                period,
                previous_period(period),
                municipality,
                region=principal.region,
                view=view,
            )
        ),
    )


@router.get("/directions/{direction}", summary="Per-direction view: the direction's indicators")
async def direction_view(
    request: Request,
    direction: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
    municipality: OrgUnitFilter = None,
) -> dict[str, Any]:
    read = _read(request)
    if principal.role is Role.SCHOOL:
        raise Problem(403, "Forbidden", "use the school card", type="forbidden")
    if principal.role is Role.MUNICIPALITY:
        municipality = municipality or principal.municipality
    principal.require(Tenant(region=principal.region, municipality=municipality))
    return answer(request, await read.direction(direction, period, principal.region, municipality))


@router.get(
    "/municipalities/{municipality_id}/rating",
    summary="Municipal rating of schools (муниципальный рейтинг) by the catalogue's weights",
)
async def municipality_rating(
    request: Request,
    municipality_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
    view: ViewQuery,
) -> dict[str, Any]:
    read = _read(request)
    principal.require(Tenant(region=principal.region, municipality=municipality_id))
    return answer(request, await viewed(Analyses(read).rating(municipality_id, period, view)))


@router.get(
    "/org-units", summary="The org-unit registry (region, municipalities, schools) in scope"
)
async def org_units(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """What the caller may see of the registry: the workspace's sign-in and navigation."""
    read = _read(request)
    units: list[dict[str, Any]] = []
    for d in list(read.table.org.values()):
        kind = d.get("kind")
        if kind == "region":
            visible = principal.role is Role.REGION and d["_id"] == principal.region
        elif kind == "municipality":
            visible = d.get("region_id") == principal.region and (
                principal.role is Role.REGION or principal.municipality == d["_id"]
            )
        else:
            visible = principal.can_access(
                Tenant(
                    region=d.get("region_id", ""),
                    municipality=d.get("municipality_id"),
                    school=d["_id"],
                )
            )
        if not visible:
            continue
        units.append(
            {
                "id": d["_id"],
                "kind": kind,
                "name": d.get("name"),
                "region_id": d.get("region_id") if kind != "region" else d["_id"],
                "municipality_id": d.get("municipality_id"),
            }
        )
    units.sort(key=lambda u: (str(u["kind"]), str(u["id"])))
    return answer(request, {"units": units, "freshness": await read.freshness()})
