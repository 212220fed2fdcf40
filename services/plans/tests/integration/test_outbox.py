"""A crash between store and publish loses nothing and duplicates nothing."""

import asyncio
from collections import Counter

from shkala_contracts.events.plans import TOPIC
from shkala_plans.adapters.event_store import EVENTS
from shkala_runtime.kafka import EventPublisher
from shkala_runtime.mongo import database

from .conftest import auth, read_topic, running


class Crash(Exception):
    pass


class DiesBeforeSending:
    async def publish(self, items):
        raise Crash("process died before Kafka got anything")


class DiesAfterAck:
    """Kafka acknowledges, then the process dies before the store is marked: the relay
    never gets control back (it is cancelled with the app, like a killed process)."""

    def __init__(self, settings):
        self.real = EventPublisher(settings)
        self.sent = 0

    async def publish(self, items):
        await self.real.start()
        try:
            await self.real.publish(items)
            self.sent += len(items)
        finally:
            await self.real.stop()
        await asyncio.Event().wait()  # dead: never returns


async def _store_events(svc, client, settings, edits: int) -> str:
    h = auth(settings)
    r = (
        await client.post("/roadmaps", headers=h, json={"municipality_id": "m1", "title": "ДК"})
    ).json()
    v = r["version"]
    for i in range(edits):
        res = await client.post(
            f"/roadmaps/{r['id']}/rows",
            headers=h,
            json={"expected_version": v, "activity": f"a{i}", "deadline": "ежеквартально"},
        )
        v = res.json()["version"]
    return r["id"]


async def _unpublished(svc) -> int:
    db = database(svc.mongo, svc.settings)
    return await db[EVENTS].count_documents({"published": False})


async def _check_topic(settings, roadmap_id: str, versions: int) -> None:
    records = await read_topic(settings, TOPIC, expect=versions)
    mine = [r for r in records if dict(r.headers)["ce_originatorid"].decode() == roadmap_id]
    ids = Counter(dict(r.headers)["ce_id"].decode() for r in mine)
    assert all(n == 1 for n in ids.values()), "duplicated on the topic"
    got = sorted(int(dict(r.headers)["ce_originatorversion"]) for r in mine)
    assert got == list(range(1, versions + 1)), "lost or duplicated"


async def test_crash_before_publishing_loses_nothing(settings):
    async with running(settings, relay_publisher=DiesBeforeSending()) as (svc, client):
        rid = await _store_events(svc, client, settings, edits=4)
        assert await _unpublished(svc) == 5  # stored, never published
    async with running(settings) as (svc, client):  # restart with a working publisher
        await _check_topic(settings, rid, 5)
        assert await _unpublished(svc) == 0


async def test_crash_after_kafka_ack_duplicates_nothing(settings):
    dying = DiesAfterAck(settings)
    async with running(settings, relay_publisher=dying) as (svc, client):
        rid = await _store_events(svc, client, settings, edits=2)
        for _ in range(50):
            if dying.sent:
                break
            await asyncio.sleep(0.1)
        assert dying.sent >= 1  # on Kafka ...
        assert await _unpublished(svc) == 3  # ... but not marked in the store
    async with running(settings) as (svc, client):
        # the restarted relay reconciles with the topic instead of sending again
        await _check_topic(settings, rid, 3)
        assert await _unpublished(svc) == 0
        # and it keeps publishing what comes next, once
        h = auth(settings)
        got = (await client.get(f"/roadmaps/{rid}", headers=h)).json()
        await client.post(
            f"/roadmaps/{rid}/sections",
            headers=h,
            json={"expected_version": got["version"], "title": "Раздел"},
        )
        await _check_topic(settings, rid, 4)
