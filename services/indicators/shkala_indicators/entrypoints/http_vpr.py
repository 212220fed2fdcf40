"""HTTP routes of the ВПР analyses: per-task success and deficits, success per planned result
and each (pseudonymous) student's failed tasks (``read_analyses.py``, ``read_deficits.py``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from shkala_indicators.entrypoints.http import (
    _municipality_schools,
    _read,
    _school_tenant,
    answer,
    read_your_writes,
)
from shkala_indicators.service_layer.read_analyses import Analyses
from shkala_indicators.service_layer.read_deficits import VprDeficits
from shkala_runtime.auth import CurrentPrincipal

router = APIRouter(tags=["indicators"], dependencies=[Depends(read_your_writes)])


@router.get(
    "/schools/{school_id}/vpr-tasks",
    summary="ВПР per-task success of a school (by parallel, or one class) and its deficits",
)
async def school_vpr_tasks(
    request: Request,
    school_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
    class_label: Annotated[str | None, Query(examples=["5А"])] = None,
) -> dict[str, Any]:
    read = _read(request)
    principal.require(await _school_tenant(read, school_id))
    return answer(
        request,
        {
            "school_id": school_id,
            **await Analyses(read).vpr_tasks([school_id], period, class_label),
        },
    )


@router.get(
    "/municipalities/{municipality_id}/vpr-tasks",
    summary="ВПР per-task success over a municipality's schools and its deficits",
)
async def municipality_vpr_tasks(
    request: Request,
    municipality_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
) -> dict[str, Any]:
    read = _read(request)
    schools = _municipality_schools(read, principal, municipality_id)
    return answer(
        request,
        {
            "municipality_id": municipality_id,
            **await Analyses(read).vpr_tasks(schools, period, None),
        },
    )


@router.get(
    "/schools/{school_id}/vpr-planned-results",
    summary="ВПР success per planned result (проверяемое умение) of a school, by parallel or "
    "by class, and its deficits; `mapping` says whether the task → planned-result mapping "
    "was uploaded",
)
async def school_vpr_planned_results(
    request: Request,
    school_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
    class_label: Annotated[str | None, Query(examples=["5А"])] = None,
    by: Annotated[Literal["parallel", "class"], Query()] = "parallel",
) -> dict[str, Any]:
    read = _read(request)
    principal.require(await _school_tenant(read, school_id))
    body = await VprDeficits(read).planned_results([school_id], period, class_label, by == "class")
    return answer(request, {"school_id": school_id, **body})


@router.get(
    "/municipalities/{municipality_id}/vpr-planned-results",
    summary="ВПР success per planned result over a municipality's schools and its deficits",
)
async def municipality_vpr_planned_results(
    request: Request,
    municipality_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
) -> dict[str, Any]:
    read = _read(request)
    schools = _municipality_schools(read, principal, municipality_id)
    body = await VprDeficits(read).planned_results(schools, period, None)
    return answer(request, {"municipality_id": municipality_id, **body})


@router.get(
    "/schools/{school_id}/vpr-students",
    summary="Per student (pseudonym only): the ВПР tasks failed and the planned results behind "
    "them, and the student's planned-result deficits, for a school or one class",
)
async def school_vpr_students(
    request: Request,
    school_id: str,
    principal: CurrentPrincipal,
    period: Annotated[str, Query(examples=["2025/26"])],
    class_label: Annotated[str | None, Query(examples=["5А"])] = None,
) -> dict[str, Any]:
    read = _read(request)
    principal.require(await _school_tenant(read, school_id))
    body = await VprDeficits(read).students(school_id, period, class_label)
    return answer(request, {"school_id": school_id, **body})
