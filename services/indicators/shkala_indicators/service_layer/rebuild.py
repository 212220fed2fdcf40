"""Rebuild: replay the log from the beginning into a fresh generation, then switch over.

1. Read the org-unit topic, then every fact topic, from offset 0 up to the end offsets taken
   at the start, applying each chunk with the same projector the live consumer uses (no
   derived events: they were published when the facts first arrived).
2. Carry the derived-event versions over from the current generation (so versions published
   after the switch keep increasing), move the pointer to the new generation.
3. The live consumer, at its next batch, sees the new generation, loads it and first applies
   what its group committed beyond the log position the generation reflects
   (:func:`catch_up`): what it applied to the old generation while the rebuild ran reaches
   the new one too, and only one process ever writes a generation after the switch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo.asynchronous.database import AsyncDatabase

from shkala_contracts.topics import FACT_TOPICS
from shkala_indicators.adapters.store import Generation, Pointer, bulk, put
from shkala_indicators.service_layer.projection import Projector, position_key
from shkala_runtime.consuming import Delivered, decode
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)


async def _replay(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    start: dict[TopicPartition, int],
    end: dict[TopicPartition, int],
    gen: Generation,
    projector: Projector,
    chunk: int,
) -> int:
    todo = [tp for tp in partitions if start.get(tp, 0) < end[tp]]
    if not todo:
        return 0
    consumer.assign(todo)
    for tp in todo:
        consumer.seek(tp, start.get(tp, 0))
    applied = 0
    while todo:
        got = await consumer.getmany(*todo, timeout_ms=1000, max_records=chunk)
        batch: list[Delivered] = []
        for tp, records in got.items():
            for r in records:
                if r.offset >= end[tp]:
                    continue
                try:
                    batch.append(decode(r))
                except Exception:  # dead-lettered by the live consumer
                    continue
        if batch:
            await projector.apply(gen, batch, emit=False, write_through=False)
            applied += len(batch)
        todo = [tp for tp in todo if await consumer.position(tp) < end[tp]]
    return applied


async def _carry_versions(old: Generation, new: Generation, projector: Projector) -> None:
    """Derived-event versions keep increasing after the switch: take the higher of the two."""
    before: dict[str, int] = {}
    async for h in old.history.find({}, {"key": 1, "version": 1}):
        before[h["key"]] = max(before.get(h["key"], 0), h.get("version", 0))
    ws = await projector.working_set(new)
    carried = []
    for key, doc in list(ws.values.items()):
        if before.get(key, 0) > doc["version"]:
            doc = {**doc, "version": before[key]}
            ws.set_value(doc)
            carried.append(put(projector.history_entry(doc), False))
    await bulk(new.history, carried)
    await projector.flush(new)
    lists = {doc["_id"]: doc["version"] async for doc in old.lists.find({}, {"version": 1})}
    ops = []
    async for doc in new.lists.find({"_id": {"$in": list(lists)}}):
        if lists[doc["_id"]] > doc["version"]:
            ops.append(put({**doc, "version": lists[doc["_id"]]}, True))
    await bulk(new.lists, ops)


async def rebuild(
    settings: ServiceSettings,
    db: AsyncDatabase,
    projector: Projector,
    *,
    generation: str | None = None,
    chunk: int = 20000,
    topics: Iterable[str] | None = None,
) -> dict[str, object]:
    pointer = Pointer(db)
    old = await pointer.current()
    name = generation or "g" + dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    new = Generation(db, name)
    await new.drop()
    await new.ensure_indexes()
    names = list(topics or (settings.topic_name(t.name) for t in FACT_TOPICS))
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        client_id=f"{settings.kafka_client_prefix}-{settings.service_name}-rebuild",
    )
    await consumer.start()
    applied = 0
    try:
        # consumer.topics() does not keep the metadata it fetched; ask the client directly
        cluster = await consumer._client.fetch_all_metadata()
        phases: list[list[TopicPartition]] = []
        for t in names:  # org units first, then the facts
            parts = cluster.partitions_for_topic(t) or set()
            phases.append([TopicPartition(t, p) for p in sorted(parts)])
        all_parts = [tp for phase in phases for tp in phase]
        end = await consumer.end_offsets(all_parts)
        for phase in phases:
            applied += await _replay(consumer, phase, {}, end, new, projector, chunk)
        await _carry_versions(old, new, projector)
        projector.forget(name)  # versions changed underneath: the live consumer reloads
        await pointer.switch(name)
    finally:
        await consumer.stop()
    log.info("rebuild into %s applied %d events (was %s)", name, applied, old.name)
    return {"generation": name, "previous": old.name, "applied": applied}


async def catch_up(
    settings: ServiceSettings,
    gen: Generation,
    projector: Projector,
    *,
    group_id: str,
    chunk: int = 5000,
) -> int:
    """Apply what ``group_id`` committed beyond the log position ``gen`` reflects.

    Normally nothing (the projection records its position before the offset is committed);
    after a rebuild switched generations, the events the live consumer applied to the old
    generation while the rebuild ran.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    ours = {settings.topic_name(t.name) for t in FACT_TOPICS}  # a group may span prefixes
    reflected = (await gen.freshness())["positions"]
    start: dict[TopicPartition, int] = {}
    end: dict[TopicPartition, int] = {}
    for tp, meta in committed.items():
        if tp.topic not in ours:
            continue
        first = reflected.get(position_key(tp.topic, tp.partition), -1) + 1
        if meta.offset > first:
            start[tp], end[tp] = first, meta.offset
    if not end:
        return 0
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        client_id=f"{settings.kafka_client_prefix}-{settings.service_name}-catch-up",
    )
    await consumer.start()
    try:
        applied = await _replay(consumer, list(end), start, end, gen, projector, chunk)
        await projector.flush(gen)
    finally:
        await consumer.stop()
    log.info("generation %s caught up with %d events its group had committed", gen.name, applied)
    return applied
