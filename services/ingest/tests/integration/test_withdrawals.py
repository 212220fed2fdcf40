"""Withdrawing a wrong fact: a versioned tombstone on the fact's own stream, tenant-checked,
all rows or none; the same fact submitted again afterwards is its stream's next version."""

from __future__ import annotations

from shkala_contracts import Envelope
from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, register, running
from .test_uploads import SCHOOLS, cp1251_csv, raw_id, vpr_rows

ASSESSMENT = "shkala.facts.assessment.v1"


def key(i: int) -> dict[str, object]:
    """The natural key of vpr_rows()[i] (school, subject, year, grade, student)."""
    return {
        "school_id": SCHOOLS[i % 3][1],
        "subject": "математика",
        "academic_year": "2025/26",
        "grade": 5,
        "student_id": raw_id(i),
    }


async def test_withdrawal_is_the_facts_next_version_and_tenant_checked(
    test_settings: ServiceSettings,
) -> None:
    settings = ingest_settings(test_settings)
    region = auth(settings, "region")
    school_a = auth(settings, "school", municipality="mo-1", school="sch-a")
    data = cp1251_csv(vpr_rows(6))
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        r = await client.post(
            "/imports/vpr", headers=region, files={"file": ("v.csv", data, "text/csv")}
        )
        assert r.json()["status"] == "completed", r.text
        facts = {
            Envelope.from_headers(x.headers).originator_id: x
            for x in await read_topic(settings, ASSESSMENT)
        }

        # a school may not withdraw another school's fact; nothing is withdrawn then
        r = await client.post("/withdrawals/vpr", headers=school_a, json={"rows": [key(0), key(1)]})
        assert r.status_code == 403, r.text
        assert [e["row"] for e in r.json()["errors"]] == [2]
        # a key naming no fact on the log
        r = await client.post(
            "/withdrawals/vpr",
            headers=school_a,
            json={"rows": [key(0) | {"subject": "физика"}]},
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["code"] == "unknown-fact"
        assert len(await read_topic(settings, ASSESSMENT)) == 6

        r = await client.post(
            "/withdrawals/vpr",
            headers=school_a,
            json={"rows": [key(0), key(3)], "reason": "ошибочно внесены"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["withdrawn"] == 2
        records = await read_topic(settings, ASSESSMENT)
        tombstones = [x for x in records if dict(x.headers)["ce_type"].endswith(b"withdrawn.v1")]
        assert len(tombstones) == 2
        for t in tombstones:
            env = Envelope.from_headers(t.headers)
            assert env.originator_id in facts  # the withdrawn fact's own stream
            assert env.originator_version == 2
            assert t.key == b"sch-a"
        positions = r.json()["log_positions"][settings.topic_name(ASSESSMENT)]
        assert max(positions.values()) >= max(t.offset for t in tombstones)

        # withdrawn already: refused; the same fact sent again is the stream's version 3
        r = await client.post("/withdrawals/vpr", headers=school_a, json={"rows": [key(0)]})
        assert r.status_code == 422, r.text
        r = await client.post(
            "/imports/vpr",
            headers=region,
            files={"file": ("v.csv", data + b"\r\n", "text/csv")},
        )
        assert r.json()["status"] == "completed", r.text
        assert r.json()["progress"]["rows_published"] == 2  # the two withdrawn come back
        assert r.json()["corrections"] == 2
