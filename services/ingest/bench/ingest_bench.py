"""Ingest throughput: an N-row ВПР CSV uploaded in-process, upload start → last Kafka ack.

    uv run python services/ingest/bench/ingest_bench.py [--rows 1000000] [--schools 200]

Runs on the real local Kafka and FerretDB with its own topic prefix and database (both removed
afterwards) and prints one JSON object with ``ingest_rows_per_s``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
import uuid
from pathlib import Path

import httpx

os.environ.setdefault("SHKALA_LOG_LEVEL", "WARNING")

from aiokafka.admin import AIOKafkaAdminClient

from shkala_ingest.bootstrap import bootstrap
from shkala_ingest.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.mongo import make_client

HEADER = (
    "Код ОО;Учебный год;Предмет;Параллель;Класс;Код участника;Дата;Первичный балл;Отметка;"
    "Отметка по журналу;Задание 1 (макс 1);Задание 2 (макс 2);Задание 3 (макс 1);"
    "Задание 4 (макс 2)"
)


def vpr_csv(rows: int, schools: int) -> bytes:
    subjects = ("математика", "русский язык", "окружающий мир", "история")
    out = [HEADER]
    for i in range(rows):
        out.append(
            f"s{i % schools:04d};2025/26;{subjects[(i // schools) % 4]};5;5А;"
            f"{i // (schools * 4)}-{i % schools};15.04.2026;{i % 7},5;{2 + i % 4};{2 + i % 4};"
            f"{i % 2};{i % 3};{i % 2};1"
        )
    return ("\r\n".join(out) + "\r\n").encode("cp1251")


def org_csv(schools: int, region: str) -> bytes:
    lines = ["Код региона;Регион;Код МО;Муниципалитет;Код ОО;Наименование ОО"]
    lines += [f"{region};Демо;mo-{s % 10};МО {s % 10};s{s:04d};Школа {s}" for s in range(schools)]
    return ("\n".join(lines) + "\n").encode()


async def run(rows: int, schools: int, partitions: int) -> dict[str, object]:
    rid = uuid.uuid4().hex[:8]
    settings = Settings(
        mongo_database=f"bench_{rid}",
        kafka_topic_prefix=f"bench{rid}.",
        kafka_topic_partitions=partitions,
        log_level="WARNING",
        max_upload_bytes=2**31,
    )
    t0 = time.perf_counter()
    data = vpr_csv(rows, schools)
    gen_s = time.perf_counter() - t0
    service = bootstrap(settings)
    app = service.app
    headers = {"Authorization": f"Bearer {issue_token(settings, 'region')}"}
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://b", timeout=3600, headers=headers
            ) as c:
                r = await c.post(
                    "/imports/org-units",
                    files={"file": ("o.csv", org_csv(schools, settings.region_id), "text/csv")},
                )
                assert r.json()["status"] == "completed", r.text
                before_mib = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
                started = time.perf_counter()
                r = await c.post(
                    "/imports/vpr",
                    headers={"Prefer": "respond-async", "Content-Type": "text/csv"},
                    content=data,
                )
                loc = r.headers["location"]
                validated_at = None
                while True:
                    answer = (await c.get(loc)).json()
                    p = answer["progress"]
                    if validated_at is None and p["rows_validated"] == rows:
                        validated_at = time.perf_counter()
                    if answer["status"] != "processing":
                        break
                    await asyncio.sleep(0.2)
                finished = time.perf_counter()
    finally:
        mongo = make_client(settings)
        await mongo.drop_database(settings.mongo_database)
        await mongo.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            mine = [t for t in await admin.list_topics() if t.startswith(f"bench{rid}.")]
            await admin.delete_topics(mine)
        finally:
            await admin.close()
    assert answer["status"] == "completed", answer
    elapsed = finished - started
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "rows": rows,
        "bytes": len(data),
        "status": answer["status"],
        "published": answer["progress"]["rows_published"],
        "ingest_seconds": round(elapsed, 2),
        "ingest_rows_per_s": round(rows / elapsed),
        "validate_seconds": round((validated_at or finished) - started, 2),
        "publish_seconds": round(finished - (validated_at or finished), 2),
        "generate_seconds": round(gen_s, 2),
        "partitions": partitions,
        # this process holds the generated file and the HTTP client too: an upper bound
        "peak_rss_mib_ingest_process": round(self_kib / 1024),
        "peak_rss_mib_reading_worker": round(child_kib / 1024),
        "rss_mib_before_upload": before_mib,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--schools", type=int, default=200)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument(
        "--producer-perf", action="store_true", help="also kafka-producer-perf, same run"
    )
    args = ap.parse_args()
    result = asyncio.run(run(args.rows, args.schools, args.partitions))
    if args.producer_perf:
        sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
        from bench.limits import kafka_producer_perf

        rate, _ = kafka_producer_perf(args.rows, record_size=400)
        result["kafka_producer_perf_records_per_s"] = round(rate)
        result["ratio_to_producer_perf"] = round(result["ingest_rows_per_s"] / rate, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
