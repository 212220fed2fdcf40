"""A mentoring pair names two schools — the mentee's and the mentor's (Школа наставника):
the tenant of both is checked, so a municipality cannot name another municipality's school
as the mentor's; nothing is published when a row is refused."""

from __future__ import annotations

from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, register, running

SCHOOLS = [("mo-1", "sch-a"), ("mo-1", "sch-b"), ("mo-2", "sch-c")]
HEADER = "Код ОО;Учебный год;Код наставника;Код наставляемого;Школа наставника"


def csv(rows: list[str]) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1251")


async def post(client, headers, body: bytes):
    return await client.post(
        "/imports/mentoring", headers=headers, files={"file": ("m.csv", body, "text/csv")}
    )


async def test_the_mentors_school_is_checked_like_the_mentees(
    test_settings: ServiceSettings,
) -> None:
    settings = ingest_settings(test_settings)
    mo1 = auth(settings, "municipality", municipality="mo-1")
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        before = len(await read_topic(settings, "shkala.facts.staffing.v1"))
        r = await post(
            client, mo1, csv(["sch-a;2025/26;T-1;T-2;sch-b", "sch-a;2025/26;T-3;T-4;sch-c"])
        )
        assert r.status_code == 403, r.text
        assert [(e["row"], e["column"], e["code"], e["value"]) for e in r.json()["errors"]] == [
            (3, "Школа наставника", "forbidden", "sch-c")
        ]
        r = await post(client, mo1, csv(["sch-a;2025/26;T-1;T-2;sch-x"]))
        assert r.status_code == 422, r.text
        assert [(e["row"], e["code"]) for e in r.json()["errors"]] == [(2, "unregistered")]
        assert len(await read_topic(settings, "shkala.facts.staffing.v1")) == before
        r = await post(client, mo1, csv(["sch-a;2025/26;T-1;T-2;sch-b"]))
        assert r.status_code in (200, 201, 202), r.text
