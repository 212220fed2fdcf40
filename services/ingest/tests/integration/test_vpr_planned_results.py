"""The ВПР task → planned-result mapping (описание КИМ) as an upload: reference data naming
no school. Bad rows reject the whole file naming row and column, nothing published; a good
file publishes one fact per (task, planned result) with the uploader's tenant; a school
token is refused; a changed text is a correction of the same natural key."""

from __future__ import annotations

import json

from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, running

TOPIC = "shkala.reference.v1"
TYPE = "ru.shkala.reference.vpr_task_planned_result.v1"
HEADER = "Учебный год;Предмет;Параллель;Номер задания;Код ПР;Планируемый результат"


def csv(rows: list[str]) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1251")


def facts(records: list) -> list[tuple[dict, dict]]:
    return [
        (json.loads(r.value), {k: v.decode() for k, v in r.headers})
        for r in records
        if dict(r.headers).get("ce_type", b"").decode() == TYPE
    ]


async def test_mapping_upload(test_settings: ServiceSettings) -> None:
    settings = ingest_settings(test_settings)
    mun = auth(settings, "municipality", municipality="mo-1")
    async with running(settings) as client:
        good = [
            "2025/26;математика;5;1;1.1;Выполнять арифметические действия с натуральными числами",
            "2025/26;математика;5;1;1.2;Решать задачи на движение",  # two results, one task
            "2025/26;математика;5;9.1;3.4;Читать информацию, представленную в таблицах",
        ]
        bad = [
            good[0],
            "2025/26;математика;12;2;2.1;Умение",  # row 3: grade 12
            "2025/26;математика;5;второе;2.1;Умение",  # row 4: not a task number
            "2025/26;математика;5;3;;Умение",  # row 5: no code
            "2025/26;математика;5;1;1.1;Другой текст",  # row 6: same key as row 2, other text
        ]
        r = await client.post(
            "/imports/vpr-planned-results",
            headers=mun,
            files={"file": ("kim.csv", csv(bad), "text/csv")},
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        cells = {(e["row"], e["column"]) for e in problem["errors"]}
        assert (3, "Параллель") in cells, problem
        assert (4, "Номер задания") in cells, problem
        assert (5, "Код планируемого результата") in cells, problem
        assert any(e["row"] == 6 and e["code"] == "duplicate" for e in problem["errors"]), problem
        assert all(e["row"] != 2 for e in problem["errors"])  # the good row is not blamed
        assert await read_topic(settings, TOPIC) == []

        # a school may not load reference data: refused before anything is read
        r = await client.post(
            "/imports/vpr-planned-results",
            headers=auth(settings, "school", municipality="mo-1", school="sch-a"),
            files={"file": ("kim.csv", csv(good), "text/csv")},
        )
        assert r.status_code == 403, r.text
        assert await read_topic(settings, TOPIC) == []

        r = await client.post(
            "/imports/vpr-planned-results",
            headers=mun,
            files={"file": ("kim.csv", csv(good), "text/csv")},
        )
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed", r.text
        got = facts(await read_topic(settings, TOPIC))
        assert sorted((f["task"], f["planned_result_code"]) for f, _ in got) == [
            ("1", "1.1"), ("1", "1.2"), ("9.1", "3.4"),
        ]  # fmt: skip
        assert all(f["grade"] == 5 and f["subject"] == "математика" for f, _ in got)
        assert all(h["ce_municipality"] == "mo-1" and "ce_school" not in h for _, h in got)

        # the region corrects one text: version 2 of the same stream, the rest unchanged
        fixed = [good[0], "2025/26;математика;5;1;1.2;Решать текстовые задачи на движение"]
        r = await client.post(
            "/imports/vpr-planned-results",
            headers=auth(settings, "region"),
            files={"file": ("kim2.csv", csv(fixed), "text/csv")},
        )
        assert r.status_code == 202, r.text
        got = facts(await read_topic(settings, TOPIC))
        assert len(got) == 4
        last = max(
            (x for x in got if x[0]["planned_result_code"] == "1.2"),
            key=lambda x: int(x[1]["ce_originatorversion"]),
        )
        assert int(last[1]["ce_originatorversion"]) == 2
        assert last[0]["planned_result"] == "Решать текстовые задачи на движение"

        # reference rows are corrected by a new upload, never withdrawn: refused, said why
        r = await client.post(
            "/withdrawals/vpr-planned-results",
            headers=auth(settings, "region"),
            json={"rows": [{"academic_year": "2025/26", "subject": "математика", "grade": 5,
                            "task": "1", "planned_result_code": "1.1"}]},
        )  # fmt: skip
        assert r.status_code == 403, r.text
        assert "upload its rows corrected" in r.json()["detail"]
        assert len(facts(await read_topic(settings, TOPIC))) == 4
