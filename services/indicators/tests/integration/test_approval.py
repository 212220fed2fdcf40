"""Indicator values carry the approval state of their school's monitoring period (issue 17,
ADR 0006): the plans service's period events, published on the real broker, reach the
replicated read table; the API marks each school value and says whether a roll-up rests on
approved data only."""

from __future__ import annotations

from typing import Any

import httpx
from indicators_testkit import wait_for

from shkala_contracts import Tenant
from shkala_contracts.events import cycle
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_indicators.bootstrap import bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher, Outgoing
from shkala_runtime.settings import ServiceSettings

SRC = "/shkala/test-ingest"
PLANS = "/shkala/plans"
YEAR = "2025/26"
IND = "vpr_mark2_share_math"


def vpr(school: str, student: str, mark: int) -> AssessmentResultRecorded:
    return AssessmentResultRecorded(
        school_id=school,
        academic_year=YEAR,
        procedure="ВПР",
        subject="математика",
        grade=5,
        student=student,
        mark=mark,
        journal_mark=4,
    )


async def test_values_and_roll_ups_follow_the_period_through_its_approval(
    test_settings: ServiceSettings,
) -> None:
    settings = Settings(**test_settings.model_dump())
    svc = bootstrap(settings)
    region = settings.region_id
    t_a = Tenant(region=region, municipality="mA", school="sA")
    t_a2 = Tenant(region=region, municipality="mA", school="sA2")
    org = [
        Outgoing.of(
            RegionRegistered(region_id=region, name="Область"),
            source=SRC,
            tenant=Tenant(region=region),
        ),
        Outgoing.of(
            MunicipalityRegistered(region_id=region, municipality_id="mA", name="МО"),
            source=SRC,
            tenant=Tenant(region=region, municipality="mA"),
        ),
    ] + [
        Outgoing.of(
            SchoolRegistered(region_id=region, municipality_id="mA", school_id=t.school, name="ОО"),
            source=SRC,
            tenant=t,
        )
        for t in (t_a, t_a2)
    ]

    def step(kind: type, version: int, role: str, **extra: Any) -> Outgoing:
        event = kind(
            originator_id="period:sA:2025-26",
            originator_version=version,
            region_id=region,
            municipality_id="mA",
            school_id="sA",
            period=YEAR,
            actor_role=role,
            actor_unit={"school": "sA", "municipality": "mA", "region": region}[role],
            **extra,
        )
        return Outgoing.of(event, source=PLANS, tenant=t_a)

    # the plans service's sequence for school sA, with the states the API must then show
    steps = [
        ([step(cycle.MonitoringPeriodOpened, 1, "school"),
          step(cycle.MonitoringPeriodSubmitted, 2, "school")], "submitted"),
        ([step(cycle.MonitoringPeriodReturned, 3, "municipality", reason="нет ВПР 5 кл.")],
         "returned"),
        ([step(cycle.MonitoringPeriodSubmitted, 4, "school", resubmission=True)],
         "submitted"),
        ([step(cycle.MonitoringPeriodApproved, 5, "municipality")], "approved"),
        ([step(cycle.MonitoringPeriodLocked, 6, "region")], "locked"),
    ]  # fmt: skip
    async with svc.app.router.lifespan_context(svc.app):
        pub = EventPublisher(settings)
        await pub.start()
        try:
            await pub.publish(org)

            async def registered() -> bool:
                return {"sA", "sA2"} <= set(svc.table.org)

            await wait_for(registered)
            await pub.publish(
                [
                    Outgoing.of(vpr("sA", "p" + "a1" * 12, 2), source=SRC, tenant=t_a),
                    Outgoing.of(vpr("sA2", "p" + "b2" * 12, 4), source=SRC, tenant=t_a2),
                ]
            )

            async def valued() -> bool:
                return all(svc.table.school_value(IND, s, YEAR) for s in ("sA", "sA2"))

            await wait_for(valued)

            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=svc.app),
                base_url="http://t",
                headers={"Authorization": f"Bearer {issue_token(settings, 'region')}"},
            ) as http:

                async def get(path: str) -> dict[str, Any]:
                    r = await http.get(path, params={"period": YEAR})
                    assert r.status_code == 200, r.text
                    return r.json()

                async def check(state: str, approved: int) -> None:
                    async def shown() -> bool:
                        one = await get(f"/schools/sA/indicators/{IND}")
                        return bool(one["approval"] == state)

                    await wait_for(shown)
                    one = await get(f"/schools/sA/indicators/{IND}")
                    assert one["value"]["value"] == 100.0
                    assert one["value"]["approval"] == state
                    card = await get("/schools/sA")
                    latest = next(i["latest"] for i in card["indicators"] if i["id"] == IND)
                    assert latest["approval"] == state
                    assert {e["approval"] for e in card["lists"]} == {state}
                    table = await get("/municipalities/mA/table")
                    rows = {r["school_id"]: r["approval"] for r in table["rows"]}
                    assert rows == {"sA": state, "sA2": "open"}
                    summary = table["approval"]
                    assert summary["schools"] == 2
                    assert summary["approved"] == approved
                    assert summary["by_state"][state] == 1 + (state == "open")
                    assert summary["rests_on_approved"] is False  # sA2 stays open
                    assert table["municipality"][IND]["approval"] == summary
                    region_ = await get("/region/summary")
                    assert region_["approval"]["region"] == summary
                    assert region_["approval"]["municipalities"]["mA"] == summary
                    assert region_["region"][IND]["approval"] == summary

                await check("open", 0)  # no period event yet
                for events, state in steps:
                    await pub.publish(events)
                    await check(state, 1 if state in ("approved", "locked") else 0)

                # once sA2 is approved and locked too, the roll-ups rest on approved data
                await pub.publish(
                    [
                        Outgoing.of(
                            cycle.MonitoringPeriodApproved(
                                originator_id="period:sA2:2025-26",
                                originator_version=3,
                                region_id=region,
                                municipality_id="mA",
                                school_id="sA2",
                                period=YEAR,
                                actor_role="municipality",
                                actor_unit="mA",
                            ),
                            source=PLANS,
                            tenant=t_a2,
                        )
                    ]
                )

                async def all_approved() -> bool:
                    table = await get("/municipalities/mA/table")
                    return bool(table["approval"]["rests_on_approved"])

                await wait_for(all_approved)
                table = await get("/municipalities/mA/table")
                assert table["approval"]["by_state"] == {
                    "open": 0,
                    "submitted": 0,
                    "returned": 0,
                    "approved": 1,
                    "locked": 1,
                }
                region_ = await get("/region/summary")
                assert region_["region"][IND]["approval"]["rests_on_approved"] is True
        finally:
            await pub.stop()
