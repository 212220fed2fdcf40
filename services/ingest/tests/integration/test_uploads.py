"""Uploads on the real broker and database: reject whole, publish once, replay, tenants."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from shkala_contracts import Envelope
from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, register, running

ASSESSMENT = "shkala.facts.assessment.v1"
SCHOOLS = [("mo-1", "sch-a"), ("mo-1", "sch-b"), ("mo-2", "sch-c")]
HEADER = (
    "Код ОО;Учебный год;Предмет;Параллель;Класс;Код участника;ФИО;Дата;Первичный балл;"
    "Отметка;Отметка по журналу;Общественное наблюдение;Задание 1 (макс 1);Задание 2 (макс 2,5)"
)


def raw_id(i: int) -> str:
    return f"STU-{i:06d}-Z"


def vpr_rows(n: int = 20, bad: dict[int, str] | None = None) -> list[str]:
    """Data rows; ``bad`` maps a data index to what is wrong with it."""
    rows = []
    for i in range(n):
        school = SCHOOLS[i % 3][1]
        mark, date, grade = str(2 + i % 4), "15.04.2026", "5"
        what = (bad or {}).get(i)
        if what == "mark":
            mark = "6"
        elif what == "date":
            date = "15.04.2027"  # the next academic year
        elif what == "grade":
            grade = "пятый"
        rows.append(
            f"{school};2025/26;математика;{grade};5А;{raw_id(i)};Иванов Иван {i};{date};"
            f"{i % 7},5;{mark};4;{'да' if i % 2 else 'нет'};1;1,5"
        )
    return rows


def cp1251_csv(rows: list[str]) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1251")


async def test_bad_rows_reject_whole_file_then_fixed_file_publishes_once(
    test_settings: ServiceSettings,
) -> None:
    settings = ingest_settings(test_settings)
    region = auth(settings, "region")
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)

        # three bad rows: data indices 3, 8, 15 → file rows 5, 10, 17 (header is row 1)
        bad = cp1251_csv(vpr_rows(bad={3: "mark", 8: "date", 15: "grade"}))
        r = await client.post(
            "/imports/vpr", headers=region, files={"file": ("vpr.csv", bad, "text/csv")}
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["total_errors"] == 3
        by_row = {e["row"]: e for e in problem["errors"]}
        assert set(by_row) == {5, 10, 17}
        assert by_row[5]["column"] == "Отметка"
        assert by_row[5]["value"] == "6"
        assert by_row[10]["column"] == "Дата"
        assert "academic year" in by_row[10]["reason"]
        assert by_row[17]["column"] == "Параллель"
        assert await read_topic(settings, ASSESSMENT) == []

        # dry run of the fixed file: validated, still nothing published
        fixed = cp1251_csv(vpr_rows())
        r = await client.post(
            "/imports/vpr?dry_run=true",
            headers=region,
            files={"file": ("vpr.csv", fixed, "text/csv")},
        )
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "validated"
        assert r.json()["progress"]["rows_validated"] == 20
        assert await read_topic(settings, ASSESSMENT) == []

        r = await client.post(
            "/imports/vpr", headers=region, files={"file": ("vpr.csv", fixed, "text/csv")}
        )
        assert r.status_code == 202, r.text
        first = r.json()
        assert first["status"] == "completed"
        assert first["counts"] == {"ru.shkala.fact.assessment_result.v1": 20}
        assert first["file"]["encoding"] == "cp1251"
        assert first["file"]["delimiter"] == ";"
        assert "ФИО" in first["file"]["ignored_columns"]

        records = await read_topic(settings, ASSESSMENT)
        assert len(records) == 20
        key = settings.pseudonym_key.get_secret_value().encode()
        expected_students = {
            "p" + hmac.new(key, f"student\x1f{raw_id(i)}".encode(), hashlib.sha256).hexdigest()[:24]
            for i in range(20)
        }
        seen_students = set()
        for rec in records:
            env = Envelope.from_headers(rec.headers)
            assert env.type == "ru.shkala.fact.assessment_result.v1"
            assert env.specversion == "1.0"
            assert env.source == "/shkala/ingest"
            assert env.originator_version == 1
            assert env.tenant.region == "demo"
            assert env.tenant.school == rec.key.decode()
            event = json.loads(rec.value)
            assert re.fullmatch(r"p[0-9a-f]{24}", event["student"])
            seen_students.add(event["student"])
            assert event["tasks"][1] == {"task": "2", "points": 1.5, "max_points": 2.5}
            blob = rec.value + b"".join(v for _, v in rec.headers) + (rec.key or b"")
            assert b"STU-" not in blob
            assert "Иванов".encode() not in blob
        assert seen_students == expected_students  # every row exactly once

        # the same file again: nothing published, the first answer returned
        r = await client.post(
            "/imports/vpr", headers=region, files={"file": ("again.csv", fixed, "text/csv")}
        )
        assert r.status_code == 202
        assert r.headers["idempotent-replayed"] == "true"
        assert r.json()["import_id"] == first["import_id"]
        assert r.json()["counts"] == first["counts"]
        assert len(await read_topic(settings, ASSESSMENT)) == 20

        # one mark corrected, one row added: 1 correction + 1 new, 19 unchanged
        rows = vpr_rows(21)
        rows[1] = rows[1].replace(";3;4;", ";5;4;")
        r = await client.post(
            "/imports/vpr",
            headers=region,
            files={"file": ("v2.csv", cp1251_csv(rows), "text/csv")},
        )
        assert r.status_code == 202, r.text
        answer = r.json()
        assert answer["counts"] == {"ru.shkala.fact.assessment_result.v1": 2}
        assert answer["corrections"] == 1
        assert answer["progress"]["rows_unchanged"] == 19
        records = await read_topic(settings, ASSESSMENT)
        assert len(records) == 22
        versions = sorted(Envelope.from_headers(r.headers).originator_version for r in records)
        assert versions.count(2) == 1


async def test_tenants_school_and_municipality_tokens(test_settings: ServiceSettings) -> None:
    settings = ingest_settings(test_settings)
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        rows = vpr_rows(6)  # rows of sch-a, sch-b, sch-c, sch-a, sch-b, sch-c
        school_a = auth(settings, "school", municipality="mo-1", school="sch-a")
        r = await client.post(
            "/imports/vpr",
            headers=school_a,
            files={"file": ("v.csv", cp1251_csv(rows), "text/csv")},
        )
        assert r.status_code == 403, r.text
        errors = r.json()["errors"]
        assert {e["row"] for e in errors} == {3, 4, 6, 7}
        assert all(e["code"] == "forbidden" and e["column"] == "Код ОО" for e in errors)
        assert await read_topic(settings, ASSESSMENT) == []

        own = [row for row in rows if row.startswith("sch-a;")]
        r = await client.post(
            "/imports/vpr", headers=school_a, files={"file": ("v.csv", cp1251_csv(own), "text/csv")}
        )
        assert r.status_code == 202, r.text
        assert r.json()["counts"] == {"ru.shkala.fact.assessment_result.v1": 2}

        mun_1 = auth(settings, "municipality", municipality="mo-1")
        r = await client.post(
            "/imports/vpr", headers=mun_1, files={"file": ("v.csv", cp1251_csv(rows), "text/csv")}
        )
        assert r.status_code == 403
        assert {e["row"] for e in r.json()["errors"]} == {4, 7}  # the sch-c rows

        # a school cannot load the registry; nobody can read another tenant's import
        r = await client.post(
            "/imports/org-units", headers=school_a, files={"file": ("o.csv", b"x", "text/csv")}
        )
        assert r.status_code == 403
        mun_2 = auth(settings, "municipality", municipality="mo-2")
        first = await client.post(
            "/imports/vpr?dry_run=true",
            headers=school_a,
            files={"file": ("v.csv", cp1251_csv(own), "text/csv")},
        )
        r = await client.get(f"/imports/{first.json()['import_id']}", headers=mun_2)
        assert r.status_code == 404
        r = await client.get(f"/imports/{first.json()['import_id']}", headers=mun_1)
        assert r.status_code == 200


async def test_unregistered_school_and_layout_problems(test_settings: ServiceSettings) -> None:
    settings = ingest_settings(test_settings)
    region = auth(settings, "region")
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        rows = [vpr_rows(1)[0].replace("sch-a;", "sch-x;", 1)]
        r = await client.post(
            "/imports/vpr", headers=region, files={"file": ("v.csv", cp1251_csv(rows), "text/csv")}
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["code"] == "unregistered"
        assert r.json()["errors"][0]["row"] == 2

        no_mark = "Код ОО,Учебный год,Предмет,Параллель,Код участника\nsch-a,2025/26,м,5,1\n"
        r = await client.post(
            "/imports/vpr", headers=region, files={"file": ("v.csv", no_mark.encode(), "text/csv")}
        )
        assert r.status_code == 422
        assert r.json()["type"].endswith("upload-layout")
        assert [e["column"] for e in r.json()["errors"]] == ["Отметка"]


async def test_json_batches_idempotency_key_and_size_limit(test_settings: ServiceSettings) -> None:
    settings = ingest_settings(test_settings, max_upload_bytes=10_000)
    region = auth(settings, "region")
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        rows = [
            {
                "school_id": "sch-b",
                "academic_year": "2025/26",
                "student_id": "S-1",
                "grade": 7,
                "period_start": "01.10.2025",
                "period_end": "2025-10-31",
                "lessons_missed": "12",
                "lessons_total": 140,
                "reason": "неуважительная",
            }
        ]
        headers = {**region, "Idempotency-Key": "batch-1"}
        r = await client.post("/batches/attendance", headers=headers, json={"rows": rows})
        assert r.status_code == 202, r.text
        assert r.json()["counts"] == {"ru.shkala.fact.lessons_missed.v1": 1}
        again = await client.post("/batches/attendance", headers=headers, json={"rows": rows})
        assert again.json()["import_id"] == r.json()["import_id"]
        other = [{**rows[0], "lessons_missed": 13}]
        r = await client.post("/batches/attendance", headers=headers, json={"rows": other})
        assert r.status_code == 422
        assert r.json()["type"].endswith("idempotency-key-reused")
        events = await read_topic(settings, "shkala.facts.attendance.v1")
        assert len(events) == 1
        assert b"S-1" not in events[0].value

        bad = [{**rows[0], "lessons_missed": -1, "colour": "red"}]
        r = await client.post("/batches/attendance", headers=region, json={"rows": bad})
        assert r.status_code == 422
        assert {e["column"] for e in r.json()["errors"]} == {"colour"}

        big = b"x" * 20_000
        r = await client.post(
            "/imports/vpr", headers=region, files={"file": ("big.csv", big, "text/csv")}
        )
        assert r.status_code == 413
        assert r.json()["limit_bytes"] == 10_000


async def test_formats_and_templates(test_settings: ServiceSettings) -> None:
    settings = ingest_settings(test_settings)
    school = auth(settings, "school", municipality="mo-1", school="sch-a")
    async with running(settings) as client:
        formats = (await client.get("/formats", headers=school)).json()
        assert "vpr" in {f["kind"] for f in formats}
        csv = await client.get("/formats/vpr/template.csv", headers=school)
        assert csv.status_code == 200
        assert csv.content.decode("utf-8-sig").startswith("Код ОО;Учебный год;")
        xlsx = await client.get("/formats/attendance/template.xlsx", headers=school)
        assert xlsx.content[:2] == b"PK"
        import io

        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content)).get_sheet_by_index(0)
        assert sheet.to_python()[0][:2] == ["Код ОО", "Учебный год"]
        assert (await client.get("/formats/nope/template.csv", headers=school)).status_code == 404
        assert (await client.get("/formats")).status_code == 401
        spec = (await client.get("/openapi.json")).json()
        assert "/imports/{kind}" in spec["paths"]
