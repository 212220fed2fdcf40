"""Raw limits of this machine, measured in the same run as the service figures.

Kafka's own ProducerPerformance / ConsumerPerformance tools (from the cached jars) and the
database's raw bulk-write rate: each service figure is read beside the limit under it.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

from pymongo import AsyncMongoClient, InsertOne

ROOT = Path(__file__).resolve().parent.parent
KAFKA_SH = ROOT / "deploy/local/kafka.sh"
BOOTSTRAP = "127.0.0.1:9092"
MONGO_URL = os.environ.get("SHKALA_MONGO_URL", "mongodb://127.0.0.1:27017/")


def _kafka_tool(*args: str) -> str:
    proc = subprocess.run(
        ["bash", str(KAFKA_SH), "run-class", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {proc.stderr[-2000:]}")
    return proc.stdout


def kafka_producer_perf(records: int, record_size: int = 400) -> tuple[float, str]:
    """ProducerPerformance with acks=all and idempotence, like the services' producers."""
    topic = f"bench.producer-perf.{uuid.uuid4().hex[:8]}"
    _kafka_tool(
        "org.apache.kafka.tools.TopicCommand",
        "--bootstrap-server",
        BOOTSTRAP,
        "--create",
        "--topic",
        topic,
        "--partitions",
        "6",
    )
    out = _kafka_tool(
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={BOOTSTRAP}",
        "acks=all",
        "enable.idempotence=true",
        "linger.ms=5",
    )
    last = [line for line in out.splitlines() if "records sent" in line][-1]
    m = re.search(r"records sent, ([0-9.]+) records/sec", last)
    if not m:
        raise RuntimeError(f"cannot parse ProducerPerformance output: {last}")
    return float(m.group(1)), topic


def kafka_consumer_perf(topic: str, records: int) -> float:
    out = _kafka_tool(
        "org.apache.kafka.tools.ConsumerPerformance",
        "--bootstrap-server",
        BOOTSTRAP,
        "--topic",
        topic,
        "--messages",
        str(records),
        "--timeout",
        "60000",
    )
    lines = [line for line in out.splitlines() if line.strip()]
    header = [h.strip() for h in lines[-2].split(",")]
    values = [v.strip() for v in lines[-1].split(",")]
    return float(values[header.index("nMsg.sec")])


async def db_bulk_write(mongo_url: str, docs: int, batch: int = 1000) -> float:
    """Per-collection bulk_write of projection-shaped documents (inserts: FerretDB 1.24 on
    SQLite stalls on bulk replaces of recently written documents, so projections write by
    delete-then-insert and this measures the insert half)."""
    client: AsyncMongoClient = AsyncMongoClient(mongo_url)
    db = client[f"bench_{uuid.uuid4().hex[:8]}"]
    try:
        coll = db["bulk"]
        start = time.perf_counter()
        for base in range(0, docs, batch):
            ops = [
                InsertOne(
                    {
                        "_id": f"ind-{i % 50}:sch-{i // 50}",
                        "numerator": i % 17,
                        "denominator": 40,
                        "value": (i % 17) / 40,
                        "definition_version": "1",
                        "position": {"partition": 0, "offset": i},
                    }
                )
                for i in range(base, min(base + batch, docs))
            ]
            await coll.bulk_write(ops, ordered=False)
        return docs / (time.perf_counter() - start)
    finally:
        await client.drop_database(db.name)
        await client.close()


def measure(records: int, docs: int, mongo_url: str) -> dict[str, float]:
    producer, topic = kafka_producer_perf(records)
    consumer = kafka_consumer_perf(topic, records)
    return {
        "kafka_producer_perf_records_per_s": round(producer),
        "kafka_consumer_perf_records_per_s": round(consumer),
        "db_bulk_write_docs_per_s": round(asyncio.run(db_bulk_write(mongo_url, docs))),
    }
