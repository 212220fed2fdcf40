"""What the indicators projection shows and how far it got, and reading the log back:
shared by the e2e tests and the fault harness (bench/faults.py)."""

from __future__ import annotations

from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shkala_contracts.topics import FACT_TOPICS
from shkala_runtime.settings import ServiceSettings
from support.processes import ServiceProcesses, wait_until

PERIOD = "2025/26"
FACT_TOPIC_NAMES = tuple(t.name for t in FACT_TOPICS)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer._client.cluster.partitions_for_topic(topic) or set()


async def _topic_partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    return [
        TopicPartition(t, p)
        for t in topics
        for p in (consumer.partitions_for_topic(t) or await _partitions(consumer, t))
    ]


async def _read_to_end(
    consumer: AIOKafkaConsumer, starts: dict[TopicPartition, int], ends: dict[TopicPartition, int]
) -> list[ConsumerRecord[bytes, bytes]]:
    """Committed records from ``starts`` up to ``ends``. Kafka transactions leave control
    records (commit/abort markers) that take offsets but are never delivered: the reader
    stops by its position, not by the last record's offset."""
    wanted = {tp: end for tp, end in ends.items() if end > starts.get(tp, 0)}
    out: list[ConsumerRecord[bytes, bytes]] = []
    if not wanted:
        return out
    consumer.assign(list(wanted))
    for tp in wanted:
        consumer.seek(tp, starts.get(tp, 0))
    while wanted:
        batch = await consumer.getmany(*wanted, timeout_ms=1000)
        for tp, records in batch.items():
            out.extend(r for r in records if r.offset < wanted.get(tp, 0))
        for tp in list(wanted):
            if await consumer.position(tp) >= wanted[tp]:
                wanted.pop(tp)
    return out


async def log_end(prefix: str, topics: tuple[str, ...] = FACT_TOPIC_NAMES) -> int:
    """Per partition, the offset after its last committed record, summed: what a projection
    has applied once it caught up (``applied`` counts the same way). Transaction markers at
    a partition's end are not records, so the end offset alone would overcount."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=ServiceSettings().kafka_bootstrap_servers,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        parts = await _topic_partitions(consumer, [prefix + t for t in topics])
        begins = await consumer.beginning_offsets(parts)
        ends = await consumer.end_offsets(parts)
        total = 0
        for tp in parts:
            window = 64
            while True:
                start = max(begins[tp], ends[tp] - window)
                records = await _read_to_end(consumer, {tp: start}, {tp: ends[tp]})
                if records or start <= begins[tp]:
                    total += (max(r.offset for r in records) + 1) if records else 0
                    break
                window *= 8
        return total
    finally:
        await consumer.stop()


async def read_log(topics: list[str]) -> list[ConsumerRecord[bytes, bytes]]:
    """Every committed message now on ``topics``, from the start to the end offsets taken at
    the start."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=ServiceSettings().kafka_bootstrap_servers,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        parts = await _topic_partitions(consumer, topics)
        if not parts:
            return []
        begins = await consumer.beginning_offsets(parts)
        ends = await consumer.end_offsets(parts)
        return await _read_to_end(consumer, begins, ends)
    finally:
        await consumer.stop()


def applied(url: str, auth: dict[str, str]) -> int:
    """Messages the projection has applied (over all topic-partitions); -1: no answer."""
    try:
        r = httpx.get(url + "/region/summary", params={"period": PERIOD}, headers=auth, timeout=30)
    except httpx.HTTPError:
        return -1
    if r.status_code != 200:
        return -1
    return sum(int(v) + 1 for v in r.json()["freshness"]["positions"].values())


def snapshot(url: str, auth: dict[str, str], schools: list[str]) -> dict[str, Any]:
    """What users see, without times and log positions (those legitimately differ)."""
    out: dict[str, Any] = {}
    for sid in schools:
        card = httpx.get(f"{url}/schools/{sid}", headers=auth, timeout=60).json()
        out[sid] = {
            "values": sorted(
                (i["id"], v["period"], v["numerator"], v["denominator"], v["value"])
                for i in card["indicators"]
                for v in i["trend"]
            ),
            "lists": card["lists"],
        }
    for risk_list in ("ШНОР", "ШНСУ"):
        body = httpx.get(
            f"{url}/lists/{risk_list}", params={"period": PERIOD}, headers=auth, timeout=60
        ).json()
        out[risk_list] = sorted(m["school_id"] for m in body.get("members", []))
    return out


def upload(procs: ServiceProcesses, auth: dict[str, str], files: dict[str, Any], kind: str) -> int:
    """Upload one file and wait until ingest has published it; returns events published."""
    with files[kind].open("rb") as fh:
        r = httpx.post(
            procs.url("ingest") + f"/imports/{kind}",
            headers=auth,
            files={"file": (files[kind].name, fh, "text/csv")},
            timeout=120,
        )
    assert r.status_code in (200, 202), r.text
    iid = r.json()["import_id"]

    def done() -> dict[str, Any] | None:
        state = httpx.get(procs.url("ingest") + f"/imports/{iid}", headers=auth).json()
        return state if state["status"] == "completed" else None

    state = wait_until(done, 120, f"{kind} imported")
    return sum(state["counts"].values())
