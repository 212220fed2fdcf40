"""Proposals of targeted recommendations on the real broker and database: a small region's
indicator values and list memberships arrive on the indicators topic; every school at risk
gets proposals citing its values, the one not at risk none; accepting one creates the plans
recommendation (seen through ``GET /recommendations``) and the decision goes out on the plans
topic; dismissing records the reason; a school token cannot act on another school's proposal.

The indicators service itself does not run here: its ``GET /catalogue`` and
``GET /schools/{id}/vpr-tasks`` answers come from a transport in its place (the shape its
routes answer; the demo test runs the real one)."""

import asyncio

import httpx

from shkala_contracts import Tenant
from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    RiskList,
    Scope,
)
from shkala_contracts.events.plans import TOPIC as PLANS
from shkala_plans.adapters.indicator_catalogue import HttpIndicatorCatalogue
from shkala_plans.adapters.vpr_tasks import HttpVprTasks
from shkala_runtime.auth import Role
from shkala_runtime.kafka import EventPublisher, Outgoing

from .conftest import auth, read_topic, running

P = "2025/26"
MATH2, WELL = "vpr_mark2_share_math", "wellbeing_index"
CATALOGUE = {
    "definition_version": "9",
    "indicators": [
        {
            "id": MATH2,
            "direction": "low_results",
            "better": "down",
            "name": {"ru": "Доля отметок «2» ВПР за год, математика"},
            "threshold": {"risk_if": "above", "value": 20},
        },
        {
            "id": WELL,
            "direction": "low_results",
            "better": "up",
            "name": {"ru": "Индекс социального благополучия"},
            "threshold": {"risk_if": "below", "value": 60},
        },
    ],
}
# school -> (municipality, marks «2» in ВПР math, students who wrote it, wellbeing index)
REGION = {
    "sch-a": ("m1", 9, 30, 71.0),  # 30 % of «2»: at risk (over 20); on ШНОР for it
    "sch-b": ("m1", 2, 40, 80.0),  # 5 %, index 80: not at risk
    "sch-c": ("m1", 3, 50, 35.0),  # 6 %; index 35 (below 60): on ШНСУ
    "sch-x": ("m2", 12, 40, 66.0),  # 30 %: at risk, in the other municipality
}
LISTED = {"sch-a": (RiskList.LOW_RESULTS, MATH2), "sch-c": (RiskList.UNFAVOURABLE_CONDITIONS, WELL)}
DEFICITS = {  # sch-a's ВПР: task 7 won 22 of 60 points (36.7 % < 50)
    "sch-a": [
        {
            "subject": "математика",
            "grade": 5,
            "task": "7",
            "points": 22,
            "max_points": 60,
            "students": 30,
            "rate": 22 / 60 * 100,
            "deficit": True,
            "planned_result": "Решать задачи на части",
        }
    ]
}


def indicators_stand_in(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/catalogue":
        return httpx.Response(200, json=CATALOGUE)
    school = request.url.path.split("/")[2]
    assert request.url.params["period"] == P
    rows = DEFICITS.get(school, [])
    return httpx.Response(
        200,
        json={"school_id": school, "period": P, "threshold": 50, "deficits": rows, "tasks": rows},
    )


def events(region: str) -> list[Outgoing]:
    out = []
    for school, (mun, twos, wrote, index) in REGION.items():
        tenant = Tenant(region=region, municipality=mun, school=school)
        common = {"region_id": region, "municipality_id": mun, "school_id": school}
        for ind, num, den in ((MATH2, twos, wrote), (WELL, index, 100)):
            e = IndicatorValueChanged(
                originator_id=f"ind:{school}:{ind}:{P}",
                originator_version=1,
                **common,
                indicator_id=ind,
                direction="low_results",
                scope=Scope.SCHOOL,
                period=P,
                definition_version="9",
                old_value=None,
                new_value=num / den * 100,
                numerator=num,
                denominator=den,
            )
            out.append(
                Outgoing.of(e, source="/test/indicators", tenant=tenant, originator_version=1)
            )
        if school in LISTED:
            risk_list, reason = LISTED[school]
            e = ListMembershipChanged(
                originator_id=f"list:{school}:{risk_list.value}",
                originator_version=1,
                **common,
                risk_list=risk_list,
                period=P,
                change=MembershipChange.ENTERED,
                definition_version="9",
                reasons=(reason,),
            )
            out.append(
                Outgoing.of(e, source="/test/indicators", tenant=tenant, originator_version=1)
            )
    return out


async def test_every_school_at_risk_gets_proposals_and_a_coordinator_decides_them(settings):
    stand_in = httpx.MockTransport(indicators_stand_in)
    kw = {
        "catalogue": HttpIndicatorCatalogue(settings, "http://ind.test", transport=stand_in),
        "vpr_tasks": HttpVprTasks(settings, "http://ind.test", transport=stand_in),
    }
    async with running(settings, **kw) as (svc, client):
        pub = EventPublisher(settings)
        await pub.start()
        try:
            await pub.publish(events(settings.region_id))
        finally:
            await pub.stop()
        region = auth(settings, Role.REGION)
        out: dict = {}
        for _ in range(200):
            r = await client.get("/proposals", params={"period": P}, headers=region)
            assert r.status_code == 200, r.text
            out = r.json()
            if len(out["schools_at_risk"]) == 3 and any(
                p["problem"]["kind"] == "risk_list" for p in out["proposals"]
            ):
                break
            await asyncio.sleep(0.1)
        # independent: at risk = over 20 % of «2» or on a list
        assert out["schools_at_risk"] == ["sch-a", "sch-c", "sch-x"]
        for school, (_, twos, wrote, index) in REGION.items():
            mine = [p for p in out["proposals"] if p["school_id"] == school]
            if school == "sch-b":
                assert mine == []
                continue
            assert mine, school
            cited = [c for p in mine for c in p["cited"] if c["source"] == "indicator"]
            assert cited, school
            for c in cited:
                if c["indicator_id"] == MATH2:
                    assert (c["numerator"], c["denominator"]) == (twos, wrote)
                    assert abs(c["value"] - twos / wrote * 100) < 1e-9
                    assert (c["threshold"], c["period"]) == (20, P)
                else:
                    assert (c["value"], c["threshold"]) == (index, 60)
        a = [p for p in out["proposals"] if p["school_id"] == "sch-a"]
        assert {p["level"] for p in a} == {"school", "municipality"}
        assert {p["problem"]["kind"] for p in a} == {"indicator", "risk_list", "vpr_task"}
        task = next(p for p in a if p["problem"]["kind"] == "vpr_task")
        assert "Решать задачи на части" in task["text"]
        assert (task["cited"][0]["numerator"], task["cited"][0]["denominator"]) == (22, 60)

        # the municipality of sch-a accepts one, editing it; the recommendation is plans'
        m1 = auth(settings, Role.MUNICIPALITY, "m1")
        pick = next(p for p in a if p["problem"]["kind"] == "indicator" and p["level"] == "school")
        r = await client.post(
            f"/proposals/{pick['id']}/accept",
            headers=m1,
            json={"text": "Провести поэлементный анализ ВПР 5 кл.", "deadline": "до 01.03.2026"},
        )
        assert r.status_code == 201, r.text
        rec_id = r.json()["recommendation"]["id"]
        assert r.json()["decision"]["recommendation_id"] == rec_id
        recs = (await client.get("/recommendations", headers=m1)).json()
        (rec,) = [x for x in recs if x["id"] == rec_id]
        assert (rec["school"], rec["indicator_id"], rec["period"]) == ("sch-a", MATH2, P)
        full = (await client.get(f"/recommendations/{rec_id}", headers=m1)).json()
        assert "до 01.03.2026" in str(full)
        again = await client.post(f"/proposals/{pick['id']}/accept", headers=m1)
        assert again.status_code == 422, again.text

        # dismissing records the reason
        other = next(p for p in a if p["problem"]["kind"] == "risk_list")
        r = await client.post(
            f"/proposals/{other['id']}/dismiss", headers=m1, json={"reason": "Уже в программе"}
        )
        assert r.status_code == 200, r.text
        seen = (await client.get(f"/proposals/{other['id']}", headers=m1)).json()
        assert (seen["status"], seen["decision"]["reason"]) == ("dismissed", "Уже в программе")
        bad = await client.post(f"/proposals/{task['id']}/dismiss", headers=m1, json={})
        assert bad.status_code == 422

        # tenants: a school token acts on no other school's proposal (nor its own: it is
        # the municipality's to issue); another municipality neither
        sch_b = auth(settings, Role.SCHOOL, "m1", school="sch-b")
        for path, body in (("accept", {}), ("dismiss", {"reason": "не наше"})):
            r = await client.post(f"/proposals/{task['id']}/{path}", headers=sch_b, json=body)
            assert r.status_code == 403, r.text
        assert (await client.get(f"/proposals/{task['id']}", headers=sch_b)).status_code == 403
        m2 = auth(settings, Role.MUNICIPALITY, "m2")
        r = await client.post(f"/proposals/{task['id']}/accept", headers=m2)
        assert r.status_code == 403, r.text
        listed = (await client.get("/proposals", params={"period": P}, headers=m2)).json()
        assert listed["schools_at_risk"] == ["sch-x"]
        status = (await client.get(f"/proposals/{task['id']}", headers=m1)).json()["status"]
        assert status == "pending"

        # both decisions went out on the plans topic
        records = await read_topic(settings, PLANS, expect=3)
        types = sorted(dict(x.headers)["ce_type"].decode() for x in records)
        assert types == [
            "ru.shkala.plans.proposal_accepted.v1",
            "ru.shkala.plans.proposal_dismissed.v1",
            "ru.shkala.plans.recommendation_issued.v1",
        ]
        assert svc.deps.vpr_tasks is not None
