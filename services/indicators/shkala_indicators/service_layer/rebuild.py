"""Rebuild: replay the log from the beginning into a fresh generation, then switch over.

1. Read the org-unit topic, then every fact topic, from offset 0 up to the end offsets taken
   at the start, applying each chunk with a projector of its own (no derived events: they
   were published when the facts first arrived).
2. Carry the derived-event versions over from the current generation (so versions published
   after the switch keep increasing): a cell whose old version of a value or list is higher
   gets one more page with the higher versions.
3. Move the pointer. The live consumer notices at its next batch, reloads its partitions from
   the new generation and seeks back to where the new generation's checkpoints end.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo.asynchronous.database import AsyncDatabase

from shkala_contracts.topics import FACT_TOPICS
from shkala_indicators.adapters.store import Generation, Pointer
from shkala_indicators.domain.cells import Decision, PageOut
from shkala_indicators.service_layer.projection import Projector
from shkala_runtime.consuming import Delivered, decode
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)


async def replay(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    end: dict[TopicPartition, int],
    gen: Generation,
    projector: Projector,
    chunk: int,
) -> int:
    todo = [tp for tp in partitions if end[tp] > 0]
    if not todo:
        return 0
    consumer.assign(todo)
    for tp in todo:
        consumer.seek(tp, 0)
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
                except Exception:
                    continue
        if batch:
            await projector.apply(gen, batch, emit=False)
            applied += len(batch)
        todo = [tp for tp in todo if await consumer.position(tp) < end[tp]]
    return applied


async def _carry_versions(old: Generation, new: Generation, projector: Projector) -> int:
    """Derived-event versions keep increasing after the switch: take the higher of the two."""
    before = await old.cell_states()
    decision = Decision()
    for part, st in projector.states.items():
        for cell, cs in st.cells.items():
            was = before.get(cell)
            if was is None:
                continue
            bumped = False
            for ind, v in list(cs.values.items()):
                old_v = was["values"].get(ind)
                if old_v is not None and old_v[3] > v[3]:
                    cs.values[ind] = (v[0], v[1], v[2], old_v[3])
                    bumped = True
            for rule, (member, reasons, version) in list(cs.lists.items()):
                old_l = was["lists"].get(rule)
                if old_l is not None and old_l[2] > version:
                    cs.lists[rule] = (member, reasons, old_l[2])
                    bumped = True
            if bumped:
                cs.seq += 1
                decision.pages.append(PageOut(part, cell, cs.seq, [], cs))
    await new.commit(decision)
    return len(decision.pages)


async def rebuild(
    settings: ServiceSettings,
    db: AsyncDatabase,
    projector: Projector,
    *,
    generation: str | None = None,
    chunk: int = 20000,
    topics: Iterable[str] | None = None,
) -> dict[str, object]:
    """``projector`` gives the catalogue; the replay runs on a projector of its own."""
    pointer = Pointer(db)
    old = await pointer.current()
    name = generation or "g" + dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    new = Generation(db, name)
    await new.drop()
    await new.ensure_indexes()
    own = Projector(projector.catalogue, source=projector.source, publisher=None)
    names = list(topics or (settings.topic_name(t.name) for t in FACT_TOPICS))
    consumer = AIOKafkaConsumer(
        isolation_level="read_committed",  # an aborted import is not data
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        client_id=f"{settings.kafka_client_prefix}-{settings.service_name}-rebuild",
        max_partition_fetch_bytes=8 << 20,
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
            applied += await replay(consumer, phase, end, new, own, chunk)
        carried = await _carry_versions(old, new, own)
        await pointer.switch(name)
    finally:
        await consumer.stop()
    log.info(
        "rebuild into %s applied %d events, carried versions of %d cells (was %s)",
        name, applied, carried, old.name,
    )  # fmt: skip
    return {"generation": name, "previous": old.name, "applied": applied}
