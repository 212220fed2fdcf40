"""A measure on three ШНОР schools whose indicators improve is evaluated effective,
automatically, once the evaluation period's indicator events arrive."""

import asyncio

from shkala_contracts import Tenant
from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    RiskList,
    Scope,
)
from shkala_contracts.events.plans import TOPIC as PLANS
from shkala_runtime.kafka import EventPublisher, Outgoing

from .conftest import auth, read_topic, running

SCHOOLS = ("sch-a", "sch-b", "sch-c")
# indicator -> better direction, baseline values, evaluation values (independent figures)
FIGURES = {
    "ege_high_share": ("higher", (4.0, 6.0, 2.0), (9.0, 10.0, 5.0)),
    "vpr_mark2_share": ("lower", (31.0, 28.0, 40.0), (22.0, 20.0, 33.0)),
}


def value_events(period: str, which: int, version: int) -> list[IndicatorValueChanged]:
    return [
        IndicatorValueChanged(
            originator_id=f"ind:{school}:{ind}:{period}",
            originator_version=version,
            region_id="demo",
            municipality_id="m1",
            school_id=school,
            indicator_id=ind,
            direction="low_results",
            scope=Scope.SCHOOL,
            period=period,
            definition_version="1",
            old_value=None,
            new_value=figs[1 + which][i],
            numerator=figs[1 + which][i],
            denominator=100,
        )
        for ind, figs in FIGURES.items()
        for i, school in enumerate(SCHOOLS)
    ]


def membership(period: str, change: MembershipChange) -> list[ListMembershipChanged]:
    return [
        ListMembershipChanged(
            originator_id=f"list:{school}:ШНОР",
            originator_version=1 if change is MembershipChange.ENTERED else 2,
            region_id="demo",
            municipality_id="m1",
            school_id=school,
            risk_list=RiskList.LOW_RESULTS,
            period=period,
            change=change,
            definition_version="1",
        )
        for school in SCHOOLS
    ]


async def publish(settings, events) -> None:
    pub = EventPublisher(settings)
    await pub.start()
    try:
        await pub.publish(
            [
                Outgoing.of(
                    e,
                    source="/test/indicators",
                    originator_version=e.originator_version,
                    tenant=Tenant(region="demo", municipality="m1", school=e.school_id),
                )
                for e in events
            ]
        )
    finally:
        await pub.stop()


async def test_measure_on_three_shnor_schools_is_evaluated_effective_automatically(settings):
    async with running(settings) as (_, client):
        h = auth(settings)
        await publish(
            settings,
            [*value_events("2023/24", 0, 1), *membership("2023/24", MembershipChange.ENTERED)],
        )
        r = await client.post(
            "/measures",
            headers=h,
            json={
                "municipality_id": "m1",
                "title": "Сетевые пары с ведущими школами",
                "direction": "low_results",
                "target_schools": list(SCHOOLS),
                "indicators": [{"indicator_id": k, "better": v[0]} for k, v in FIGURES.items()],
                "baseline_period": "2023/24",
                "evaluation_period": "2024/25",
            },
        )
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        await asyncio.sleep(1.0)
        assert (await client.get(f"/measures/{mid}", headers=h)).json()["evaluation"] is None

        # the new period's indicator events arrive: nobody asks, the evaluation appears
        await publish(
            settings,
            [*value_events("2024/25", 1, 2), *membership("2024/25", MembershipChange.LEFT)],
        )
        evaluation = None
        for _ in range(150):
            evaluation = (await client.get(f"/measures/{mid}", headers=h)).json()["evaluation"]
            if evaluation:
                break
            await asyncio.sleep(0.1)
        assert evaluation is not None, "not evaluated automatically"
        assert evaluation["verdict"] == "effective"
        assert evaluation["trigger"] == "indicator_events"
        assert (evaluation["improved"], evaluation["worsened"]) == (6, 0)
        assert sorted(evaluation["left_lists"]) == list(SCHOOLS)
        changes = {(c["school_id"], c["indicator_id"]): c["change"] for c in evaluation["changes"]}
        for ind, (_, base, new) in FIGURES.items():
            for i, school in enumerate(SCHOOLS):
                assert changes[(school, ind)] == new[i] - base[i]
        # the municipality's measures whole, in one answer: each as its own page gives it
        r = await client.get("/measures", headers=h, params={"municipality_id": "m1", "full": 1})
        assert r.status_code == 200, r.text
        assert r.json() == [(await client.get(f"/measures/{mid}", headers=h)).json()]

        # redelivery changes nothing; the evaluation went out once on the plans topic
        await publish(settings, value_events("2024/25", 1, 2))
        await asyncio.sleep(1.5)
        records = await read_topic(settings, PLANS, expect=2)
        evaluated = [
            x
            for x in records
            if dict(x.headers)["ce_type"] == b"ru.shkala.plans.effectiveness_evaluated.v1"
        ]
        assert len(evaluated) == 1
        cycle = (await client.get("/cycle/m1/low_results", headers=h)).json()
        assert cycle["effectiveness"] == [{"measure_id": mid, "verdict": "effective"}]
