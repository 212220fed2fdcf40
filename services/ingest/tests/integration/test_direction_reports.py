"""The reports of directions 4 and 9 (career guidance; upbringing) as uploads: a bad row
rejects the whole file naming its row and column, nothing is published; a good file
publishes one fact per row; a resubmitted row is a correction of the same natural key."""

from __future__ import annotations

import json

import pytest

from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, register, running

TOPIC = "shkala.facts.school_context.v1"
SCHOOLS = [("mo-1", "sch-a"), ("mo-1", "sch-b"), ("mo-2", "sch-c")]

CAREER = (
    "career-guidance",
    "ru.shkala.fact.career_guidance.v1",
    "Код ОО;Учебный год;Дата;Профильных классов;Обучающихся 10-11 кл.;В профильных классах;"
    "Обучающихся 6–11 кл.;Прошли профдиагностику;Выпускников 9 кл. поступили в СПО",
    [
        "sch-a;2025/26;01.06.2026;2;48;40;310;250;21",
        "sch-c;2025/26;01.06.2026;0;20;0;150;150;",
    ],
    [
        "sch-b;2025/26;01.06.2026;1;30;31;100;50;5",  # row 3: more in profile classes than 10-11
        "sch-b;2025/26;31.02.2026;1;30;10;100;50;5",  # row 4: no such date
        "sch-c;2025/26;01.06.2026;1;30;10;100;пятьдесят;5",  # row 5: not a number
    ],
    [(3, "В профильных классах"), (4, "Дата"), (5, "Прошли профдиагностику")],
)
UPBRINGING = (
    "upbringing",
    "ru.shkala.fact.upbringing.v1",
    "Код ОО;Учебный год;Дата;Всего обучающихся;Программа воспитания;"
    "Охвачены программой воспитания;В дополнительном образовании;Из них в «Кванториуме»;"
    "Центр «Точка роста»;«Точка роста» для основных и доп. программ",
    [
        "sch-a;2025/26;01.06.2026;640;да;600;410;35;да;да",
        "sch-c;2025/26;01.06.2026;120;да;120;30;;нет;нет",
    ],
    [
        "sch-b;2025/26;01.06.2026;100;да;90;120;0;нет;нет",  # row 3: more than all students
        "sch-b;2025/26;01.06.2026;100;может быть;90;20;0;нет;нет",  # row 4: not a yes/no
        "sch-c;2025/26;01.06.2026;100;да;90;20;5;нет;да",  # row 5: programmes without a centre
    ],
    [
        (3, "В дополнительном образовании"),
        (4, "Программа воспитания"),
        (5, "«Точка роста» для основных и доп. программ"),
    ],
)


def csv(header: str, rows: list[str]) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("cp1251")


@pytest.mark.parametrize("spec", [CAREER, UPBRINGING], ids=["career-guidance", "upbringing"])
async def test_bad_rows_rejected_whole_then_good_file_published(
    test_settings: ServiceSettings, spec: tuple
) -> None:
    kind, event_type, header, good, bad, cells = spec
    settings = ingest_settings(test_settings)
    region = auth(settings, "region")

    async def facts() -> list[dict]:
        return [
            json.loads(rec.value)
            for rec in await read_topic(settings, TOPIC)
            if dict(rec.headers).get("ce_type", b"").decode() == event_type
        ]

    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        r = await client.post(
            f"/imports/{kind}",
            headers=region,
            files={"file": ("f.csv", csv(header, [good[0], *bad]), "text/csv")},
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        got = {(e["row"], e["column"]) for e in problem["errors"]}
        for cell in cells:
            assert cell in got, (cell, problem)
        assert all(e["row"] != 2 for e in problem["errors"])  # the good row is not blamed
        assert await facts() == []  # nothing published

        r = await client.post(
            f"/imports/{kind}", headers=region,
            files={"file": ("f.csv", csv(header, good), "text/csv")},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed", r.text
        by_school = {f["school_id"]: f for f in await facts()}
        assert set(by_school) == {"sch-a", "sch-c"}
        if kind == "career-guidance":
            assert by_school["sch-a"]["students_in_profile_classes"] == 40
            assert by_school["sch-a"]["grade9_to_college"] == 21
            assert by_school["sch-c"]["grade9_to_college"] is None  # empty cell: not reported
        else:
            assert by_school["sch-a"]["tochka_rosta_programmes"] is True
            assert by_school["sch-a"]["students_kvantorium"] == 35
            assert by_school["sch-c"]["students_kvantorium"] == 0  # default when left empty

        # the same school and year again, one figure changed: a correction (version 2)
        changed = (
            good[0].replace(";40;", ";41;")
            if kind == "career-guidance"
            else good[0].replace(";600;", ";590;")
        )
        assert changed != good[0]
        r = await client.post(
            f"/imports/{kind}", headers=region,
            files={"file": ("f2.csv", csv(header, [changed]),
                            "text/csv")},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        records = [
            rec
            for rec in await read_topic(settings, TOPIC)
            if dict(rec.headers).get("ce_type", b"").decode() == event_type
            and json.loads(rec.value)["school_id"] == "sch-a"
        ]
        assert max(int(dict(rec.headers)["ce_originatorversion"]) for rec in records) == 2

        # a school token may not upload another school's report
        r = await client.post(
            f"/imports/{kind}",
            headers=auth(settings, "school", municipality="mo-1", school="sch-b"),
            files={"file": ("f.csv", csv(header, [good[1]]), "text/csv")},
        )
        assert r.status_code == 403, r.text
