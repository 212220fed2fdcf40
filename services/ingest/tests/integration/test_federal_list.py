"""The federal list of schools with signs of non-objective results (seed 004) as an upload:
bad rows reject the whole file naming row and column, nothing is published; a good file
publishes one fact per row; a changed row is a correction."""

from __future__ import annotations

import json

from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, register, running

TOPIC = "shkala.facts.school_context.v1"
TYPE = "ru.shkala.fact.federal_nonobjectivity_listed.v1"
SCHOOLS = [("mo-1", "sch-a"), ("mo-1", "sch-b"), ("mo-2", "sch-c")]
HEADER = "Код ОО;Учебный год;Процедура;В перечне;Предметы;Параллели;Документ"


def csv(rows: list[str]) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1251")


async def test_bad_rows_rejected_whole_then_good_file_published(
    test_settings: ServiceSettings,
) -> None:
    settings = ingest_settings(test_settings)
    region = auth(settings, "region")
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        good = [
            "sch-a;2025/26;ВПР;да;математика;5;письмо 1",
            'sch-c;2025/26;ВПР;да;"математика; русский язык";"5; 8";письмо 1',
        ]
        bad = [
            good[0],
            "sch-b;2025/26;ВПП;да;математика;5;письмо 1",  # row 3: unknown procedure
            "sch-c;2025/26;ВПР;может быть;;;",  # row 4: not a yes/no
            "sch-x;2025/26;ВПР;да;;12;",  # row 5: unknown school, grade 12
        ]
        r = await client.post(
            "/imports/federal-objectivity-list",
            headers=region,
            files={"file": ("list.csv", csv(bad), "text/csv")},
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        cells = {(e["row"], e["column"]) for e in problem["errors"]}
        assert (3, "Процедура") in cells, problem
        assert (4, "В перечне") in cells, problem
        assert (5, "Параллели") in cells or (5, "Код ОО") in cells, problem
        assert all(e["row"] != 2 for e in problem["errors"])  # the good row is not blamed
        assert await read_topic(settings, TOPIC) == []  # nothing published

        r = await client.post(
            "/imports/federal-objectivity-list",
            headers=region,
            files={"file": ("list.csv", csv(good), "text/csv")},
        )
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed", r.text
        records = await read_topic(settings, TOPIC)
        facts = [
            json.loads(rec.value)
            for rec in records
            if dict(rec.headers).get("ce_type", b"").decode() == TYPE
        ]
        by_school = {f["school_id"]: f for f in facts}
        assert set(by_school) == {"sch-a", "sch-c"}
        assert by_school["sch-c"]["subjects"] == ["математика", "русский язык"]
        assert by_school["sch-c"]["grades"] == [5, 8]
        assert by_school["sch-a"]["listed"] is True
        assert by_school["sch-a"]["procedure"] == "ВПР"

        # a later file takes sch-a off the list: a correction of the same natural key
        r = await client.post(
            "/imports/federal-objectivity-list",
            headers=region,
            files={"file": ("list2.csv", csv(["sch-a;2025/26;ВПР;нет;математика;5;письмо 2"]),
                            "text/csv")},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        again = [
            rec
            for rec in await read_topic(settings, TOPIC)
            if dict(rec.headers).get("ce_type", b"").decode() == TYPE
        ]
        last = max(
            (r for r in again if json.loads(r.value)["school_id"] == "sch-a"),
            key=lambda r: int(dict(r.headers)["ce_originatorversion"]),
        )
        assert int(dict(last.headers)["ce_originatorversion"]) == 2
        assert json.loads(last.value)["listed"] is False

        # a school token may not upload another school's row: refused, nothing published
        before = len(await read_topic(settings, TOPIC))
        r = await client.post(
            "/imports/federal-objectivity-list",
            headers=auth(settings, "school", municipality="mo-1", school="sch-b"),
            files={"file": ("l.csv", csv(["sch-c;2025/26;ВПР;да;;;"]), "text/csv")},
        )
        assert r.status_code == 403, r.text
        assert len(await read_topic(settings, TOPIC)) == before
