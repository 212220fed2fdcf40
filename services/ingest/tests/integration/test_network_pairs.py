"""Network pairs (seed 004 §4, seed 002) as an upload: a bad row rejects the whole file naming
row and column; a pair whose leading school is another municipality's is refused (the tenant
of both schools is checked); a good file publishes one ``NetworkPairFormed`` per row."""

from __future__ import annotations

import json

from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, register, running

TOPIC = "shkala.org_units.v1"
TYPE = "ru.shkala.org.network_pair.v1"
SCHOOLS = [("mo-1", "sch-a"), ("mo-1", "sch-b"), ("mo-1", "sch-d"), ("mo-2", "sch-c")]
HEADER = "Код ОО;Код ведущей ОО;Учебный год;Действует;Дата соглашения;Форма взаимодействия"


def csv(rows: list[str]) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1251")


async def pairs(settings) -> list[dict]:
    return [
        json.loads(rec.value)
        for rec in await read_topic(settings, TOPIC)
        if dict(rec.headers).get("ce_type", b"").decode() == TYPE
    ]


async def post(client, headers, body: bytes):
    return await client.post(
        "/imports/network-pairs", headers=headers, files={"file": ("p.csv", body, "text/csv")}
    )


async def test_network_pairs_upload(test_settings: ServiceSettings) -> None:
    settings = ingest_settings(test_settings)
    region = auth(settings, "region")
    mo1 = auth(settings, "municipality", municipality="mo-1")
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        good = "sch-b;sch-a;2025/26;да;15.09.2025;уроки педагогов ведущей школы"
        bad = [
            good,
            "sch-d;sch-x;2025/26;да;;",  # row 3: the leading school is not registered
            "sch-d;sch-d;2025/26;да;;",  # row 4: a school leading itself
            "sch-d;sch-a;2025/27;да;;",  # row 5: not an academic year
            "sch-d;sch-a;2025/26;может быть;;",  # row 6: not a yes/no
            "sch-d;sch-a;2025/26;да;15.09.2024;",  # row 7: agreement outside the year
        ]
        r = await post(client, region, csv(bad))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        cells = {(e["row"], e["column"]) for e in problem["errors"]}
        assert (3, "Код ведущей ОО") in cells, problem
        assert (4, "Код ведущей ОО") in cells, problem
        assert (5, "Учебный год") in cells, problem
        assert (6, "Действует") in cells, problem
        assert (7, "Дата соглашения") in cells, problem
        assert all(e["row"] != 2 for e in problem["errors"])  # the good row is not blamed
        unregistered = next(e for e in problem["errors"] if e["row"] == 3)
        assert unregistered["code"] == "unregistered"
        assert unregistered["value"] == "sch-x"
        assert await pairs(settings) == []  # nothing published

        # mo-1 names mo-2's school as the leader of its own school: refused, nothing sent
        r = await post(client, mo1, csv([good, "sch-d;sch-c;2025/26;да;;"]))
        assert r.status_code == 403, r.text
        errors = r.json()["errors"]
        assert [(e["row"], e["column"], e["code"], e["value"]) for e in errors] == [
            (3, "Код ведущей ОО", "forbidden", "sch-c")
        ], errors
        # … and mo-2's school supported by mo-1's: refused on the supported school's column
        r = await post(client, mo1, csv(["sch-c;sch-a;2025/26;да;;"]))
        assert r.status_code == 403, r.text
        assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(2, "Код ОО")]
        assert await pairs(settings) == []

        r = await post(client, mo1, csv([good]))
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed", r.text
        # the region may pair schools of two municipalities
        r = await post(client, region, csv(["sch-c;sch-a;2025/26;да;;"]))
        assert r.status_code == 202, r.text
        got = {(p["school_id"], p["leading_school_id"]): p for p in await pairs(settings)}
        assert set(got) == {("sch-b", "sch-a"), ("sch-c", "sch-a")}
        assert got[("sch-b", "sch-a")] | {} == {
            "school_id": "sch-b",
            "leading_school_id": "sch-a",
            "academic_year": "2025/26",
            "active": True,
            "since": "2025-09-15",
            "form": "уроки педагогов ведущей школы",
        }
        # ending the pair is a correction of the same stream (version 2)
        r = await post(client, mo1, csv(["sch-b;sch-a;2025/26;нет;15.09.2025;"]))
        assert r.status_code == 202, r.text
        recs = [
            rec
            for rec in await read_topic(settings, TOPIC)
            if dict(rec.headers).get("ce_type", b"").decode() == TYPE
            and json.loads(rec.value)["school_id"] == "sch-b"
        ]
        last = max(recs, key=lambda rec: int(dict(rec.headers)["ce_originatorversion"]))
        assert int(dict(last.headers)["ce_originatorversion"]) == 2
        assert json.loads(last.value)["active"] is False
