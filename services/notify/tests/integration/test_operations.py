"""Endpoints that keep failing are disabled with an operational event; manual redelivery."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from standardwebhooks import Webhook

from shkala_contracts.events.notify import EndpointDisabled
from shkala_runtime.consuming import decode


async def read_topic(settings, topic: str) -> list:
    consumer = AIOKafkaConsumer(
        settings.topic_name(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=2000)
        return [decode(r) for records in batches.values() for r in records]
    finally:
        await consumer.stop()


async def test_failing_endpoint_is_disabled_then_enabled_and_redelivered(
    h, test_settings, receiver, publisher
):
    settings = h.make_settings(test_settings, webhook_disable_after_s=1.0)
    dead = h.Receiver(port=h.free_port())
    region = h.auth(settings, "region")
    mun = h.auth(settings, "municipality", "mun-a")
    async with h.running(settings) as (_service, client):
        watcher = (
            await client.post(
                "/subscriptions",
                json={
                    "url": receiver.url + "/ops",
                    "filters": {"event_types": ["ru.shkala.notify.*"]},
                },
                headers=region,
            )
        ).json()
        sub = (
            await client.post("/subscriptions", json={"url": dead.url + "/x"}, headers=mun)
        ).json()
        outgoing = h.list_changed(settings, "mun-a", "sch-1")
        await publisher.publish([outgoing])

        async def status() -> str:
            return (await client.get(f"/subscriptions/{sub['id']}", headers=mun)).json()["status"]

        await h.eventually(lambda: _eq(status(), "disabled"), what="endpoint disabled")
        disabled = (await client.get(f"/subscriptions/{sub['id']}", headers=mun)).json()
        assert disabled["disabled_reason"].startswith("every delivery failed for")
        assert "ConnectError" in disabled["last_error"]

        # The operational event is on the public notify topic, tenant = the owner's.
        await h.eventually(
            lambda: any(
                r.json()["type"].endswith("endpoint_disabled.v1") for r in receiver.received
            ),
            what="endpoint_disabled pushed to the watcher",
        )
        on_topic = [
            d
            for d in await read_topic(settings, "shkala.notify.v1")
            if isinstance(d.event, EndpointDisabled)
        ]
        assert [d.event.subscription_id for d in on_topic] == [sub["id"]]
        assert on_topic[0].envelope.tenant.municipality == "mun-a"
        assert on_topic[0].event.target_host == "127.0.0.1"
        pushed = next(r for r in receiver.received if "endpoint_disabled" in r.json()["type"])
        Webhook(watcher["secret"]).verify(pushed.body, pushed.headers)
        assert pushed.json()["text"].startswith(f"Адрес доставки 127.0.0.1 подписки {sub['id']}")

        # Nothing more is attempted: the pending delivery fails as disabled.
        deliveries = f"/subscriptions/{sub['id']}/deliveries"

        async def given_up() -> bool:
            log = (await client.get(deliveries, headers=mun)).json()
            return log[0]["status"] == "failed"

        await h.eventually(given_up, what="delivery given up")
        delivery = (await client.get(deliveries, headers=mun)).json()[0]
        assert delivery["last_error"] == "endpoint disabled"
        redeliver = f"{deliveries}/{delivery['id']}/redeliver"
        assert (await client.post(redeliver, headers=mun)).status_code == 409

        # The receiver comes back; the owner enables the endpoint and redelivers.
        await dead.start()
        try:
            resp = await client.patch(
                f"/subscriptions/{sub['id']}", json={"enabled": True}, headers=mun
            )
            assert resp.json()["status"] == "active"
            assert (await client.post(redeliver, headers=mun)).status_code == 202
            await h.eventually(lambda: len(dead.received) == 1, what="redelivery")
            got = dead.received[0]
            assert got.headers["webhook-id"] == outgoing.envelope.id
            payload = Webhook(sub["secret"]).verify(got.body, got.headers)
            assert payload["data"] == outgoing.event.model_dump(mode="json")
            await h.eventually(
                _delivered(client, deliveries, mun, outgoing.envelope.id), what="log", within=5
            )
            await h.eventually(
                lambda: any(
                    r.json()["type"].endswith("endpoint_enabled.v1") for r in receiver.received
                ),
                what="endpoint_enabled pushed",
            )
        finally:
            await dead.stop()


async def _eq(value, expected) -> bool:
    return (await value) == expected


def _delivered(client, path, headers, event_id):
    async def check() -> bool:
        log = (await client.get(path, headers=headers)).json()
        return [(d["event_id"], d["status"]) for d in log] == [(event_id, "delivered")]

    return check
