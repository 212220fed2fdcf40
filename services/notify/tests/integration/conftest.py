"""Helpers of the notify integration tests: a real local HTTP receiver, the app in-process,
events to publish. Everything runs on the real Kafka broker and FerretDB."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from shkala_contracts import Tenant
from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    ObjectivityFlagRaised,
    RiskList,
    Scope,
)
from shkala_contracts.events.org_units import SchoolRegistered
from shkala_notify.bootstrap import Service, bootstrap
from shkala_notify.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher, Outgoing

FAST_SCHEDULE = (0.3, 0.5, 0.8) + (1.0,) * 40


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A minimal but real HTTP/1.1 server on 127.0.0.1 that records every POST."""

    port: int = 0
    status: int = 204
    received: list[Received] = field(default_factory=list)
    _server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(path, headers, body))
            writer.write(
                f"HTTP/1.1 {self.status} X\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def eventually(
    check: Callable[[], Awaitable[bool] | bool], within: float = 30.0, what: str = ""
) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or check}")
        await asyncio.sleep(0.1)


def make_settings(base: Any, **overrides: Any) -> Settings:
    values = {
        **base.model_dump(),
        "webhook_allow_networks": ("127.0.0.0/8",),
        "webhook_retry_schedule_s": FAST_SCHEDULE,
        "webhook_poll_interval_s": 0.2,
        "webhook_timeout_s": 3.0,
        "webhook_lease_s": 5.0,
        "log_json": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(test_settings: Any) -> Settings:
    return make_settings(test_settings)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
    service = bootstrap(settings)
    async with (
        service.app.router.lifespan_context(service.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service.app), base_url="http://t"
        ) as client,
    ):
        yield service, client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def publisher(settings: Settings) -> AsyncIterator[EventPublisher]:
    p = EventPublisher(settings)
    await p.start()
    yield p
    await p.stop()


def auth(settings: Settings, role: str, municipality: str | None = None, school: str | None = None):
    token = issue_token(settings, role, municipality=municipality, school=school)
    return {"Authorization": f"Bearer {token}"}


def tenant(settings: Settings, municipality: str, school: str) -> Tenant:
    return Tenant(region=settings.region_id, municipality=municipality, school=school)


def list_changed(settings: Settings, municipality: str, school: str, n: int = 1) -> Outgoing:
    event = ListMembershipChanged(
        originator_id=f"lists:{school}",
        originator_version=n,
        region_id=settings.region_id,
        municipality_id=municipality,
        school_id=school,
        risk_list=RiskList.LOW_RESULTS,
        period="2025/26",
        change=MembershipChange.ENTERED,
        definition_version="v1",
        reasons=("shnor.vpr_2_share",),
    )
    return Outgoing.of(
        event, source="/shkala/indicators", tenant=tenant(settings, municipality, school)
    )


def value_changed(settings: Settings, municipality: str, school: str, n: int = 1) -> Outgoing:
    event = IndicatorValueChanged(
        originator_id=f"ind:{school}:shnor.vpr_2_share:2025/26",
        originator_version=n,
        region_id=settings.region_id,
        municipality_id=municipality,
        school_id=school,
        indicator_id="shnor.vpr_2_share",
        direction="low_results",
        scope=Scope.SCHOOL,
        period="2025/26",
        definition_version="v1",
        old_value=10.0 + n,
        new_value=20.0 + n,
        numerator=10,
        denominator=50,
    )
    return Outgoing.of(
        event, source="/shkala/indicators", tenant=tenant(settings, municipality, school)
    )


def flag_raised(settings: Settings, municipality: str, school: str, n: int = 1) -> Outgoing:
    event = ObjectivityFlagRaised(
        originator_id=f"obj:{school}",
        originator_version=n,
        region_id=settings.region_id,
        municipality_id=municipality,
        school_id=school,
        indicator_id="obj.vpr_raised",
        period="2025/26",
        procedure="ВПР",
        subject="математика",
        value=41.5,
        threshold=30,
        definition_version="v1",
    )
    return Outgoing.of(
        event, source="/shkala/indicators", tenant=tenant(settings, municipality, school)
    )


def school_registered(settings: Settings, municipality: str, school: str, name: str) -> Outgoing:
    fact = SchoolRegistered(
        region_id=settings.region_id, municipality_id=municipality, school_id=school, name=name
    )
    return Outgoing.of(fact, source="/shkala/ingest", tenant=tenant(settings, municipality, school))


@pytest.fixture
def h() -> Any:
    """The helpers above, for test modules (conftest is not importable in importlib mode)."""
    import sys

    return sys.modules[__name__]
