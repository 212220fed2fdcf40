"""Two plans instances at once: each row-due / row-overdue is fired exactly once, and only
the lease holder runs the scheduler."""

import asyncio
import contextlib
import datetime as dt
import json
from collections import Counter

from shkala_plans.adapters.lease import Lease
from shkala_runtime.mongo import database, make_client

from .conftest import auth, read_topic, running


async def test_two_instances_fire_each_due_and_overdue_once(settings):
    settings = settings.model_copy(update={"plans_scheduler_interval_s": 0.2})
    today = dt.date.today()
    headers = auth(settings)
    async with running(settings) as (_a, ca), running(settings) as (_b, cb):
        r = await ca.post(
            "/roadmaps",
            json={
                "municipality_id": "m1",
                "title": "ДК",
                "starts_on": (today - dt.timedelta(days=60)).isoformat(),
            },
            headers=headers,
        )
        rid, v = r.json()["id"], r.json()["version"]
        for client, deadline in (
            (ca, f"до {(today + dt.timedelta(days=5)):%d.%m.%Y}"),
            (cb, f"до {(today - dt.timedelta(days=5)):%d.%m.%Y}"),
        ):
            for _attempt in range(5):
                r = await client.post(
                    f"/roadmaps/{rid}/rows",
                    json={"expected_version": v, "activity": "Мероприятие", "deadline": deadline},
                    headers=headers,
                )
                if r.status_code != 409:
                    break
                # the scheduler (every 0.2 s) got in first with row 1's due event: read again
                v = r.json()["current_version"]
            assert r.status_code == 200, r.text
            v = r.json()["version"]
        await asyncio.sleep(3)  # ~15 ticks of each instance
        records = await read_topic(settings, "shkala.plans.v1", expect=5)
    fired = Counter(
        (dict(x.headers)["ce_type"].decode().split(".")[-2], json.loads(x.value)["row_id"])
        for x in records
        if b"roadmap_row_due" in dict(x.headers)["ce_type"]
        or b"roadmap_row_overdue" in dict(x.headers)["ce_type"]
    )
    assert fired == {("roadmap_row_due", "r1"): 1, ("roadmap_row_overdue", "r2"): 1}


async def test_the_lease_has_one_holder_and_passes_on_release(settings):
    mongo = make_client(settings)
    try:
        db = database(mongo, settings)
        a, b = Lease(db, "job", 30), Lease(db, "job", 30)
        results = await asyncio.gather(a.hold(), b.hold())
        assert sorted(results) == [False, True]  # taken at once: exactly one holder
        holder, other = (a, b) if results[0] else (b, a)
        assert await holder.hold()  # renewing is fine
        assert not await other.hold()
        at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        await holder.ran(at)
        await holder.release()
        assert await other.hold()
        assert not await holder.hold()
        assert await other.last_run() == at  # the takeover knows when the job last ran
    finally:
        with contextlib.suppress(Exception):
            await mongo.close()
