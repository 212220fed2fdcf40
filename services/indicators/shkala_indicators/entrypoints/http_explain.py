"""HTTP routes of «как посчитано»: how a value, a list entry and a rating score are made
(use cases in ``service_layer/read_explain.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from shkala_contracts import Tenant
from shkala_indicators.entrypoints.http import (
    _read,
    _school_tenant,
    answer,
    read_your_writes,
)
from shkala_indicators.service_layer.read_explain import Explanations
from shkala_runtime.auth import CurrentPrincipal, Role
from shkala_runtime.problems import Problem

router = APIRouter(tags=["indicators"], dependencies=[Depends(read_your_writes)])


# ----------------------------------------------------------------- «как посчитано» (explain)


@router.get(
    "/schools/{school_id}/indicators/{indicator_id}/explain",
    summary="How a school's indicator value is counted: the rule and definition version, the "
    "numerator and denominator with their texts, and the facts behind each (by natural key "
    "and pseudonym)",
)
async def explain_indicator(
    request: Request,
    school_id: str,
    indicator_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"], pattern=r"^\d{4}/\d{2}$")],
    definition_version: Annotated[str | None, Query(examples=["2025.1"])] = None,
) -> dict[str, Any]:
    read = _read(request)
    principal.require(await _school_tenant(read, school_id))
    known = {read.catalogue.version, *read.previous}
    if definition_version is not None and definition_version not in known:
        raise Problem(
            404,
            "Not found",
            f"no definition version {definition_version!r}; known: {sorted(known)}",
            type="not-found",
        )
    if indicator_id not in read.catalogue_of(definition_version).by_id():
        raise Problem(404, "Not found", f"no indicator {indicator_id!r}", type="not-found")
    return answer(
        request,
        await Explanations(read).indicator(school_id, indicator_id, period, definition_version),
    )


@router.get(
    "/lists/{risk_list}/{school_id}/explain",
    summary="Why a school is (or is not) on a list: every criterion with its value, threshold, "
    "numerator and denominator, fired or not",
)
async def explain_list_entry(
    request: Request,
    risk_list: str,
    school_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"], pattern=r"^\d{4}/\d{2}$")],
) -> dict[str, Any]:
    read = _read(request)
    if risk_list not in {r.name for r in read.catalogue.lists}:
        raise Problem(404, "Not found", f"no list {risk_list!r}", type="not-found")
    if principal.role is Role.SCHOOL:
        raise Problem(
            403, "Forbidden", "lists are for municipalities and the region", type="forbidden"
        )
    principal.require(await _school_tenant(read, school_id))
    return answer(request, await Explanations(read).list_entry(risk_list, school_id, period))


@router.get(
    "/municipalities/{municipality_id}/rating/{school_id}/explain",
    summary="How a school's rating score is made: per component the value, normalisation, "
    "weight, contribution and source value",
)
async def explain_rating_score(
    request: Request,
    municipality_id: str,
    school_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"], pattern=r"^\d{4}/\d{2}$")],
) -> dict[str, Any]:
    read = _read(request)
    principal.require(Tenant(region=principal.region, municipality=municipality_id))
    tenant = await _school_tenant(read, school_id)
    if tenant.municipality != municipality_id:
        raise Problem(
            404,
            "Not found",
            f"school {school_id!r} is not in municipality {municipality_id!r}",
            type="not-found",
        )
    principal.require(tenant)
    return answer(request, await Explanations(read).rating(municipality_id, school_id, period))


# --- ВПР deficits by planned result (seed 000 item 5.3; service_layer/read_deficits.py) ----
