"""Approved-only figures beside live ones (issue 17, ADR 0010), on the real broker and database,
with the periods driven through the real plans service: a school submits, the municipality
approves, later data arrives — the live figures move, the approved ones stay at the approved
value; a school whose period is not approved is left out of the approved basis and counted;
list entries and rating rows carry each school's state; ``as_of`` of the municipality table
equals the table recomputed here from the facts written before that moment.

Expected values are counted from the raw results below (share of mark «2» in ВПР maths =
results with mark 2 / results × 100, seed 002), never from the service's code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.inprocess import asgi, eventually, tok

from shkala_contracts import Tenant
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_indicators.bootstrap import bootstrap as indicators_bootstrap
from shkala_indicators.settings import Settings as IndicatorsSettings
from shkala_plans.bootstrap import bootstrap as plans_bootstrap
from shkala_plans.settings import Settings as PlansSettings
from shkala_runtime.kafka import EventPublisher, Outgoing
from shkala_runtime.mongo import make_client
from shkala_runtime.settings import ServiceSettings

YEAR = "2025/26"
MATH = "vpr_mark2_share_math"
SRC = "/shkala/test-ingest"


def results(
    school: str, marks: list[int], first: int, subject: str = "математика", grade: int = 5
) -> list[AssessmentResultRecorded]:
    return [
        AssessmentResultRecorded(
            school_id=school,
            academic_year=YEAR,
            procedure="ВПР",
            subject=subject,
            grade=grade,
            student=f"p{school[-1]}{first + i:023d}",
            mark=m,
            journal_mark=5,  # every ВПР mark below 5 is below the journal: objectivity list
        )
        for i, m in enumerate(marks)
    ]


def mark2_share(rows: list[AssessmentResultRecorded]) -> float | None:
    """Seed 002: results with mark «2» / all results × 100 (the rows given: one subject)."""
    return round(sum(r.mark == 2 for r in rows) / len(rows) * 100, 6) if rows else None


@pytest.fixture
async def dbs(test_settings: ServiceSettings) -> AsyncIterator[str]:
    db = test_settings.mongo_database
    yield db
    client = make_client(test_settings)
    for name in (db, db + "_p"):
        await client.drop_database(name)
    await client.close()


async def test_approved_figures_stay_while_live_ones_move(
    test_settings: ServiceSettings, dbs: str
) -> None:
    base = test_settings.model_dump()
    ind_s = IndicatorsSettings(**base)
    plans_s = PlansSettings(
        **{
            **base,
            "service_name": "plans",
            "mongo_database": dbs + "_p",
            "plans_scheduler_interval_s": 0,
            "plans_relay_poll_s": 0.1,
        }
    )
    region = ind_s.region_id
    tenant = {s: Tenant(region=region, municipality="m1", school=s) for s in ("s1", "s2")}
    org = [
        Outgoing.of(RegionRegistered(region_id=region, name="Область"), source=SRC,
                    tenant=Tenant(region=region)),
        Outgoing.of(MunicipalityRegistered(region_id=region, municipality_id="m1", name="МО"),
                    source=SRC, tenant=Tenant(region=region, municipality="m1")),
    ] + [
        Outgoing.of(SchoolRegistered(region_id=region, municipality_id="m1", school_id=s,
                                     name=f"Школа {s}"), source=SRC, tenant=t)
        for s, t in tenant.items()
    ]  # fmt: skip
    # before the approval, maths: s1 4 results (one «2»), s2 2 of grade 5 (one «2») and one
    # of grade 8 («2»: not counted under definition 2025.1, grade 5 only); Russian: one «2»
    # each; journal marks of 5 put most ВПР marks below the journal, so both schools are on
    # «признаки необъективности» (ВПР lowered over 40 %: s1 4 of 5, s2 4 of 4)
    early = (
        results("s1", [2, 4, 4, 5], 0) + results("s2", [2, 3], 0) + results("s2", [2], 50, grade=8)
    )
    rus = results("s1", [2], 200, "русский язык") + results("s2", [2], 200, "русский язык")
    later = results("s1", [2, 2, 2, 2], 100)  # after the approval: four more «2» for s1
    indicators = indicators_bootstrap(ind_s)
    pub = EventPublisher(ind_s)
    await pub.start()
    try:
        async with asgi(indicators.app) as api, asgi(plans_bootstrap(plans_s).app) as plans:
            await pub.publish(org)
            await pub.publish(
                [Outgoing.of(f, source=SRC, tenant=tenant[f.school_id]) for f in early + rus]
            )
            table = indicators.table
            await eventually(
                lambda: all(table.school_value(MATH, s, YEAR) for s in tenant), what="values"
            )

            region_h = tok(ind_s, "region")
            m1 = tok(plans_s, "municipality", municipality="m1")
            p1, p2 = "/periods/s1/2025-26", "/periods/s2/2025-26"

            async def submitted(path: str, school: str) -> bool:
                h = tok(plans_s, "school", municipality="m1", school=school)
                r = await plans.post(f"{path}/submit", json={}, headers=h)
                return r.status_code == 200  # 4xx until plans read the org units

            await eventually(lambda: submitted(p1, "s1"), what="s1 submitted")
            await eventually(lambda: submitted(p2, "s2"), what="s2 submitted")
            r = await plans.post(f"{p1}/approve", json={}, headers=m1)
            assert r.status_code == 200, r.text
            await eventually(
                lambda: (
                    table.approval_of("s1", YEAR) == "approved"
                    and table.approval_of("s2", YEAR) == "submitted"
                ),
                what="the period events in the read table",
            )
            await asyncio.sleep(0.5)
            between = dt.datetime.now(dt.UTC)  # after the approval, before the later data
            await asyncio.sleep(0.5)
            acks = await pub.publish(
                [Outgoing.of(f, source=SRC, tenant=tenant["s1"]) for f in later]
            )
            first_later = f"{acks[0].topic}:{acks[0].partition}:{acks[0].offset}"
            live_s1 = mark2_share(results("s1", [2, 4, 4, 5], 0) + later)
            await eventually(
                lambda: (v := table.school_value(MATH, "s1", YEAR)) and v["value"] == live_s1,
                what="the later data applied",
            )

            async def get(path: str, **params: Any) -> dict[str, Any]:
                r = await api.get(path, params={"period": YEAR, **params}, headers=region_h)
                assert r.status_code == 200, r.text
                return r.json()

            # the municipality table: live moves, approved stays at the approved value
            live = await get("/municipalities/m1/table")
            assert live["basis"] == "live"
            assert {r["school_id"]: r["values"][MATH] for r in live["rows"]} == {
                "s1": live_s1, "s2": mark2_share(early[4:]),
            }  # fmt: skip
            approved = await get("/municipalities/m1/table", basis="approved")
            assert approved["basis"] == "approved"
            assert {r["school_id"]: r["values"][MATH] for r in approved["rows"]} == {
                "s1": mark2_share(early[:4])
            }
            s1 = approved["rows"][0]
            assert s1["approval"] == "approved"
            assert s1["changed_since_approval"] is True
            assert approved["counted"]["schools"] == 1
            assert approved["counted"]["of"] == 2
            assert approved["counted"]["left_out"] == [
                {"school_id": "s2", "name": "Школа s2", "approval": "submitted"}
            ]
            assert approved["municipality"][MATH]["value"] == mark2_share(early[:4])

            # the region view: approved-only beside live, with the count of approved schools
            live_r = await get("/region/summary")
            appr_r = await get("/region/summary", basis="approved")
            assert live_r["region"][MATH]["value"] == mark2_share(early + later)
            assert appr_r["region"][MATH]["value"] == mark2_share(early[:4])
            assert appr_r["by_municipality"]["m1"]["counted"]["schools"] == 1
            assert appr_r["counted"]["of"] == 2

            # list entries and rating rows carry their school's state
            lst = await get("/lists/признаки необъективности", municipality="m1")
            assert lst["basis"] == "live"
            assert lst["approval"]["approved"] == 1
            assert {m["school_id"]: m["approval"] for m in lst["members"]} == {
                "s1": "approved", "s2": "submitted",
            }  # fmt: skip
            lst = await get("/lists/признаки необъективности", municipality="m1", basis="approved")
            assert [m["school_id"] for m in lst["members"]] == ["s1"]
            assert lst["counted"]["schools"] == 1
            rating = await get("/municipalities/m1/rating")
            assert {r["school_id"]: r["approval"] for r in rating["rows"]} == {
                "s1": "approved", "s2": "submitted",
            }  # fmt: skip
            rated = await get("/municipalities/m1/rating", basis="approved")
            assert [r["school_id"] for r in rated["rows"]] == ["s1"]
            assert rated["counted"]["left_out"][0]["school_id"] == "s2"

            # as_of: the table recomputed independently from the facts written before then
            then = await get("/municipalities/m1/table", as_of=between.isoformat())
            assert {r["school_id"]: r["values"][MATH] for r in then["rows"]} == {
                s: mark2_share([f for f in early if f.school_id == s]) for s in tenant
            }
            assert then["municipality"][MATH]["value"] == mark2_share(early)
            assert then["approval"]["approved"] == 1  # s1 was approved by then
            # a log position: the first later record counts, the rest not yet
            at_pos = await get("/municipalities/m1/table", as_of=first_later)
            assert next(r for r in at_pos["rows"] if r["school_id"] == "s1")["values"][
                MATH
            ] == mark2_share(early[:4] + later[:1])
            r = await api.get(
                "/municipalities/m1/table",
                params={"period": YEAR, "as_of": f"{acks[0].topic}:{acks[0].partition}:99999"},
                headers=region_h,
            )
            assert r.status_code == 422, r.text
            assert "99999" in r.json()["detail"]
            # and an earlier definition version for the whole table
            old = await get("/municipalities/m1/table", definition_version="2025.1")
            assert old["definition_version"] == "2025.1"
            assert {r["school_id"]: r["values"][MATH] for r in old["rows"]} == {
                "s1": live_s1, "s2": mark2_share(early[4:6]),
            }  # fmt: skip
    finally:
        await pub.stop()
