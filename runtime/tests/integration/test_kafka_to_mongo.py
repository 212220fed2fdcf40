"""Foundation: a fact goes through the real Kafka broker into the real database.

Publishes through FastStream, consumes with the shared subscriber (commit after processing),
upserts with AsyncMongoClient, reads back and checks the CloudEvents headers arrived intact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from shkala_contracts import Envelope, Tenant
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_runtime.consuming import DeadLetters, Delivered, Rejection, subscribe_events
from shkala_runtime.kafka import EventPublisher, Outgoing, ensure_topics, make_broker
from shkala_runtime.mongo import make_client
from shkala_runtime.settings import ServiceSettings

TOPIC = AssessmentResultRecorded.topic


def result(run_id: str, mark: int = 4) -> AssessmentResultRecorded:
    return AssessmentResultRecorded(
        school_id=f"sch-{run_id}",
        academic_year="2025/26",
        procedure="ВПР",
        subject="математика",
        grade=5,
        student="p" + "c3" * 12,
        mark=mark,
        journal_mark=4,
    )


async def wait_for(predicate, within: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.2)


async def test_fact_published_through_faststream_lands_in_the_database(
    test_settings: ServiceSettings,
    run_id: str,
) -> None:
    await ensure_topics(test_settings)
    mongo: AsyncMongoClient = make_client(test_settings)
    facts = mongo[test_settings.mongo_database]["facts"]
    publisher = EventPublisher(test_settings)
    await publisher.start()
    broker = make_broker(test_settings)
    dead = DeadLetters(publisher.send_raw, f"test-{run_id}")

    async def upsert(batch: Sequence[Delivered]) -> Sequence[Rejection]:
        for d in batch:
            await facts.update_one(
                {"_id": d.envelope.originator_id},
                {
                    "$set": {
                        "payload": d.event.model_dump(mode="json"),
                        "headers": {k: v.decode() for k, v in d.record.headers},
                        "position": [d.position.partition, d.position.offset],
                    }
                },
                upsert=True,
            )
        return []

    subscribe_events(
        broker,
        test_settings.topic_name(TOPIC),
        group_id=f"test-{run_id}",
        handler=upsert,
        dead_letters=dead,
    )
    fact = result(run_id)
    env = Envelope.for_event(
        fact,
        source="/shkala/test",
        tenant=Tenant(region="r1", municipality="m1", school=fact.school_id),
    )
    try:
        await broker.start()
        await broker.publish(
            fact.model_dump_json().encode(),
            test_settings.topic_name(TOPIC),
            key=fact.school_id.encode(),
            headers={k: v.decode() for k, v in env.to_headers()},
        )
        doc = await wait_for(lambda: facts.find_one({"_id": fact.originator_id()}))
    finally:
        await broker.stop()
        await publisher.stop()
        await mongo.close()

    assert AssessmentResultRecorded.model_validate(doc["payload"]) == fact
    assert Envelope.from_headers({k: v.encode() for k, v in doc["headers"].items()}) == env
    assert doc["headers"]["ce_specversion"] == "1.0"
    assert doc["headers"]["ce_type"] == "ru.shkala.fact.assessment_result.v1"


async def test_publisher_waits_for_acks_and_a_plain_consumer_reads_headers(
    test_settings: ServiceSettings,
    run_id: str,
) -> None:
    await ensure_topics(test_settings)
    publisher = EventPublisher(test_settings)
    await publisher.start()
    tenant = Tenant(region="r1", municipality="m1", school=f"sch-{run_id}")
    items = [
        Outgoing.of(
            result(run_id, mark=m), source="/shkala/test", tenant=tenant, originator_version=i + 1
        )
        for i, m in enumerate((2, 3, 5))
    ]
    try:
        acks = await publisher.publish(items)
    finally:
        await publisher.stop()
    assert len(acks) == 3
    assert len({a.partition for a in acks}) == 1, "one school, one partition"

    consumer = AIOKafkaConsumer(
        bootstrap_servers=test_settings.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        from aiokafka import TopicPartition

        tp = TopicPartition(test_settings.topic_name(TOPIC), acks[0].partition)
        consumer.assign([tp])
        consumer.seek(tp, acks[0].offset)
        records = []
        while len(records) < 3:
            batch = await consumer.getmany(tp, timeout_ms=5000, max_records=3 - len(records))
            assert batch, "no records came back"
            records.extend(batch[tp])
    finally:
        await consumer.stop()
    envelopes = [Envelope.from_headers(r.headers) for r in records]
    assert [e.originator_version for e in envelopes] == [1, 2, 3]
    assert [AssessmentResultRecorded.model_validate_json(r.value).mark for r in records] == [
        2,
        3,
        5,
    ]
    assert {r.key for r in records} == {f"sch-{run_id}".encode()}


async def test_undecodable_message_goes_to_dead_letters_and_the_partition_moves_on(
    test_settings: ServiceSettings,
    run_id: str,
) -> None:
    await ensure_topics(test_settings)
    publisher = EventPublisher(test_settings)
    await publisher.start()
    broker = make_broker(test_settings)
    dead = DeadLetters(publisher.send_raw, f"test-{run_id}")
    seen: list[int] = []

    async def handle(batch: Sequence[Delivered]) -> Sequence[Rejection]:
        seen.extend(d.event.mark for d in batch)  # type: ignore[attr-defined]
        return []

    subscribe_events(
        broker,
        test_settings.topic_name(TOPIC),
        group_id=f"test-{run_id}",
        handler=handle,
        dead_letters=dead,
    )
    key = f"sch-{run_id}".encode()
    good = Outgoing.of(
        result(run_id, mark=5),
        source="/shkala/test",
        tenant=Tenant(region="r1", municipality="m1", school=f"sch-{run_id}"),
    )
    try:
        await broker.start()
        await publisher.send_raw(
            test_settings.topic_name(TOPIC), b"{not json", key, [("ce_id", b"x")]
        )
        await publisher.publish([good])
        await wait_for(lambda: asyncio.sleep(0, result=seen == [5]))
    finally:
        await broker.stop()
        await publisher.stop()

    consumer = AIOKafkaConsumer(
        test_settings.topic_name(TOPIC) + ".dlq",
        bootstrap_servers=test_settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"dlq-{run_id}",
    )
    await consumer.start()
    try:

        async def mine():  # type: ignore[no-untyped-def]
            batch = await consumer.getmany(timeout_ms=1000)
            return [r for rs in batch.values() for r in rs if r.key == key]

        found = await wait_for(mine)
    finally:
        await consumer.stop()
    headers = dict(found[0].headers)
    assert b"missing CloudEvents headers" in headers["x-dlq-reason"]
    assert headers["x-dlq-original-topic"] == test_settings.topic_name(TOPIC).encode()
    assert found[0].value == b"{not json"
