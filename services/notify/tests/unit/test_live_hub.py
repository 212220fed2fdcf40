"""The live hub's per-client sessions, without Kafka: ids that resume exactly, checkpoints
while nothing matches, and a slow client ended rather than thinned."""

from __future__ import annotations

import asyncio
from typing import Any

from shkala_notify.domain import stream_cursor
from shkala_notify.domain.subscriptions import Filters, Owner
from shkala_notify.service_layer.live import LiveHub

A, B = ("p.shkala.indicators.v1", 0), ("p.shkala.indicators.v1", 1)
TYPE = "ru.shkala.indicators.list_membership_changed.v1"


def ce(n: int, municipality: str = "mun-a") -> dict[str, Any]:
    return {"id": f"e-{n}", "type": TYPE, "region": "r", "municipality": municipality}


def hub(queue_size: int = 100) -> LiveHub:
    h = LiveHub(names=None, queue_size=queue_size, checkpoint_s=0.05)  # type: ignore[arg-type]
    h.start_at({A: 10, B: 20})
    return h


async def take(session: Any, n: int) -> list[tuple[str, dict[str, Any] | None]]:
    return [await asyncio.wait_for(anext(session), 2) for _ in range(n)]


async def test_each_id_names_what_the_client_has_been_handed():
    h = hub()
    async with h.listen(Owner("r", "mun-a"), Filters()) as listener:
        h.publish(ce(1), A, 10)
        h.publish(ce(2, "mun-b"), B, 20)  # not this tenant's: skipped, yet passed
        h.publish(ce(3), B, 21)
        session = h.session(listener, None)
        (id1, e1), (id3, e3) = await take(session, 2)
        assert (e1["id"], e3["id"]) == ("e-1", "e-3")
        assert stream_cursor.decode(h.layout, id1) == {A: 11, B: 20}
        assert stream_cursor.decode(h.layout, id3) == {A: 11, B: 22}
        # nothing more matches: a bare checkpoint moves past what was skipped
        h.publish(ce(4, "mun-b"), A, 11)
        [(checkpoint, nothing)] = await take(session, 1)
        assert nothing is None
        assert stream_cursor.decode(h.layout, checkpoint) == {A: 12, B: 22}
        await session.aclose()


async def test_a_client_that_falls_behind_is_ended_not_thinned():
    h = hub(queue_size=2)
    async with h.listen(Owner("r"), Filters()) as listener:
        for n in range(4):
            h.publish(ce(n), A, 10 + n)
        got = [e["id"] async for _, e in h.session(listener, None) if e is not None]
    assert got == ["e-0", "e-1"]  # then the stream ends; the client resumes from e-1's id
