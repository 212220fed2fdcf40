"""After the broker loses an idempotent producer's sequence state (a broker restart), every
later send fails the same way: the publisher must start a new producer and let the caller
retry, not stay broken until the process restarts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber

from shkala_contracts import Tenant
from shkala_contracts.events.org_units import RegionRegistered
from shkala_runtime.kafka import EventPublisher, Outgoing
from shkala_runtime.settings import ServiceSettings


class BrokenProducer:
    """Acknowledges nothing: every send's future fails as after a broker restart."""

    def __init__(self) -> None:
        self.stopped = False

    async def send(self, *args: Any, **kw: Any) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        fut.set_exception(OutOfOrderSequenceNumber())
        return fut

    async def stop(self) -> None:
        self.stopped = True


async def test_a_lost_sequence_renews_the_producer_and_reraises() -> None:
    publisher = EventPublisher(ServiceSettings())
    broken = BrokenProducer()
    publisher._producer = broken  # type: ignore[assignment]
    started: list[bool] = []

    async def start() -> None:  # stands in for connecting a new producer
        started.append(True)
        publisher._producer = "fresh"  # type: ignore[assignment]

    publisher.start = start  # type: ignore[method-assign]
    event = RegionRegistered(region_id="r", name="Region")
    with pytest.raises(OutOfOrderSequenceNumber):
        await publisher.publish([Outgoing.of(event, source="/t", tenant=Tenant(region="r"))])
    assert broken.stopped
    assert started == [True]
    assert publisher._producer == "fresh"
