"""Webhook delivery on the real broker and database, to a real local HTTP receiver."""

from __future__ import annotations

import json

from standardwebhooks import Webhook


async def test_delivery_verifies_with_standardwebhooks(h, settings, receiver, publisher):
    async with h.running(settings) as (service, client):
        resp = await client.post(
            "/subscriptions",
            json={"url": receiver.url + "/hook", "filters": {"schools": ["sch-5"]}},
            headers=h.auth(settings, "municipality", "mun-a"),
        )
        assert resp.status_code == 201, resp.text
        sub = resp.json()
        secret = sub["secret"]
        assert secret.startswith("whsec_")
        assert sub["owner"]["municipality"] == "mun-a"

        # The org-unit registry gives the school its name for the sentence.
        await publisher.publish([h.school_registered(settings, "mun-a", "sch-5", "МБОУ СОШ № 5")])
        await h.eventually(
            lambda: service.store.org_unit("sch-5"), what="school name from the registry"
        )
        # Known to be mun-a's school: mun-b cannot subscribe to it.
        resp = await client.post(
            "/subscriptions",
            json={"url": receiver.url + "/other", "filters": {"schools": ["sch-5"]}},
            headers=h.auth(settings, "municipality", "mun-b"),
        )
        assert resp.status_code == 403
        outgoing = h.list_changed(settings, "mun-a", "sch-5")
        await publisher.publish([outgoing, h.value_changed(settings, "mun-a", "sch-6")])

        await h.eventually(lambda: len(receiver.received) >= 1, what="the webhook")
        got = receiver.received[0]
        payload = Webhook(secret).verify(got.body, got.headers)  # raises if not signed right
        assert got.headers["webhook-id"] == outgoing.envelope.id
        assert got.headers["content-type"].startswith("application/cloudevents+json")
        assert payload["id"] == outgoing.envelope.id
        assert payload["type"] == "ru.shkala.indicators.list_membership_changed.v1"
        assert payload["specversion"] == "1.0"
        assert payload["school"] == "sch-5"
        assert payload["data"] == outgoing.event.model_dump(mode="json")
        assert payload["text"] == (
            "Школа МБОУ СОШ № 5 вошла в список ШНОР по итогам 2025/26 учебного года"
        )

        # The delivery log shows the one successful attempt; sch-6 did not match the filter.
        async def delivered() -> bool:
            log = (
                await client.get(
                    f"/subscriptions/{sub['id']}/deliveries",
                    headers=h.auth(settings, "municipality", "mun-a"),
                )
            ).json()
            return len(log) == 1 and log[0]["status"] == "delivered"

        await h.eventually(delivered, what="delivery log")
        assert len(receiver.received) == 1


async def test_receiver_down_and_notify_restarted_every_event_arrives_unchanged(
    h, settings, publisher
):
    receiver = h.Receiver(port=h.free_port())  # not started: connection refused
    mun = h.auth(settings, "municipality", "mun-a")
    sent = []
    async with h.running(settings) as (_service, client):
        resp = await client.post("/subscriptions", json={"url": receiver.url + "/in"}, headers=mun)
        assert resp.status_code == 201, resp.text
        sub = resp.json()
        sent += [h.value_changed(settings, "mun-a", f"sch-{i}", n=i + 1) for i in range(3)]
        await publisher.publish(sent)

        async def all_failed_once() -> bool:
            log = (await client.get(f"/subscriptions/{sub['id']}/deliveries", headers=mun)).json()
            return len(log) == 3 and all(d["attempts"] >= 1 for d in log)

        await h.eventually(all_failed_once, what="three failed attempts")
        log = (await client.get(f"/subscriptions/{sub['id']}/deliveries", headers=mun)).json()
        assert all(d["status"] == "pending" for d in log)
        assert all("ConnectError" in d["last_error"] for d in log)

    # notify is down: more events arrive in the log meanwhile
    later = [h.flag_raised(settings, "mun-a", "sch-7"), h.list_changed(settings, "mun-a", "sch-8")]
    await publisher.publish(later)
    sent += later
    await receiver.start()
    try:
        async with h.running(settings) as (_service, client):
            expected = {o.envelope.id: o for o in sent}
            await h.eventually(
                lambda: {r.headers["webhook-id"] for r in receiver.received} >= expected.keys(),
                what="all five events at the receiver",
            )
            for got in receiver.received:
                payload = Webhook(sub["secret"]).verify(got.body, got.headers)
                original = expected[got.headers["webhook-id"]]
                assert payload["data"] == original.event.model_dump(mode="json")
                assert payload["type"] == original.envelope.type
                assert payload["time"] == original.envelope.to_headers()[4][1].decode()

            async def all_delivered() -> bool:
                log = (
                    await client.get(f"/subscriptions/{sub['id']}/deliveries", headers=mun)
                ).json()
                return len(log) == 5 and all(d["status"] == "delivered" for d in log)

            await h.eventually(all_delivered, what="five delivered in the log")
    finally:
        await receiver.stop()


async def test_municipality_subscriber_never_gets_another_municipalitys_events(
    h, settings, receiver, publisher
):
    async with h.running(settings) as (_service, client):
        subs = {}
        for path, headers in (
            ("/a", h.auth(settings, "municipality", "mun-a")),
            ("/b", h.auth(settings, "municipality", "mun-b")),
            ("/s", h.auth(settings, "school", "mun-a", "sch-a1")),
            ("/r", h.auth(settings, "region")),
        ):
            resp = await client.post(
                "/subscriptions", json={"url": receiver.url + path}, headers=headers
            )
            assert resp.status_code == 201, resp.text
            subs[path] = resp.json()

        # Filters never reach outside the tenant: asking for it is refused.
        resp = await client.post(
            "/subscriptions",
            json={"url": receiver.url + "/x", "filters": {"municipalities": ["mun-b"]}},
            headers=h.auth(settings, "municipality", "mun-a"),
        )
        assert resp.status_code == 403
        assert resp.headers["content-type"] == "application/problem+json"
        # ...and one tenant cannot see another's subscription.
        resp = await client.get(
            f"/subscriptions/{subs['/b']['id']}", headers=h.auth(settings, "municipality", "mun-a")
        )
        assert resp.status_code == 404

        events_a = [
            h.list_changed(settings, "mun-a", "sch-a1"),
            h.value_changed(settings, "mun-a", "sch-a2"),
            h.flag_raised(settings, "mun-a", "sch-a1"),
        ]
        events_b = [
            h.list_changed(settings, "mun-b", "sch-b1"),
            h.value_changed(settings, "mun-b", "sch-b2"),
            h.flag_raised(settings, "mun-b", "sch-b1"),
        ]
        await publisher.publish([x for pair in zip(events_a, events_b, strict=True) for x in pair])
        await h.eventually(
            lambda: (
                len(receiver.at("/r")) >= 6
                and len(receiver.at("/a")) >= 3
                and len(receiver.at("/b")) >= 3
                and len(receiver.at("/s")) >= 2
            ),
            what="deliveries to all four subscribers",
        )

        def ids(path: str) -> set[str]:
            return {r.headers["webhook-id"] for r in receiver.at(path)}

        def municipalities(path: str) -> set[str]:
            return {r.json()["municipality"] for r in receiver.at(path)}

        assert ids("/a") == {o.envelope.id for o in events_a}
        assert ids("/b") == {o.envelope.id for o in events_b}
        assert ids("/s") == {events_a[0].envelope.id, events_a[2].envelope.id}
        assert ids("/r") == {o.envelope.id for o in events_a + events_b}
        assert municipalities("/a") == {"mun-a"}
        assert municipalities("/b") == {"mun-b"}
        # each verifies with its own subscription's secret, not with another's
        for path in ("/a", "/b"):
            for r in receiver.at(path):
                Webhook(subs[path]["secret"]).verify(r.body, r.headers)


async def test_private_targets_are_refused_with_a_problem(h, test_settings):
    settings = h.make_settings(test_settings, webhook_allow_networks=())
    headers = h.auth(settings, "region")
    async with h.running(settings) as (_service, client):
        for url in (
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.10/hook",
            "http://172.16.5.5/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.1.1/hook",
            "http://0.0.0.0/hook",
            "http://224.0.0.251/hook",
            "http://[::1]/hook",
            "http://[fe80::1]/hook",
            "http://[fd00::5]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "ftp://93.184.216.34/hook",
            "file:///etc/passwd",
        ):
            resp = await client.post("/subscriptions", json={"url": url}, headers=headers)
            assert resp.status_code == 422, (url, resp.text)
            problem = resp.json()
            assert resp.headers["content-type"] == "application/problem+json"
            assert problem["type"] == "urn:shkala:problem:webhook-target-refused", url
            assert problem["errors"][0]["location"] == "body.url"
        assert (await client.get("/subscriptions", headers=headers)).json() == []

        # A public address literal is accepted (no DNS needed).
        resp = await client.post(
            "/subscriptions", json={"url": "https://93.184.216.34/hook"}, headers=headers
        )
        assert resp.status_code == 201, resp.text
        # Changing the URL to a private one is refused the same way.
        resp = await client.patch(
            f"/subscriptions/{resp.json()['id']}",
            json={"url": "http://10.0.0.1/"},
            headers=headers,
        )
        assert resp.status_code == 422


async def test_private_target_is_refused_again_at_delivery(h, test_settings, receiver, publisher):
    """Registered while the allow-list admitted it; refused at delivery once it does not."""
    open_settings = h.make_settings(test_settings)
    headers = h.auth(open_settings, "region")
    async with h.running(open_settings) as (_service, client):
        sub = (
            await client.post("/subscriptions", json={"url": receiver.url + "/p"}, headers=headers)
        ).json()
    strict = h.make_settings(test_settings, webhook_allow_networks=())
    async with h.running(strict) as (_service, client):
        await publisher.publish([h.list_changed(strict, "mun-a", "sch-1")])

        async def refused() -> bool:
            log = (
                await client.get(f"/subscriptions/{sub['id']}/deliveries", headers=headers)
            ).json()
            return bool(log) and log[0]["attempts"] >= 1

        await h.eventually(refused, what="a refused attempt")
        log = (await client.get(f"/subscriptions/{sub['id']}/deliveries", headers=headers)).json()
        assert "refused: target address 127.0.0.1 is loopback" in log[0]["last_error"]
        assert log[0]["log"][0]["status_code"] is None
    assert receiver.received == []


async def test_a_measure_is_named_by_its_title_even_after_a_restart(
    h, settings, receiver, publisher
):
    """«мера «…» — реализуется»: the title comes from the measure's own first event, kept in
    the database, so a notify started after that event still names the measure."""
    from shkala_contracts import Tenant
    from shkala_contracts.events.cycle import MeasureStatus, MeasureStatusChanged
    from shkala_contracts.events.plans import Better, LinkedIndicator, MeasureTaken
    from shkala_runtime.kafka import Outgoing

    where = Tenant(region=settings.region_id, municipality="mun-a")
    common = {"region_id": settings.region_id, "municipality_id": "mun-a", "school_id": None}
    taken = MeasureTaken(
        originator_id="measure:t1", originator_version=1, title="Наставничество для ШНОР",
        direction="low_results", target_schools=("sch-5",),
        indicators=(LinkedIndicator(indicator_id="vpr_mark2_share_math", better=Better.LOWER),),
        baseline_period="2024/25", evaluation_period="2025/26", **common,
    )  # fmt: skip
    running = MeasureStatusChanged(
        originator_id="measure:t1", originator_version=2, status=MeasureStatus.RUNNING,
        actor_role="municipality", actor_unit="mun-a", **common,
    )  # fmt: skip
    mun = h.auth(settings, "municipality", "mun-a")
    async with h.running(settings) as (service, client):
        resp = await client.post("/subscriptions", json={"url": receiver.url + "/m"}, headers=mun)
        assert resp.status_code == 201, resp.text
        await publisher.publish([Outgoing.of(taken, source="/shkala/plans", tenant=where)])
        await h.eventually(lambda: len(receiver.received) >= 1, what="the measure taken")
        assert await service.store.title("measure:t1") is not None
    async with h.running(settings):  # a fresh instance: nothing in memory
        await publisher.publish([Outgoing.of(running, source="/shkala/plans", tenant=where)])
        await h.eventually(lambda: len(receiver.received) >= 2, what="the status change")
    texts = [json.loads(r.body)["text"] for r in receiver.received]
    assert texts[1].startswith("Муниципалитет ")
    assert "мера «Наставничество для ШНОР» — реализуется" in texts[1]
