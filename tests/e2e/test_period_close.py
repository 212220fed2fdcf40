"""Bottom-up approval across services, on the real broker and database: a school uploads and
submits, the municipality returns the period with a reason, the school corrects and
resubmits, the municipality approves, the region locks. A later upload for that school and
period is refused by ingest (which asks plans over HTTP) and changes nothing; the close
event reaches a webhook subscriber with its Russian sentence.

Plans serves on a real local port (uvicorn) because ingest reaches it by ``SHKALA_PLANS_URL``;
ingest and notify run in-process. Each service has its own database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from standardwebhooks import Webhook
from support.inprocess import asgi, eventually, tok
from support.projections import _read_to_end

from shkala_ingest.bootstrap import bootstrap as ingest_bootstrap
from shkala_ingest.settings import Settings as IngestSettings
from shkala_notify.bootstrap import bootstrap as notify_bootstrap
from shkala_notify.settings import Settings as NotifySettings
from shkala_plans.bootstrap import bootstrap as plans_bootstrap
from shkala_plans.settings import Settings as PlansSettings
from shkala_runtime.settings import ServiceSettings

REGION = "demo"
HEADER = (
    "Код ОО;Учебный год;Предмет;Параллель;Класс;Код участника;ФИО;Дата;Первичный балл;"
    "Отметка;Отметка по журналу;Общественное наблюдение;Задание 1 (макс 1)"
)
LOCKED = "ru.shkala.plans.monitoring_period_locked.v1"


def vpr(school: str, year: str, mark: int, n: int = 3) -> bytes:
    date = "15.04.2026" if year == "2025/26" else "15.04.2025"
    rows = [
        f"{school};{year};математика;5;5А;STU-{i:04d};Ученик {i};{date};1;{mark};4;нет;1"
        for i in range(n)
    ]
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1251")


def org_units(schools: list[tuple[str, str]]) -> bytes:
    lines = ["Код региона;Регион;Код МО;Муниципалитет;Код ОО;Наименование ОО;Тип ОО"]
    lines += [f"{REGION};Демо;{m};МО {m};{s};МБОУ СОШ {s};СОШ" for m, s in schools]
    return ("\n".join(lines) + "\n").encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """The app on a real local port (its lifespan run by uvicorn)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def topic_count(settings: ServiceSettings, base: str) -> int:
    topic = settings.topic_name(base)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        for _ in range(50):
            if parts:
                break
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic) or set()
            await asyncio.sleep(0.1)
        tps = [TopicPartition(topic, p) for p in parts]
        begin = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        # committed records, not offsets: an import's transaction marker takes an offset too
        return len(await _read_to_end(consumer, begin, end))
    finally:
        await consumer.stop()


class Hook:
    """A real local HTTP endpoint recording webhook POSTs."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip()
                for k, v in (x.split(":", 1) for x in head[1:] if ":" in x)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append((headers, body))
            writer.write(
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    h = Hook()
    await h.start()
    yield h
    await h.stop()


async def test_locked_period_refuses_uploads_and_the_close_reaches_a_webhook(
    test_settings: ServiceSettings, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = test_settings.model_dump()
    db = test_settings.mongo_database
    plans_s = PlansSettings(
        **{
            **base,
            "service_name": "plans",
            "mongo_database": db + "_p",
            "plans_scheduler_interval_s": 0,
            "plans_relay_poll_s": 0.1,
        }
    )
    ingest_s = IngestSettings(**{**base, "service_name": "ingest", "mongo_database": db + "_i"})
    notify_s = NotifySettings(
        **{
            **base,
            "service_name": "notify",
            "mongo_database": db + "_n",
            "webhook_allow_networks": ("127.0.0.0/8",),
            "webhook_poll_interval_s": 0.2,
        }
    )
    plans_app = plans_bootstrap(plans_s).app
    try:
        await _walk(plans_app, plans_s, ingest_s, notify_s, hook, monkeypatch)
    finally:
        from shkala_runtime.mongo import make_client

        client = make_client(test_settings)
        for suffix in ("_p", "_i", "_n"):
            await client.drop_database(db + suffix)
        await client.close()


async def _walk(plans_app, plans_s, ingest_s, notify_s, hook, monkeypatch) -> None:
    async with served(plans_app) as plans_url:
        monkeypatch.setenv("SHKALA_PLANS_URL", plans_url)
        plans = httpx.AsyncClient(base_url=plans_url, timeout=30)
        async with (
            plans,
            asgi(ingest_bootstrap(ingest_s).app) as ingest,
            asgi(notify_bootstrap(notify_s).app) as notify,
        ):
            region = tok(plans_s, "region")
            m1 = tok(plans_s, "municipality", municipality="m1")
            s1 = tok(plans_s, "school", municipality="m1", school="s1")

            r = await ingest.post(
                "/imports/org-units",
                headers=region,
                files={"file": ("o.csv", org_units([("m1", "s1")]), "text/csv")},
            )
            assert r.status_code == 202, r.text
            sub = await notify.post(
                "/subscriptions",
                json={
                    "url": f"http://127.0.0.1:{hook.port}/closed",
                    "filters": {"event_types": [LOCKED]},
                },
                headers=m1,
            )
            assert sub.status_code == 201, sub.text
            secret = sub.json()["secret"]

            async def upload(body: bytes, name: str) -> httpx.Response:
                return await ingest.post(
                    "/imports/vpr", headers=s1, files={"file": (name, body, "text/csv")}
                )

            r = await upload(vpr("s1", "2025/26", 3), "first.csv")
            assert r.status_code == 202, r.text
            assert r.json()["status"] == "completed"

            p = "/periods/s1/2025-26"
            assert (await plans.post(f"{p}/submit", json={}, headers=s1)).status_code == 200
            r = await plans.post(
                f"{p}/return", headers=m1, json={"reason": "отметки не совпадают с журналом"}
            )
            assert r.json()["state"] == "returned"
            # while returned the school corrects its data: the upload goes through
            r = await upload(vpr("s1", "2025/26", 4), "fixed.csv")
            assert r.json()["status"] == "completed", r.text
            r = await plans.post(f"{p}/submit", json={"note": "исправлено"}, headers=s1)
            assert r.json()["state"] == "submitted"
            assert (await plans.post(f"{p}/approve", json={}, headers=m1)).json()["approved"]
            r = await plans.post(f"{p}/lock", json={}, headers=region)
            assert r.json()["state"] == "locked", r.text

            before = await topic_count(ingest_s, "shkala.facts.assessment.v1")
            r = await upload(vpr("s1", "2025/26", 5), "late.csv")
            assert r.status_code == 409, r.text
            problem = r.json()["problem"] if "problem" in r.json() else r.json()
            assert problem["type"].endswith("period-locked")
            assert "2025/26" in problem["detail"]
            assert "s1" in problem["detail"]
            assert "региональный оператор" in problem["detail"]
            assert problem["locked_periods"][0]["reopen_by"] == "region"
            assert {e["row"] for e in problem["errors"]} == {2, 3, 4}
            assert all(e["code"] == "period-locked" for e in problem["errors"])
            # another school year of the same school is open: accepted
            r = await upload(vpr("s1", "2024/25", 5), "older.csv")
            assert r.json()["status"] == "completed", r.text
            after = await topic_count(ingest_s, "shkala.facts.assessment.v1")
            assert after - before == 3  # only the 2024/25 rows; the refused file changed nothing

            # reopened with a reason, the same late file goes through
            r = await plans.post(f"{p}/reopen", json={"reason": "апелляция"}, headers=region)
            assert r.json()["state"] == "open"
            r = await upload(vpr("s1", "2025/26", 5), "late.csv")
            assert r.json()["status"] == "completed", r.text

            await eventually(lambda: hook.received, within=60, what="the close webhook")
            headers, body = hook.received[0]
            payload = Webhook(secret).verify(body, headers)
            assert payload["type"] == LOCKED
            assert payload["school"] == "s1"
            assert payload["data"]["period"] == "2025/26"
            # the school's name once notify read the registry, its id before that
            assert payload["text"].split(" закрыт регионом")[0] in {
                "Период мониторинга 2025/26 учебного года школы МБОУ СОШ s1",
                "Период мониторинга 2025/26 учебного года школы s1",
            }
            await asyncio.sleep(1)
            assert len(hook.received) == 1  # only the lock matched the filter
            assert json.loads(body)["id"] == headers["webhook-id"]
