"""HTTP clients of the four services, called with the signed-in user's bearer token.

The workspace keeps no domain data: every page is a few calls here. A service's RFC 9457
answer becomes :class:`UpstreamError` with its status and problem document, so a 403 from
indicators is a 403 page here and every tenant rule stays where it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

SERVICES = ("ingest", "indicators", "plans", "notify")


class UpstreamError(Exception):
    def __init__(self, service: str, status: int, problem: dict[str, Any]) -> None:
        self.service = service
        self.status = status
        self.problem = problem
        super().__init__(f"{service} answered {status}: {problem.get('detail') or problem}")


class Upstreams:
    """One pooled client per service; the token goes with each call."""

    def __init__(self, urls: Mapping[str, str], timeout_s: float = 30.0) -> None:
        self.urls = dict(urls)
        self.clients = {
            name: httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(timeout_s, connect=5.0))
            for name, url in urls.items()
        }

    async def close(self) -> None:
        for c in self.clients.values():
            await c.aclose()

    def as_user(self, token: str, after: list[str] | None = None) -> Api:
        return Api(self, token, after)


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"status": response.status_code, "detail": response.text[:500]}
    return body if isinstance(body, dict) else {"status": response.status_code, "detail": body}


class Api:
    """The four APIs as one user sees them."""

    def __init__(self, up: Upstreams, token: str, after: list[str] | None = None) -> None:
        self.up = up
        self.headers = {"Authorization": f"Bearer {token}"}
        # read-your-writes: log positions of the user's last upload (`topic:partition:offset`);
        # indicators waits up to wait_ms until it applied them (ignored where unsupported)
        self.after = after or []

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        content: bytes | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - passed to httpx per call
    ) -> httpx.Response:
        client = self.up.clients[service]
        try:
            response = await client.request(
                method,
                path,
                params=params,
                json=json,
                content=content,
                files=files,
                headers={**self.headers, **(headers or {})},
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise UpstreamError(
                service,
                503,
                {"title": "Service unavailable", "detail": f"{service}: {type(exc).__name__}"},
            ) from exc
        return response

    async def get(self, service: str, path: str, **params: Any) -> Any:
        query: list[tuple[str, Any]] = []
        for k, v in params.items():  # a list is a repeated parameter (?indicator=a&indicator=b)
            query += [(k, x) for x in v] if isinstance(v, list | tuple) else [(k, v)]
        query = [(k, v) for k, v in query if v is not None]
        if service == "indicators" and self.after:
            query += [("after", a) for a in self.after] + [("wait_ms", 2000)]
        response = await self.request(service, "GET", path, params=query)
        if response.status_code >= 400:
            raise UpstreamError(service, response.status_code, _problem(response))
        return response.json()

    async def send(self, service: str, method: str, path: str, body: Any = None) -> Any:
        response = await self.request(service, method, path, json=body)
        if response.status_code >= 400:
            raise UpstreamError(service, response.status_code, _problem(response))
        return response.json() if response.content else None

    @asynccontextmanager
    async def stream(
        self,
        service: str,
        path: str,
        params: list[tuple[str, str | int | float | bool | None]],
        headers: dict[str, str],
    ) -> AsyncIterator[httpx.Response]:
        client = self.up.clients[service]
        async with client.stream(
            "GET",
            path,
            params=params,
            headers={**self.headers, **headers},
            timeout=httpx.Timeout(None, connect=5.0),
        ) as response:
            yield response
