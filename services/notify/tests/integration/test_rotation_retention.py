"""Secret rotation with an overlap window, and the retention of delivery records, on the
real broker and database."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from shkala_notify.service_layer.retention import sweep


async def test_rotation_signs_with_both_secrets_until_the_overlap_ends(
    h, settings, receiver, publisher
):
    auth = h.auth(settings, "municipality", "mun-a")
    async with h.running(settings) as (_service, client):
        sub = (
            await client.post("/subscriptions", json={"url": receiver.url + "/r"}, headers=auth)
        ).json()
        old = sub["secret"]
        rotated = await client.post(
            f"/subscriptions/{sub['id']}/secret/rotate", json={"overlap_s": 4}, headers=auth
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != old
        assert new.startswith("whsec_")
        [previous] = rotated.json()["previous"]
        assert dt.datetime.fromisoformat(previous["expires_at"]) > dt.datetime.now(dt.UTC)
        shown = (await client.get(f"/subscriptions/{sub['id']}/secret", headers=auth)).json()
        assert shown["secret"] == new

        await publisher.publish([h.list_changed(settings, "mun-a", "sch-1")])
        await h.eventually(lambda: len(receiver.received) == 1, what="the first webhook")
        during = receiver.received[0]
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        Webhook(old).verify(during.body, during.headers)  # a receiver not switched yet
        Webhook(new).verify(during.body, during.headers)  # a receiver already switched

        await asyncio.sleep(4.5)  # the overlap window ends
        await publisher.publish([h.list_changed(settings, "mun-a", "sch-2")])
        await h.eventually(lambda: len(receiver.received) == 2, what="the second webhook")
        after = receiver.received[1]
        Webhook(new).verify(after.body, after.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(after.body, after.headers)
        assert (await client.get(f"/subscriptions/{sub['id']}/secret", headers=auth)).json()[
            "previous"
        ] == []

        # another tenant cannot rotate it; a bad secret is refused and changes nothing
        other = h.auth(settings, "municipality", "mun-b")
        resp = await client.post(f"/subscriptions/{sub['id']}/secret/rotate", headers=other)
        assert resp.status_code == 404
        resp = await client.post(
            f"/subscriptions/{sub['id']}/secret/rotate", json={"secret": "nope"}, headers=auth
        )
        assert resp.status_code == 422
        assert resp.headers["content-type"] == "application/problem+json"
        shown = (await client.get(f"/subscriptions/{sub['id']}/secret", headers=auth)).json()
        assert shown["secret"] == new


async def test_retention_deletes_only_finished_records_past_their_time(h, settings):
    # the service's own sweeper off: its first sweep at start could take these records first
    quiet = settings.model_copy(update={"webhook_delivery_retention_days": 0})
    async with h.running(quiet) as (service, _client):
        now = dt.datetime.now(dt.UTC)
        old, recent = now - dt.timedelta(days=40), now - dt.timedelta(days=5)
        docs = [
            {
                "_id": f"d-{status}-{age}",
                "subscription_id": "s",
                "status": status,
                "updated_at": at,
                "created_at": at,
                "next_attempt_at": None,
            }
            for status in ("delivered", "failed", "pending")
            for age, at in (("old", old), ("recent", recent))
        ]
        await service.store.add_deliveries(docs)
        purged = await sweep(service.store, now, dt.timedelta(days=30))
        left = sorted(d["_id"] for d in await service.store.deliveries.find({}).to_list())
        assert purged == 2
        assert left == [
            "d-delivered-recent",
            "d-failed-recent",
            "d-pending-old",
            "d-pending-recent",
        ]
