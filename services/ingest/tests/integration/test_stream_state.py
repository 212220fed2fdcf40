"""The state of fact streams (hash and version) per school and fact family, and streams
recorded before that split (one collection per school) still count: a re-upload after an
upgrade publishes corrections as corrections and leaves unchanged rows unchanged."""

from __future__ import annotations

from pymongo import AsyncMongoClient

from shkala_contracts import Envelope
from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, register, running
from .test_uploads import ASSESSMENT, SCHOOLS, cp1251_csv, vpr_rows


async def test_streams_recorded_per_school_before_the_split_still_count(
    test_settings: ServiceSettings,
) -> None:
    settings = ingest_settings(test_settings)
    region = auth(settings, "region", region="demo")
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)
        r = await client.post(
            "/imports/vpr",
            headers=region,
            files={"file": ("v1.csv", cp1251_csv(vpr_rows(12)), "text/csv")},
        )
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed", r.text

        # what an older ingest left: the same state, in one collection per school
        mongo: AsyncMongoClient = AsyncMongoClient(settings.mongo_url)
        db = mongo[settings.mongo_database]
        moved = 0
        for _, school in SCHOOLS:
            split = db[f"originators.{school}.assessment_result"]
            docs = await split.find({}).to_list()
            assert docs, f"no stream state for {school} in its family collection"
            await db[f"originators.{school}"].insert_many(docs)
            await split.drop()
            moved += len(docs)
        await mongo.close()
        assert moved == 12

        # one mark corrected, one row added: read from the old layout, 1 correction + 1 new
        rows = vpr_rows(13)
        rows[1] = rows[1].replace(";3;4;", ";5;4;")
        r = await client.post(
            "/imports/vpr",
            headers=region,
            files={"file": ("v2.csv", cp1251_csv(rows), "text/csv")},
        )
        assert r.status_code == 202, r.text
        answer = r.json()
        assert answer["corrections"] == 1
        assert answer["progress"]["rows_unchanged"] == 11
        records = await read_topic(settings, ASSESSMENT)
        assert len(records) == 14
        versions = sorted(Envelope.from_headers(x.headers).originator_version for x in records)
        assert versions.count(2) == 1

        # and the next upload reads both layouts: the same file changes nothing
        r = await client.post(
            "/imports/vpr",
            headers=region,
            files={"file": ("v3.csv", cp1251_csv(rows) + b"\r\n", "text/csv")},
        )
        assert r.status_code == 202, r.text
        assert r.json()["progress"]["rows_unchanged"] == 13
        assert len(await read_topic(settings, ASSESSMENT)) == 14
