"""Applying a batch of delivered events: decide (pure, :mod:`domain.cells`), then commit.

Per batch:
1. events that cannot be applied are rejected (dead-lettered by the runtime): a fact whose
   envelope names another school, anything that is not a school fact or an org unit;
2. the domain decides from the partitions' states what changed — pages of changed cells,
   values, lists, derived events; a redelivered fact changes nothing, a correction subtracts
   the version it replaces;
3. the derived events are published (a crash before 4 republishes them with the same
   originator id and version when the batch comes again);
4. the decision is committed with one call to the store — append-only pages, then the
   checkpoint of each partition (the log positions the pages reflect).
If 3 or 4 fails the partitions' states are dropped and loaded again from the store.

An instance holds the state of the partitions Kafka assigned it (:meth:`Projector.assign`,
which also says where to seek: the stored positions), and drops them on revocation.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from shkala_contracts.base import Fact
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    NetworkPairFormed,
    RegionRegistered,
    SchoolMoved,
    SchoolRegistered,
)
from shkala_indicators.adapters.fact_decoding import RawFact
from shkala_indicators.domain.catalogue import Catalogue
from shkala_indicators.domain.cells import Decision, Incoming, PartitionState, decide
from shkala_indicators.domain.rows import compact
from shkala_indicators.domain.stats import Rules
from shkala_runtime.consuming import Delivered, Rejection
from shkala_runtime.kafka import Outgoing
from shkala_runtime.tracing import tracer

log = logging.getLogger(__name__)
ORG_EVENTS = (RegionRegistered, MunicipalityRegistered, SchoolRegistered)


class ProjectionStore(Protocol):
    """Where the projection's state lives (``adapters.store.Generation``; a fake in tests)."""

    name: str

    async def load_partition(self, rules: Rules, part: int) -> PartitionState: ...

    async def commit(self, decision: Decision, derived: dict[int, int] | None = None) -> None: ...


class Publisher(Protocol):
    async def publish(self, items: Sequence[Outgoing]) -> Any: ...


def org_doc(d: Delivered) -> dict[str, Any]:
    e = d.event
    if isinstance(e, SchoolRegistered):
        doc = {
            "_id": e.school_id,
            "kind": "school",
            "region_id": e.region_id,
            "municipality_id": e.municipality_id,
            "name": e.name,
        }
    elif isinstance(e, MunicipalityRegistered):
        doc = {
            "_id": e.municipality_id,
            "kind": "municipality",
            "region_id": e.region_id,
            "name": e.name,
        }
    else:
        assert isinstance(e, RegionRegistered)
        doc = {"_id": e.region_id, "kind": "region", "name": e.name}
    return doc | {
        "originator_id": d.envelope.originator_id,
        "v": d.envelope.originator_version,
        "offset": d.position.offset,
        "topic": d.position.topic,
        "partition": d.position.partition,
    }


def to_incoming(d: Delivered) -> Incoming:
    pos, env = d.position, d.envelope
    if isinstance(d.event, ORG_EVENTS):
        doc = org_doc(d)
        return Incoming(
            doc["_id"], env.originator_version, pos.topic, pos.partition, pos.offset,
            env.time, env.type, None, org=doc,
        )  # fmt: skip
    event: Any = d.event
    if isinstance(event, RawFact):  # checked by adapters.fact_decoding
        payload = event.payload
    else:
        # the record's JSON is the validated event as published: parsing it again is a
        # fraction of the cost of dumping the model
        raw = d.record.value if d.record is not None else None
        payload = orjson.loads(raw) if raw else event.model_dump(mode="json")
    return Incoming(
        env.originator_id, env.originator_version, pos.topic, pos.partition, pos.offset,
        env.time, env.type, compact(payload, env.type), (event.school_id, event.academic_year),
        payload=payload,
    )  # fmt: skip


def screen(batch: Sequence[Delivered]) -> tuple[list[Incoming], list[Rejection]]:
    """What can be applied, and what goes to the dead-letter topic with its reason."""
    accepted: list[Incoming] = []
    rejections: list[Rejection] = []
    for d in batch:
        if isinstance(d.event, ORG_EVENTS):
            accepted.append(to_incoming(d))
            continue
        if isinstance(d.event, SchoolMoved):
            continue  # a move's SchoolRegistered (just after it) carries the new municipality
        if isinstance(d.event, NetworkPairFormed):
            # a relation between schools: the read table keeps it (read_network); only its
            # position is checkpointed, so that ``after=`` on a pairs import is satisfied
            pos, env = d.position, d.envelope
            accepted.append(
                Incoming(
                    env.originator_id, env.originator_version, pos.topic, pos.partition,
                    pos.offset, env.time, env.type, None,
                )
            )  # fmt: skip
            continue
        sid = getattr(d.event, "school_id", None)
        if not isinstance(d.event, Fact | RawFact) or sid is None:
            rejections.append((d, f"not a school fact: {d.envelope.type}"))
        elif d.envelope.tenant.school not in (None, sid):
            rejections.append(
                (d, f"tenant school {d.envelope.tenant.school!r} differs from {sid!r}")
            )
        else:
            accepted.append(to_incoming(d))
    return accepted, rejections


class Projector:
    def __init__(
        self,
        catalogue: Catalogue,
        *,
        source: str,
        publisher: Publisher | None,
        full_batch: int = 20000,
    ) -> None:
        self.catalogue = catalogue
        self.rules = Rules(catalogue)
        self.source = source
        self.publisher = publisher
        self.full_batch = full_batch
        self.slow_batch_s = 1.0
        self.generation: str | None = None  # the store the states below belong to
        self.states: dict[int, PartitionState] = {}
        self.applied = 0  # events applied since start (metrics, bench)

    # ------------------------------------------------------------- partitions
    def holds(self, generation: str) -> bool:
        return self.generation == generation

    async def assign(
        self, store: ProjectionStore, parts: Sequence[int]
    ) -> dict[tuple[str, int], int]:
        """Load the state of newly assigned partitions; returns where each topic-partition
        resumes (the stored position + 1) — the consumer seeks there."""
        if self.generation != store.name:
            self.states.clear()
            self.generation = store.name
        resume: dict[tuple[str, int], int] = {}
        for part in sorted(set(parts)):
            st = self.states.get(part)
            if st is None:
                with tracer.start_as_current_span("load partition", attributes={"part": part}):
                    st = await store.load_partition(self.rules, part)
                self.states[part] = st
                log.info(
                    "partition %d of %s loaded: %d facts, %d cells",
                    part, store.name, len(st.placed), len(st.cells),
                )  # fmt: skip
            resume.update({tp: off + 1 for tp, off in st.positions.items()})
        return resume

    def revoke(self, parts: Sequence[int]) -> None:
        for part in parts:
            self.states.pop(part, None)

    def forget(self) -> None:
        self.states.clear()
        self.generation = None

    # ------------------------------------------------------------------ applying
    async def apply(
        self,
        store: ProjectionStore,
        batch: Sequence[Delivered],
        *,
        emit: bool = True,
    ) -> list[Rejection]:
        started = time.perf_counter()
        accepted, rejections = screen(batch)
        await self.assign(store, [f.partition for f in accepted])  # any not loaded yet
        try:
            decision = decide(self.rules, self.states, accepted)
            t_decide = time.perf_counter()
            derived: dict[int, int] = {}
            if emit and self.publisher is not None and decision.events:
                acks = await self.publisher.publish(
                    [
                        Outgoing.of(e, source=self.source, tenant=tenant)
                        for e, tenant in decision.events
                    ]
                )
                for a in acks or ():
                    derived[a.partition] = max(derived.get(a.partition, -1), a.offset)
            t_publish = time.perf_counter()
            await store.commit(decision, derived)
        except BaseException:
            self.revoke(sorted({f.partition for f in accepted}))  # memory may be ahead
            raise
        self.applied += len(accepted)
        took = time.perf_counter() - started
        if took > self.slow_batch_s:
            log.info(
                "batch of %d events, %d cells, %d pages, %d events out took %.2fs: "
                "decide %.2fs, publish %.2fs, commit %.2fs",
                len(batch), decision.touched, len(decision.pages), len(decision.events), took,
                t_decide - started, t_publish - t_decide, time.perf_counter() - t_publish,
            )  # fmt: skip
        return rejections

    def freshness(self) -> dict[str, Any]:
        """What this instance has applied (its own partitions only)."""
        from shkala_indicators.adapters.store import position_key

        positions = {
            position_key(t, p): off
            for st in self.states.values()
            for (t, p), off in st.positions.items()
        }
        times = [st.last_event_time for st in self.states.values() if st.last_event_time]
        return {
            "positions": positions,
            "last_event_time": max(times) if times else None,
            "applied_at": dt.datetime.now(dt.UTC),
        }


__all__ = ["ProjectionStore", "Projector", "screen"]
