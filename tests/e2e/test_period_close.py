"""Bottom-up approval across services, on the real broker and database: a school uploads and
submits, the municipality returns the period with a reason, the school corrects and
resubmits, the municipality approves, the region locks. A later upload for that school and
period is refused by ingest (which asks plans over HTTP) and changes nothing; the close
event reaches a webhook subscriber with its Russian sentence. After each step the real
indicators service says the period's state beside the school's value, on the municipality
table's row and on the municipality's roll-up (ADR 0006, 0010), and the value is the one the
uploaded marks give.

Plans serves on a real local port (uvicorn) because ingest reaches it by ``SHKALA_PLANS_URL``;
ingest, indicators and notify run in-process. Each service has its own database.

Expected values are counted from the uploaded marks (share of mark «2» in ВПР maths = results
with mark 2 / results × 100, seed 002), never from the service's code.
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

from shkala_indicators.bootstrap import bootstrap as indicators_bootstrap
from shkala_indicators.settings import Settings as IndicatorsSettings
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
MATH = "vpr_mark2_share_math"
STATES = ("open", "submitted", "returned", "approved", "locked")  # indicators' README


def vpr(school: str, year: str, marks: list[int]) -> bytes:
    """One ВПР maths file of grade 5: a row per mark, students STU-0000, STU-0001, … (the
    same students in every file: a later file corrects the earlier one's results)."""
    date = f"15.04.20{year[5:7]}"
    rows = [
        f"{school};{year};математика;5;5А;STU-{i:04d};Ученик {i};{date};1;{mark};4;нет;1"
        for i, mark in enumerate(marks)
    ]
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1251")


def mark2_share(marks: list[int]) -> float:
    """Seed 002: results with mark «2» / all results × 100."""
    return sum(m == 2 for m in marks) / len(marks) * 100


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
    # the indicators projection in the test's own database (dropped by the fixture)
    indicators_s = IndicatorsSettings(**{**base, "service_name": "indicators"})
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
        await _walk(plans_app, plans_s, ingest_s, indicators_s, notify_s, hook, monkeypatch)
    finally:
        from shkala_runtime.mongo import make_client

        client = make_client(test_settings)
        for suffix in ("_p", "_i", "_n"):
            await client.drop_database(db + suffix)
        await client.close()


class Indicators:
    """What the indicators service answers about s1 in a period (2025/26 unless named)."""

    def __init__(self, api: httpx.AsyncClient, settings: ServiceSettings) -> None:
        self.api = api
        self.school = tok(settings, "school", municipality="m1", school="s1")
        self.municipality = tok(settings, "municipality", municipality="m1")
        self.region = tok(settings, "region")

    async def _get(
        self, path: str, headers: dict[str, str], period: str, **params: Any
    ) -> dict[str, Any]:
        r = await self.api.get(path, params={"period": period, **params}, headers=headers)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def shows(
        self,
        state: str,
        marks: list[int],
        *,
        upload: httpx.Response | None = None,
        period: str = "2025/26",
    ) -> None:
        """The school value, the municipality table's row and roll-up and the region's
        summary of m1 carry ``state``; the value is the share the marks give. ``upload``: an
        ingest answer whose log positions the first read waits for (read-your-writes); the
        state comes from plans' events, so that read is repeated until it shows it."""
        after = [
            ("after", f"{topic}:{part}:{offset}")
            for topic, parts in (upload.json()["log_positions"] if upload else {}).items()
            for part, offset in parts.items()
        ]
        path = f"/schools/s1/indicators/{MATH}"
        seen: list[str] = []

        async def applied() -> bool:
            r = await self.api.get(
                path, params=[("period", period), *after, ("wait_ms", "10000")],
                headers=self.school,
            )  # fmt: skip
            seen[:] = [r.text]
            return r.status_code == 200 and r.json()["freshness"]["after"]["satisfied"]

        async def showing() -> tuple[dict[str, Any], dict[str, Any]] | None:
            one = await self.api.get(path, params={"period": period}, headers=self.school)
            table = await self.api.get(
                "/municipalities/m1/table", params={"period": period}, headers=self.municipality
            )
            seen[:] = [one.text, table.text]
            if one.status_code != 200 or table.status_code != 200:
                return None
            rows = table.json()["rows"]
            if one.json()["approval"] != state or not rows or rows[0]["approval"] != state:
                return None  # plans' event (or the registry) not read yet
            return one.json(), table.json()

        try:
            if after:  # at most 10 s a read; more only while the service starts
                await eventually(applied, within=60, what="the upload applied")
            one, table = await eventually(showing, within=60, what=f"s1 {period} {state}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the last answers: {seen}") from None
        expected = pytest.approx(mark2_share(marks), abs=1e-6)
        assert one["value"]["value"] == expected, one
        assert one["value"]["approval"] == state

        summary = {
            "schools": 1,
            "approved": int(state in ("approved", "locked")),
            "by_state": {s: int(s == state) for s in STATES},
            "rests_on_approved": state in ("approved", "locked"),
        }
        assert table["basis"] == "live"
        (row,) = table["rows"]
        assert (row["school_id"], row["approval"]) == ("s1", state)
        assert row["values"][MATH] == expected
        assert table["approval"] == summary
        assert table["municipality"][MATH]["value"] == expected
        assert table["municipality"][MATH]["approval"] == summary
        region = await self._get("/region/summary", self.region, period)
        assert region["approval"]["municipalities"]["m1"] == summary

    async def approved_basis(self, marks: list[int] | None, left_out: str = "") -> None:
        """The approved-only table: s1 counted with the marks of its approval, or left out
        (named with its state) while not approved."""
        table = await self._get(
            "/municipalities/m1/table", self.municipality, "2025/26", basis="approved"
        )
        assert table["basis"] == "approved"
        if marks is None:
            assert table["rows"] == []
            assert table["counted"]["schools"] == 0
            assert [(x["school_id"], x["approval"]) for x in table["counted"]["left_out"]] == [
                ("s1", left_out)
            ]
            return
        (row,) = table["rows"]
        assert row["values"][MATH] == pytest.approx(mark2_share(marks), abs=1e-6)
        assert row["changed_since_approval"] is False
        assert (table["counted"]["schools"], table["counted"]["of"]) == (1, 1)


async def _walk(plans_app, plans_s, ingest_s, indicators_s, notify_s, hook, monkeypatch) -> None:
    async with served(plans_app) as plans_url:
        monkeypatch.setenv("SHKALA_PLANS_URL", plans_url)
        plans = httpx.AsyncClient(base_url=plans_url, timeout=30)
        async with (
            plans,
            asgi(ingest_bootstrap(ingest_s).app) as ingest,
            asgi(indicators_bootstrap(indicators_s).app) as indicators_api,
            asgi(notify_bootstrap(notify_s).app) as notify,
        ):
            indicators = Indicators(indicators_api, indicators_s)
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

            first, fixed, late = [2, 2, 3, 4], [2, 4, 4, 4], [2, 2, 2, 2]  # 50 %, 25 %, 100 %
            r = await upload(vpr("s1", "2025/26", first), "first.csv")
            assert r.status_code == 202, r.text
            assert r.json()["status"] == "completed"
            await indicators.shows("open", first, upload=r)  # plans said nothing yet

            p = "/periods/s1/2025-26"
            assert (await plans.post(f"{p}/submit", json={}, headers=s1)).status_code == 200
            await indicators.shows("submitted", first)
            await indicators.approved_basis(None, left_out="submitted")
            r = await plans.post(
                f"{p}/return", headers=m1, json={"reason": "отметки не совпадают с журналом"}
            )
            assert r.json()["state"] == "returned"
            await indicators.shows("returned", first)
            # while returned the school corrects its data: the upload goes through
            r = await upload(vpr("s1", "2025/26", fixed), "fixed.csv")
            assert r.json()["status"] == "completed", r.text
            await indicators.shows("returned", fixed, upload=r)
            r = await plans.post(f"{p}/submit", json={"note": "исправлено"}, headers=s1)
            assert r.json()["state"] == "submitted"
            await indicators.shows("submitted", fixed)
            assert (await plans.post(f"{p}/approve", json={}, headers=m1)).json()["approved"]
            await indicators.shows("approved", fixed)
            await indicators.approved_basis(fixed)
            r = await plans.post(f"{p}/lock", json={}, headers=region)
            assert r.json()["state"] == "locked", r.text
            await indicators.shows("locked", fixed)
            await indicators.approved_basis(fixed)

            before = await topic_count(ingest_s, "shkala.facts.assessment.v1")
            r = await upload(vpr("s1", "2025/26", late), "late.csv")
            assert r.status_code == 409, r.text
            problem = r.json()["problem"] if "problem" in r.json() else r.json()
            assert problem["type"].endswith("period-locked")
            assert "2025/26" in problem["detail"]
            assert "s1" in problem["detail"]
            assert "региональный оператор" in problem["detail"]
            assert problem["locked_periods"][0]["reopen_by"] == "region"
            assert {e["row"] for e in problem["errors"]} == {2, 3, 4, 5}
            assert all(e["code"] == "period-locked" for e in problem["errors"])
            # withdrawing a result (отзыв данных) would change the locked period too
            r = await ingest.post(
                "/withdrawals/vpr",
                headers=s1,
                json={"rows": [{"school_id": "s1", "subject": "математика", "grade": 5,
                                "academic_year": "2025/26", "student_id": "STU-0000"}]},
            )  # fmt: skip
            assert r.status_code == 409, r.text
            assert r.json()["type"].endswith("period-locked")
            assert "региональный оператор" in r.json()["detail"]
            # another school year of the same school is open: accepted (not the year before,
            # whose ВПР counts in 2025/26's two-year shares: that would move them)
            older = [2, 2, 2, 5]  # 75 %
            r = await upload(vpr("s1", "2022/23", older), "older.csv")
            assert r.json()["status"] == "completed", r.text
            after = await topic_count(ingest_s, "shkala.facts.assessment.v1")
            assert after - before == 4  # only the 2022/23 rows: the refusals changed nothing
            # the 2022/23 rows follow anything the refusals could have sent on s1's
            # partition: once indicators applied them, the locked period is unchanged
            await indicators.shows("open", older, upload=r, period="2022/23")
            await indicators.shows("locked", fixed)
            await indicators.approved_basis(fixed)

            # reopened with a reason, the same late file goes through
            r = await plans.post(f"{p}/reopen", json={"reason": "апелляция"}, headers=region)
            assert r.json()["state"] == "open"
            r = await upload(vpr("s1", "2025/26", late), "late.csv")
            assert r.json()["status"] == "completed", r.text
            await indicators.shows("open", late, upload=r)
            await indicators.approved_basis(None, left_out="open")  # until approved again

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
