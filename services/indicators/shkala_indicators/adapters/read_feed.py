"""Feeds the replicated read table: a plain consumer (no group: every instance reads
everything) over the org-unit topic, the derived-events topic and the plans topic (its
monitoring-period events; every other plans event is ignored), from the beginning."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from shkala_contracts.events.indicators import IndicatorValueChanged
from shkala_indicators.adapters.fact_decoding import HeaderEnvelope, headers_of
from shkala_indicators.service_layer.read_table import ReadTable
from shkala_runtime.consuming import Delivered, decode
from shkala_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)
VALUE_CHANGED = IndicatorValueChanged.event_type


class ReadFeed:
    def __init__(self, settings: ServiceSettings, table: ReadTable, topics: list[str]) -> None:
        self.settings = settings
        self.table = table
        self.topics = topics
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self.progressed = asyncio.Event()  # set after every folded batch (read-your-writes)

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            isolation_level="read_committed",  # an aborted import is not data
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            enable_auto_commit=False,
            client_id=f"{self.settings.kafka_client_prefix}-{self.settings.service_name}-read",
            max_partition_fetch_bytes=1 << 20,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _partitions(self) -> list[TopicPartition]:
        assert self._consumer is not None
        while True:
            await self._consumer._client.force_metadata_update()
            cluster = self._consumer._client.cluster
            parts = [
                TopicPartition(t, p)
                for t in self.topics
                for p in sorted(cluster.partitions_for_topic(t) or ())
            ]
            if all(cluster.partitions_for_topic(t) for t in self.topics):
                return parts
            await asyncio.sleep(0.5)

    async def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        parts = await self._partitions()
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        while True:
            try:
                got = await consumer.getmany(timeout_ms=200, max_records=20000)
            except Exception:  # the broker is away: try again
                log.exception("read feed: fetching failed")
                await asyncio.sleep(1)
                continue
            batch: list[Delivered] = []
            for records in got.values():
                for r in records:
                    try:
                        batch.append(decode(r))
                    except Exception:
                        continue
            self.table.fold(batch)
            for tp, records in got.items():  # positions also for records not decoded
                if records:
                    key = (tp.topic, tp.partition)
                    self.table.positions[key] = max(
                        self.table.positions.get(key, -1), records[-1].offset
                    )
            self.progressed.set()
            self.progressed = asyncio.Event()

    def _value_changed(self, r: ConsumerRecord[bytes, bytes]) -> bool:
        """Fold a school value change straight from its JSON (nearly every record here; the
        indicators service published it itself); anything else is decoded whole."""
        h = headers_of(r)
        if h.get("ce_type") != VALUE_CHANGED or r.value is None:
            return False
        data = orjson.loads(r.value)
        if not isinstance(data, dict) or data.get("scope") != "school" or not data.get("school_id"):
            return False
        env = HeaderEnvelope(h)
        self.table.value_changed(data, env.time)
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
