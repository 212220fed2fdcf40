"""The live projection consumer: one batch handler over org units and every fact topic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from shkala_indicators.adapters.store import Generation, Pointer
from shkala_indicators.service_layer.projection import Projector
from shkala_runtime.consuming import Delivered, Rejection
from shkala_runtime.tracing import event_span

CatchUp = Callable[[Generation], Awaitable[int]]


def make_handler(
    pointer: Pointer, projector: Projector, catch_up: CatchUp
) -> Callable[[Sequence[Delivered]], Awaitable[Sequence[Rejection]]]:
    async def handle(batch: Sequence[Delivered]) -> Sequence[Rejection]:
        gen = await pointer.current()
        if not projector.holds(gen.name):  # at start, or a rebuild switched generations
            projector.keep_only(gen.name)
            await projector.working_set(gen)
            await catch_up(gen)
        projector.live_generation = gen.name
        # One span per batch, continuing the trace of its latest event: the derived events
        # published inside carry that trace on to plans and notify.
        with event_span(batch[-1], "apply projection", **{"shkala.events": len(batch)}):
            return await projector.apply(gen, batch, emit=True)

    return handle
