"""Services run in-process for end-to-end tests: a bearer header, an app behind an ASGI
client with its lifespan, and polling until something holds."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from shkala_runtime.auth import issue_token
from shkala_runtime.settings import ServiceSettings


def tok(settings: ServiceSettings, role: str, **tenant: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, role, **tenant)}"}


@contextlib.asynccontextmanager
async def asgi(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=60
        ) as c,
    ):
        yield c


async def eventually(check: Any, within: float = 60.0, what: str = "") -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy; that value."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
