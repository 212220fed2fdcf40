"""A 100,000-row XLSX imports in the background with progress visible while it runs."""

from __future__ import annotations

import asyncio
import io
import time

from openpyxl import Workbook

from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, register, running

ROWS = 100_000
SCHOOLS = [("mo-1", f"sch-{i:03d}") for i in range(20)]


def big_xlsx(rows: int) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("ВПР")
    ws.append(["Протокол ВПР, математика, 5 класс"])  # a title line above the header
    ws.append(
        ["Код ОО", "Учебный год", "Предмет", "Параллель", "Класс", "Код участника", "Дата",
         "Первичный балл", "Отметка", "Задание 1 (макс 1)", "Задание 2 (макс 2)"]
    )  # fmt: skip
    schools = [s for _, s in SCHOOLS]
    import datetime as dt

    held = dt.datetime(2026, 4, 15)
    for i in range(rows):
        ws.append(
            [schools[i % 20], "2025/26", "математика", 5, "5А", 100000 + i, held,
             i % 10, 2 + i % 4, i % 2, i % 3]
        )  # fmt: skip
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def test_100k_row_xlsx_shows_progress(test_settings: ServiceSettings) -> None:
    started = time.monotonic()
    data = await asyncio.to_thread(big_xlsx, ROWS)
    built_in = time.monotonic() - started
    settings = ingest_settings(test_settings)
    region = auth(settings, "region")
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        r = await client.post(
            "/imports/vpr",
            headers={**region, "Prefer": "respond-async"},
            files={"file": ("vpr.xlsx", data, "application/octet-stream")},
        )
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "processing"
        location = r.headers["location"]
        snapshots = []
        while True:
            answer = (await client.get(location, headers=region)).json()
            snapshots.append(answer)
            if answer["status"] != "processing":
                break
            await asyncio.sleep(0.1)
        assert answer["status"] == "completed", answer
        assert answer["counts"] == {"ru.shkala.fact.assessment_result.v1": ROWS}
        assert answer["progress"]["rows_published"] == ROWS
        assert answer["file"]["header_row"] == 2
        assert answer["progress"]["rows_expected"] == ROWS

        midway = [
            s["progress"]
            for s in snapshots
            if s["status"] == "processing"
            and (
                0 < s["progress"]["rows_validated"] < ROWS
                or 0 < s["progress"]["rows_published"] < ROWS
            )
        ]
        assert len(midway) >= 2, [s["progress"] for s in snapshots]
        published = [p["rows_published"] for p in midway]
        assert published == sorted(published)  # progress only moves forward

        records = await read_topic(settings, "shkala.facts.assessment.v1")
        assert len(records) == ROWS
    print(f"xlsx built in {built_in:.1f}s; whole test {time.monotonic() - started:.1f}s")
