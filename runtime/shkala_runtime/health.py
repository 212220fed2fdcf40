"""``/health`` (the process answers) and ``/ready`` (its dependencies answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[object]]


def health_router(checks: Mapping[str, Check], timeout_s: float = 2.0) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/ready",
        summary="Readiness: Kafka and the database answer",
        responses={
            503: {
                "description": "a dependency does not answer",
                "content": {"application/json": {}},
            }
        },
    )
    async def ready() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                ok = await asyncio.wait_for(check(), timeout_s)
                results[name] = "ok" if ok is not False else "failing"
            except Exception as exc:  # readiness reports any failure, it does not raise
                results[name] = f"failing: {type(exc).__name__}: {exc}"[:300]
        healthy = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if healthy else "not ready", "checks": results},
            status_code=200 if healthy else 503,
        )

    return router
