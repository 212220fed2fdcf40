"""An import the service was running when it died: on restart it is marked failed with its
reason, its claim is released, its half-sent transaction is aborted, and the same file sent
again lands once."""

from __future__ import annotations

import json

from confluent_kafka import Producer

from shkala_ingest.adapters.store import IngestStore
from shkala_ingest.service_layer.imports import content_hash, owner_scope
from shkala_runtime.auth import decode_token
from shkala_runtime.mongo import database, make_client
from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, read_topic, register, running
from .test_uploads import SCHOOLS, cp1251_csv, vpr_rows

ASSESSMENT = "shkala.facts.assessment.v1"


async def test_an_import_killed_midway_is_failed_on_restart_and_lands_once_when_resent(
    test_settings: ServiceSettings,
) -> None:
    settings = ingest_settings(test_settings, instance_id="restart-test")
    region = auth(settings, "region")
    data = cp1251_csv(vpr_rows(12))
    async with running(settings) as client:
        await register(client, settings, SCHOOLS)

    # what a killed instance leaves behind: its import `processing`, its claim held, and
    # an open transaction (same transactional id as its slot 0) with part of the file in it
    import hashlib

    from shkala_ingest.service_layer.imports import FileSource

    principal = decode_token(settings, region["Authorization"].split()[1])
    source = FileSource(None, len(data), hashlib.sha256(data).hexdigest())  # type: ignore[arg-type]
    chash = content_hash("vpr", source)
    mongo = make_client(settings)
    store = IngestStore(database(mongo, settings))
    await store.claim([f"hash|vpr|{owner_scope(principal)}|{chash}"], "dead-import", chash)
    answer = {"import_id": "dead-import", "kind": "vpr", "status": "processing"}
    await store.create_import(
        {
            "_id": "dead-import",
            "instance": "restart-test",
            "owner": {"role": "region", "region": settings.region_id},
            "http_status": 202,
            "status": "processing",
            "answer": json.dumps(answer),
        }
    )
    zombie = Producer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "transactional.id": f"{settings.kafka_topic_prefix}ingest-restart-test-0",
        }
    )
    zombie.init_transactions(30)
    zombie.begin_transaction()
    for i in range(5):
        zombie.produce(settings.topic_name(ASSESSMENT), b'{"half": %d}' % i, b"sch-a")
    zombie.flush(30)  # on the log, uncommitted; the process "dies" here

    async with running(settings) as client:
        r = await client.get("/imports/dead-import", headers=region)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "failed"
        assert "upload the file again" in r.json()["problem"]["detail"]
        # the half-sent transaction was aborted: read_committed sees nothing of it
        assert await read_topic(settings, ASSESSMENT) == []
        r = await client.post(
            "/imports/vpr", headers=region, files={"file": ("vpr.csv", data, "text/csv")}
        )
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed", r.text
        assert "Idempotent-Replayed" not in r.headers
        records = await read_topic(settings, ASSESSMENT)
        assert len(records) == 12
        positions = r.json()["log_positions"][settings.topic_name(ASSESSMENT)]
        ends = {}
        for rec in records:
            ends[str(rec.partition)] = max(ends.get(str(rec.partition), -1), rec.offset)
        assert positions == ends
    await mongo.close()
