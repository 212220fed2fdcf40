"""A correction replaces the earlier result; unprocessable events go to the dead-letter topic
with the reason; the read API enforces tenants."""

from __future__ import annotations

import httpx
from aiokafka import AIOKafkaConsumer
from indicators_testkit import wait_for

from shkala_contracts import Tenant
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.indicators import IndicatorValueChanged
from shkala_contracts.events.org_units import MunicipalityRegistered, SchoolRegistered
from shkala_indicators.bootstrap import bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.consuming import decode
from shkala_runtime.kafka import EventPublisher, Outgoing
from shkala_runtime.settings import ServiceSettings

SRC = "/shkala/test-ingest"


def vpr(school: str, student: str, mark: int) -> AssessmentResultRecorded:
    return AssessmentResultRecorded(
        school_id=school,
        academic_year="2025/26",
        procedure="ВПР",
        subject="математика",
        grade=5,
        student=student,
        mark=mark,
        journal_mark=4,
    )


async def test_correction_dead_letters_and_tenants(test_settings: ServiceSettings) -> None:
    settings = Settings(**test_settings.model_dump())
    svc = bootstrap(settings)
    region = settings.region_id
    t_a = Tenant(region=region, municipality="mA", school="sA")
    t_b = Tenant(region=region, municipality="mB", school="sB")
    org = [
        Outgoing.of(
            MunicipalityRegistered(region_id=region, municipality_id=m, name=m),
            source=SRC,
            tenant=Tenant(region=region, municipality=m),
        )
        for m in ("mA", "mB")
    ] + [
        Outgoing.of(
            SchoolRegistered(
                region_id=region, municipality_id=t.municipality, school_id=t.school, name=t.school
            ),
            source=SRC,
            tenant=t,
        )
        for t in (t_a, t_b)
    ]
    s1, s2 = "p" + "a1" * 12, "p" + "b2" * 12
    key = "vpr_mark2_share_math|school|sA|2025/26"
    async with svc.app.router.lifespan_context(svc.app):
        gen = await svc.pointer.current()
        pub = EventPublisher(settings)
        await pub.start()
        try:
            await pub.publish(org)
            table = svc.table

            async def has(unit: str) -> bool:
                return unit in table.org

            await wait_for(lambda: has("sB"))
            await pub.publish(
                [
                    Outgoing.of(vpr("sA", s1, 2), source=SRC, tenant=t_a),
                    Outgoing.of(vpr("sA", s2, 4), source=SRC, tenant=t_a),
                ]
            )

            async def current(school: str) -> dict | None:  # type: ignore[type-arg]
                return table.school_value("vpr_mark2_share_math", school, "2025/26")

            async def value() -> float | None:
                doc = await current("sA")
                return doc and doc["value"]

            assert await wait_for(value) == 50.0
            # the first result is resubmitted with mark 5: it replaces, it is not added
            await pub.publish(
                [Outgoing.of(vpr("sA", s1, 5), source=SRC, tenant=t_a, originator_version=2)]
            )
            await wait_for(lambda: _eq(value, 0.0))
            doc = await current("sA")
            assert doc is not None
            assert (doc["numerator"], doc["denominator"]) == (0.0, 2.0)

            # a fact may arrive before its school's registration (another topic): it waits
            ghost = Tenant(region=region, municipality="mA", school="ghost")
            s3 = "p" + "c3" * 12  # a student's results are keyed without the school: a new one
            await pub.publish([Outgoing.of(vpr("ghost", s3, 2), source=SRC, tenant=ghost)])
            await wait_for(lambda: gen.cells.find_one({"school_id": "ghost"}))
            assert await current("ghost") is None
            await pub.publish(
                [
                    Outgoing.of(
                        SchoolRegistered(
                            region_id=region, municipality_id="mA", school_id="ghost", name="g"
                        ),
                        source=SRC,
                        tenant=ghost,
                    )
                ]
            )
            late = await wait_for(lambda: current("ghost"))
            assert (late["numerator"], late["denominator"]) == (1.0, 1.0)

            # a fact filed under another school's tenant and an undecodable message go to
            # the dead-letter topic
            await pub.publish([Outgoing.of(vpr("sA", s2, 3), source=SRC, tenant=t_b)])
            topic = settings.topic_name(AssessmentResultRecorded.topic)
            await pub.send_raw(topic, b"{broken", b"sA", [("ce_type", b"x")])
        finally:
            await pub.stop()

        consumer = AIOKafkaConsumer(
            topic + ".dlq",
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=f"dlq-{settings.service_name}",
        )
        await consumer.start()
        reasons: list[str] = []
        try:

            async def two() -> bool:
                got = await consumer.getmany(timeout_ms=1000)
                for recs in got.values():
                    reasons.extend(dict(r.headers)["x-dlq-reason"].decode() for r in recs)
                return len(reasons) >= 2

            await wait_for(two)
        finally:
            await consumer.stop()
        assert any("tenant school 'sB' differs from 'sA'" in r for r in reasons), reasons
        assert any("undecodable" in r for r in reasons), reasons

        # derived events: the change 50 -> 0 was published with old and new values
        consumer = AIOKafkaConsumer(
            settings.topic_name("shkala.indicators.v1"),
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=f"ev-{settings.service_name}",
        )
        await consumer.start()
        changes: list[IndicatorValueChanged] = []
        try:

            async def seen() -> bool:
                got = await consumer.getmany(timeout_ms=1000)
                for recs in got.values():
                    for r in recs:
                        ev = decode(r).event
                        if (
                            isinstance(ev, IndicatorValueChanged)
                            and ev.originator_id == f"indicator:{key}"
                        ):
                            changes.append(ev)
                return len(changes) >= 2

            await wait_for(seen)
        finally:
            await consumer.stop()
        assert [(c.old_value, c.new_value) for c in changes] == [(None, 50.0), (50.0, 0.0)]
        assert [c.originator_version for c in changes] == [1, 2]
        assert changes[1].threshold_crossed is not None
        assert changes[1].threshold_crossed.value == "out_of_risk"

        # tenants on the read API
        def client(token: str | None) -> httpx.AsyncClient:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return httpx.AsyncClient(
                transport=httpx.ASGITransport(app=svc.app), base_url="http://t", headers=headers
            )

        school_a = issue_token(settings, "school", municipality="mA", school="sA")
        mun_a = issue_token(settings, "municipality", municipality="mA")
        reg = issue_token(settings, "region")
        cases = [
            (None, "/schools/sA", 401),
            (school_a, "/schools/sA", 200),
            (school_a, "/schools/sB", 403),
            (school_a, "/municipalities/mA/table?period=2025/26", 403),
            (school_a, "/lists/ШНОР?period=2025/26", 403),
            (mun_a, "/schools/sA", 200),
            (mun_a, "/schools/sB", 403),
            (mun_a, "/municipalities/mA/table?period=2025/26", 200),
            (mun_a, "/municipalities/mB/table?period=2025/26", 403),
            (mun_a, "/lists/ШНОР?period=2025/26&municipality=mB", 403),
            (mun_a, "/region/summary?period=2025/26", 403),
            (reg, "/schools/sB", 200),
            (reg, "/municipalities/mB/table?period=2025/26", 200),
            (reg, "/region/summary?period=2025/26", 200),
            (reg, "/catalogue", 200),
            (reg, "/directions/objectivity?period=2025/26", 200),
        ]
        for token, path, status in cases:
            async with client(token) as http:
                r = await http.get(path)
                assert r.status_code == status, (path, r.status_code, r.text)
        async with client(school_a) as http:
            card = (await http.get("/schools/sA")).json()
        ind = next(i for i in card["indicators"] if i["id"] == "vpr_mark2_share_math")
        assert ind["latest"]["value"] == 0.0
        assert ind["latest"]["definition_version"] == "2026.1"
        assert card["freshness"]["last_event_time"]
        # time travel: before the correction the value was 50
        async with client(reg) as http:
            hist = await svc.app.state.read_model.history("sA", "vpr_mark2_share_math", "2025/26")
            r = await http.get(
                "/schools/sA/indicators/vpr_mark2_share_math",
                params={"period": "2025/26", "as_of": hist[0]["as_of"].isoformat()},
            )
            assert r.status_code == 200
            assert r.json()["value"]["value"] == 50.0


async def _eq(fn, expected):  # type: ignore[no-untyped-def]
    return (await fn()) == expected
