"""Hostile and broken files on the real broker and database: each is refused with a 4xx
problem naming what and where, the service stays ready and small, the next good file lands."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from shkala_ingest.adapters.table_reader import WorkerTableReader
from shkala_ingest.domain.tables import ReadLimits, TableError
from shkala_runtime.settings import ServiceSettings

from ..hostile_files import binary_file, bomb_xlsx, sparse_xlsx
from .helpers import auth, ingest_settings, read_topic, register, running
from .test_uploads import HEADER, SCHOOLS, cp1251_csv, vpr_rows

ASSESSMENT = "shkala.facts.assessment.v1"


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


async def _finished(client: Any, location: str, who: dict[str, str]) -> dict[str, Any]:
    for _ in range(200):
        answer = (await client.get(location, headers=who)).json()
        if answer["status"] != "processing":
            return answer  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{location} still processing")


def malformed_csvs() -> dict[str, tuple[bytes, int | None]]:
    """name → (file, the row the answer must name, if one)."""
    good = vpr_rows(4)
    huge = good[1].replace("5А", "5А" + "Я" * (1 << 20))  # a 1 MB cell in row 3
    bare_cr = good[2].replace("математика", "мате\rматика")  # row 4 broken in two
    return {
        "one-megabyte-cell": (cp1251_csv([good[0], huge, good[2]]), 3),
        "bare-cr": (cp1251_csv([good[0], good[1], bare_cr, good[3]]), 4),
        "binary": (binary_file(), None),
        "nul-inside": (cp1251_csv(good[:2]) + b"sch-a;\x00\x00;x\r\n", 4),
        "header-only": ((HEADER + "\r\n").encode("cp1251"), 1),
    }


async def test_hostile_files_get_4xx_and_the_service_carries_on(
    test_settings: ServiceSettings,
) -> None:
    settings = ingest_settings(test_settings, max_unpacked_bytes=64 << 20)
    region = auth(settings, "region")
    school = auth(settings, "school", municipality="mo-1", school="sch-a")
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        uploads: list[tuple[str, bytes, str, dict[str, str], int | None]] = [
            ("sparse.xlsx", sparse_xlsx(), "application/octet-stream", school, 1048576),
            ("sparse-dim.xlsx", sparse_xlsx(True), "application/octet-stream", school, 1048576),
            ("bomb.xlsx", bomb_xlsx(200), "application/octet-stream", region, None),
        ]
        uploads += [
            (f"{name}.csv", data, "text/csv", region, row)
            for name, (data, row) in malformed_csvs().items()
        ]
        Path("/proc/self/clear_refs").write_text("5")  # noqa: ASYNC240 - peak RSS from here
        base = _kib("VmRSS")
        for name, data, ctype, who, row in uploads:
            for query in ("?dry_run=true", ""):
                for prefer in ({}, {"Prefer": "respond-async"}):
                    r = await client.post(
                        f"/imports/vpr{query}",
                        headers={**who, **prefer},
                        files={"file": (name, data, ctype)},
                    )
                    if prefer and r.status_code == 202:
                        # refused only by its rows (found after the answer): the import says so
                        problem = (await _finished(client, r.headers["location"], who))["problem"]
                        assert 400 <= problem["status"] < 500, (name, problem)
                    else:
                        assert 400 <= r.status_code < 500, (name, query, prefer, r.text)
                        assert r.headers["content-type"].startswith("application/problem+json")
                        problem = r.json()
                    assert problem["errors"], (name, problem)
                    if row is not None:
                        assert row in [e["row"] for e in problem["errors"]], (name, problem)
                        assert (
                            f"row {row}" in problem["detail"] or problem["errors"][0]["reason"]
                        ), problem
            ready = await client.get("/ready")
            assert ready.status_code == 200, (name, ready.text)
        peak_growth_mib = (_kib("VmHWM") - base) / 1024
        assert peak_growth_mib < 150, peak_growth_mib
        assert await read_topic(settings, ASSESSMENT) == []

        r = await client.post(
            "/imports/vpr",
            headers=region,
            files={"file": ("vpr.csv", cp1251_csv(vpr_rows(9)), "text/csv")},
        )
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed"
        assert len(await read_topic(settings, ASSESSMENT)) == 9


def test_reasons_name_the_limit() -> None:
    import io

    from shkala_ingest.domain.tables import read_stream

    with pytest.raises(TableError, match="reaches column 16384"):
        read_stream(io.BytesIO(sparse_xlsx()))
    with pytest.raises(TableError, match="unpacks to 200 MiB"):
        read_stream(io.BytesIO(bomb_xlsx(200)), ReadLimits(max_unpacked_bytes=64 << 20))


async def test_the_memory_fence_holds_when_the_checks_are_off(tmp_path: Path) -> None:
    """Without the pre-checks a sparse workbook makes calamine allocate the whole grid: the
    worker process dies at its memory limit and the file is refused, the caller lives on."""
    path = tmp_path / "sparse.xlsx"
    path.write_bytes(sparse_xlsx())
    off = ReadLimits(max_rows=10**9, max_columns=10**6, max_cells=10**15)
    reader = WorkerTableReader(off, memory_bytes=1 << 30)

    async def read_all() -> None:
        async with reader.open(path) as table:
            async for _ in table.chunks:
                pass

    with pytest.raises(TableError, match="MiB of memory"):
        await read_all()
