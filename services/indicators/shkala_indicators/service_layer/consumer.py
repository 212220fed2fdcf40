"""The live projection consumer: one batch handler over org units and every fact topic, and
the rebalance listener that gives the projector the partitions Kafka assigns this instance.

On assignment the projector loads the new partitions' state from the store and the consumer
seeks each topic-partition to the position after the one its stored pages reflect — so a
restarted or newly joined instance resumes from the store, not from the group's committed
offset (which may lag the store, or after a rebuild name another generation). On revocation
the state is dropped. A rebuild that switched generations is noticed at the next batch: the
projector reloads its partitions from the new generation and seeks back to where it starts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition

from shkala_indicators.adapters.store import Pointer
from shkala_indicators.service_layer.projection import Projector
from shkala_runtime.consuming import Delivered, Rejection
from shkala_runtime.tracing import event_span

log = logging.getLogger(__name__)


class Assignment(ConsumerRebalanceListener):
    """Partition state follows Kafka's assignment (see the module docstring)."""

    def __init__(self, pointer: Pointer, projector: Projector) -> None:
        self.pointer = pointer
        self.projector = projector
        self.subscriber: Any = None  # set by bootstrap: has ``.consumer`` once started
        self.assigned: set[TopicPartition] = set()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.assigned -= set(revoked)
        keep = {tp.partition for tp in self.assigned}
        self.projector.revoke(sorted({tp.partition for tp in revoked} - keep))
        log.info("partitions revoked: %s", sorted({tp.partition for tp in revoked}))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.assigned |= set(assigned)
        await self.resume(assigned)

    async def resume(self, tps: set[TopicPartition]) -> None:
        gen = await self.pointer.current()
        resume = await self.projector.assign(gen, sorted({tp.partition for tp in tps}))
        consumer = self.subscriber.consumer if self.subscriber is not None else None
        for tp in tps:
            # no stored position: from the beginning (the group's offset may be another
            # generation's)
            offset = resume.get((tp.topic, tp.partition), 0)
            if consumer is not None:
                consumer.seek(tp, offset)
        log.info(
            "partitions %s of %s: resuming at stored positions",
            sorted({tp.partition for tp in tps}),
            gen.name,
        )


def make_handler(
    pointer: Pointer, projector: Projector, assignment: Assignment | None = None
) -> Callable[[Sequence[Delivered]], Awaitable[Sequence[Rejection]]]:
    async def handle(batch: Sequence[Delivered]) -> Sequence[Rejection]:
        gen = await pointer.current()
        if not projector.holds(gen.name) and projector.generation is not None:
            # a rebuild switched generations: reload and go back to where the new one ends
            log.info("generation switched to %s: reloading partitions", gen.name)
            projector.forget()
            if assignment is not None and assignment.assigned:
                await assignment.resume(set(assignment.assigned))
                return []  # the batch comes again from the new generation's positions
        # One span per batch, continuing the trace of its latest event: the derived events
        # published inside carry that trace on to plans and notify.
        with event_span(batch[-1], "apply projection", **{"shkala.events": len(batch)}):
            return await projector.apply(gen, batch, emit=True)

    return handle
