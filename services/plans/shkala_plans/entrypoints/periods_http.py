"""HTTP routes of monitoring periods: translate and delegate to ``service_layer.periods``.

The period is named in paths as ``2025-26`` (``2025/26`` would split the path). Every step
takes an optional ``expected_version`` (409 when stale) and answers the period with its
history; the rules (who may take which step, what state allows it) live in the domain.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shkala_contracts.vocabulary import AcademicYear, OrgId
from shkala_plans.domain.periods import STATE_RU, MonitoringPeriod, year_of
from shkala_plans.service_layer import periods
from shkala_plans.service_layer.services import Deps
from shkala_runtime.auth import CurrentPrincipal
from shkala_runtime.params import OrgUnitFilter
from shkala_runtime.problems import Problem

router = APIRouter(tags=["monitoring periods"])


def _deps(request: Request) -> Deps:
    return request.app.state.plans_deps


DepsDep = Annotated[Deps, Depends(_deps)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepIn(Body):
    expected_version: int | None = Field(default=None, ge=1)
    note: str | None = Field(default=None, max_length=4000)


class ReasonIn(Body):
    expected_version: int | None = Field(default=None, ge=1)
    reason: str = Field(min_length=1, max_length=4000)


class LockIn(Body):
    expected_version: int | None = Field(default=None, ge=1)


class MunicipalLockIn(Body):
    municipality_id: OrgId
    period: AcademicYear


class LockQueryItem(Body):
    school_id: OrgId
    period: AcademicYear


class LockQueryIn(Body):
    items: list[LockQueryItem] = Field(max_length=100_000)


def _year(slug: str) -> str:
    year = year_of(slug)
    try:
        MunicipalLockIn(municipality_id="x", period=year)
    except ValueError as exc:
        raise Problem(
            422,
            "Invalid period",
            f"period {slug!r} must look like 2025-26 (two consecutive years)",
            type="validation",
        ) from exc
    return year


def view(p: MonitoringPeriod) -> dict[str, Any]:
    return {
        "id": p.id,
        "version": p.version,
        "region_id": p.region,
        "municipality_id": p.municipality,
        "school_id": p.school,
        "period": p.period,
        "state": p.state.value,
        "state_ru": STATE_RU[p.state],
        "approved": p.approved,
        "last_reason": p.last_reason,
        "history": [
            {
                "version": s.version,
                "state": s.state.value,
                "actor_role": s.actor_role,
                "actor_unit": s.actor_unit,
                "reason": s.reason,
                "note": s.note,
            }
            for s in p.history
        ],
    }


def _answer(response: Response, p: MonitoringPeriod) -> dict[str, Any]:
    response.headers["ETag"] = f'"{p.version}"'
    return view(p)


@router.get("/periods", summary="Monitoring periods in the caller's tenant, with their state")
async def list_periods(
    who: CurrentPrincipal,
    d: DepsDep,
    municipality_id: OrgUnitFilter = None,
    school_id: OrgUnitFilter = None,
    period: str | None = None,
) -> dict[str, Any]:
    year = _year(period) if period else None
    items = await periods.list_periods(
        d, who, municipality=municipality_id, school=school_id, period=year
    )
    counts: dict[str, int] = {}
    for x in items:
        counts[x["state"]] = counts.get(x["state"], 0) + 1
    return {"items": items, "by_state": counts}


@router.get("/periods/{school_id}/{period}", summary="One school's period and its history")
async def get_period(
    school_id: str, period: str, response: Response, who: CurrentPrincipal, d: DepsDep
) -> dict[str, Any]:
    return _answer(response, await periods.get_period(d, who, school_id, _year(period)))


@router.post("/periods/{school_id}/{period}/submit", summary="The school submits its period")
async def submit(
    school_id: str,
    period: str,
    body: StepIn,
    response: Response,
    who: CurrentPrincipal,
    d: DepsDep,
) -> dict[str, Any]:
    p = await periods.submit(
        d,
        who,
        school=school_id,
        period=_year(period),
        note=body.note,
        expected_version=body.expected_version,
    )
    return _answer(response, p)


@router.post("/periods/{school_id}/{period}/return", summary="The municipality returns it")
async def return_period(
    school_id: str,
    period: str,
    body: ReasonIn,
    response: Response,
    who: CurrentPrincipal,
    d: DepsDep,
) -> dict[str, Any]:
    p = await periods.return_period(
        d,
        who,
        school=school_id,
        period=_year(period),
        reason=body.reason,
        expected_version=body.expected_version,
    )
    return _answer(response, p)


@router.post("/periods/{school_id}/{period}/approve", summary="The municipality approves it")
async def approve(
    school_id: str,
    period: str,
    body: StepIn,
    response: Response,
    who: CurrentPrincipal,
    d: DepsDep,
) -> dict[str, Any]:
    p = await periods.approve(
        d,
        who,
        school=school_id,
        period=_year(period),
        note=body.note,
        expected_version=body.expected_version,
    )
    return _answer(response, p)


@router.post("/periods/{school_id}/{period}/lock", summary="The region locks (closes) it")
async def lock(
    school_id: str,
    period: str,
    body: LockIn,
    response: Response,
    who: CurrentPrincipal,
    d: DepsDep,
) -> dict[str, Any]:
    p = await periods.lock(
        d, who, school=school_id, period=_year(period), expected_version=body.expected_version
    )
    return _answer(response, p)


@router.post("/periods/{school_id}/{period}/reopen", summary="The region reopens it, saying why")
async def reopen(
    school_id: str,
    period: str,
    body: ReasonIn,
    response: Response,
    who: CurrentPrincipal,
    d: DepsDep,
) -> dict[str, Any]:
    p = await periods.reopen(
        d,
        who,
        school=school_id,
        period=_year(period),
        reason=body.reason,
        expected_version=body.expected_version,
    )
    return _answer(response, p)


@router.post("/periods/lock", summary="The region locks every approved period of a municipality")
async def lock_municipality(body: MunicipalLockIn, who: CurrentPrincipal, d: DepsDep) -> Any:
    out = await periods.lock_municipality(
        d, who, municipality=body.municipality_id, period=body.period
    )
    return {
        "municipality_id": body.municipality_id,
        "period": body.period,
        "locked": out.locked,
        "already_locked": out.already_locked,
        "not_ready": [{"school_id": s, "state": st} for s, st in out.not_ready.items()],
    }


@router.post("/periods/locks/query", summary="Which (school, period) pairs are locked (ingest)")
async def locked(body: LockQueryIn, who: CurrentPrincipal, d: DepsDep) -> dict[str, Any]:
    pairs = [(i.school_id, i.period) for i in body.items]
    return {"locked": await periods.locked_among(d, who, pairs)}
