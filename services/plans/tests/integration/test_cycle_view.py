"""The six-step cycle of a direction, for a municipality and for a school, and Ishimbay's
technological card as a template, on the real infrastructure."""

import asyncio

import httpx

from shkala_contracts import Tenant
from shkala_contracts.events.indicators import ListMembershipChanged, MembershipChange, RiskList
from shkala_plans.adapters.indicator_catalogue import HttpIndicatorCatalogue
from shkala_plans.adapters.vpr_tasks import HttpVprTasks
from shkala_runtime.auth import Role
from shkala_runtime.kafka import EventPublisher, Outgoing

from .conftest import REGISTRY, auth, running

Y = "2025/26"


async def test_cycle_steps_for_municipality_and_school(settings):
    async with running(settings) as (_svc, c):
        m1 = auth(settings)
        s1 = auth(settings, Role.SCHOOL, municipality="m1", school="s1")
        s2 = auth(settings, Role.SCHOOL, municipality="m1", school="s2")
        await c.put(
            "/roster/m1/people",
            json={"person_id": "c1", "duty": "coordinator", "directions": ["low_results"]},
            headers=m1,
        )
        await c.put(
            "/roster/m1/people",
            json={
                "person_id": "e1",
                "duty": "executor",
                "directions": ["low_results"],
                "position": "методист ИМЦ",
            },
            headers=m1,
        )
        r = await c.post("/roadmaps", json={"municipality_id": "m1", "title": "ДК"}, headers=m1)
        rid, v = r.json()["id"], r.json()["version"]
        r = await c.post(
            f"/roadmaps/{rid}/sections",
            json={"expected_version": v, "title": "ШНОР", "direction": "low_results"},
            headers=m1,
        )
        v = r.json()["version"]
        r = await c.post(
            f"/roadmaps/{rid}/rows",
            json={
                "expected_version": v,
                "number": "1.1",
                "activity": "Снизить долю «2» по ВПР",
                "deadline": "до 01.09 ежегодно",
                "section_id": "s1",
                "responsible": ["person:e1", "руководители ОО"],
                "expected_result": "доля «2» не выше 10 %",
                "indicator_ids": ["shnor.vpr_2_share"],
                "target_schools": ["s1"],
            },
            headers=m1,
        )
        assert r.status_code == 200, r.text
        for who, school in ((s1, "s1"), (s2, "s2")):
            r = await c.post(f"/periods/{school}/2025-26/submit", json={}, headers=who)
            assert r.status_code == 200, r.text
        await c.post("/periods/s1/2025-26/approve", json={}, headers=m1)
        r = await c.post(
            "/recommendations",
            json={
                "municipality_id": "m1",
                "school_id": "s2",
                "direction": "low_results",
                "period": Y,
                "indicator_id": "shnor.ege_high_scorers",
                "text": "Диагностика",
            },
            headers=m1,
        )
        rec_id = r.json()["id"]
        r = await c.post(
            "/measures",
            json={
                "municipality_id": "m1",
                "title": "Наставничество",
                "direction": "low_results",
                "target_schools": ["s1"],
                "indicators": [{"indicator_id": "shnor.vpr_2_share", "better": "lower"}],
                "baseline_period": "2024/25",
                "evaluation_period": Y,
            },
            headers=m1,
        )
        mid = r.json()["id"]
        await c.post(f"/measures/{mid}/status", json={"status": "running"}, headers=m1)

        view = (await c.get("/cycle/m1/low_results/steps", headers=m1)).json()
        assert view["owners"] == {"coordinators": ["c1"], "executors": ["e1"]}
        steps = view["steps"]
        assert list(steps) == [
            "goals",
            "indicators",
            "monitoring",
            "analysis",
            "measures",
            "effectiveness",
        ]
        goal = steps["goals"]["items"][0]
        assert goal["target"] == "доля «2» не выше 10 %"
        assert goal["next_due"].endswith("-09-01")
        assert goal["responsible"] == ["руководители ОО"]
        assert goal["responsible_people"] == [
            {"person_id": "e1", "duty": "executor", "position": "методист ИМЦ"}
        ]
        assert [(i["indicator_id"], i["from"]) for i in steps["indicators"]["items"]] == [
            ("ege_high_share", ["catalogue"]),  # conftest's catalogue: of this direction
            ("shnor.ege_high_scorers", ["recommendation"]),
            ("shnor.vpr_2_share", ["measure", "roadmap"]),
            ("vpr_mark2_share", ["catalogue"]),
        ]
        # the year the records are of (the current year is listed too: nobody reported yet)
        cov = next(p for p in steps["monitoring"]["periods"] if p["period"] == Y)
        assert cov["schools"] == {"s1": "approved", "s2": "submitted"}
        assert cov["approved"] == 1
        assert [(x["id"], x["status"]) for x in steps["analysis"]["recommendations"]] == [
            (rec_id, "issued")
        ]
        assert [(x["id"], x["status"]) for x in steps["measures"]["items"]] == [(mid, "running")]
        assert steps["effectiveness"]["items"] == [{"measure_id": mid, "verdict": None}]
        assert steps["monitoring"]["card"]["title"] == "Мониторинг"

        # the school sees its own slice: its goal, its period, no other school's items
        mine = (await c.get("/cycle/m1/low_results/schools/s2", headers=s2)).json()["steps"]
        assert mine["goals"]["items"] == []  # the row targets s1 only
        mine_y = next(p for p in mine["monitoring"]["periods"] if p["period"] == Y)
        assert mine_y["schools"] == {"s2": "submitted"}
        assert [x["id"] for x in mine["analysis"]["recommendations"]] == [rec_id]
        assert mine["measures"]["items"] == []
        r = await c.get("/cycle/m1/low_results/schools/s1", headers=s2)
        assert r.status_code == 403
        r = await c.get("/cycle/m1/low_results/steps", headers=auth(settings, municipality="m2"))
        assert r.status_code == 403


async def test_ishimbay_technological_card_is_a_template(settings):
    async with running(settings) as (_svc, c):
        m1 = auth(settings)
        card = (await c.get("/cycle-card", headers=m1)).json()
        assert [s["key"] for s in card["steps"]] == [
            "goals",
            "indicators",
            "monitoring",
            "analysis",
            "measures",
            "effectiveness",
        ]
        assert card["steps"][2]["title"] == "Мониторинг"
        assert "сбор, обработка данных" in card["steps"][2]["executors"]
        listed = {t["id"]: t for t in (await c.get("/templates", headers=m1)).json()}
        assert listed["ishimbay-cycle-card"]["sections"] == 6
        r = await c.post(
            "/roadmaps",
            json={"municipality_id": "m1", "title": "Цикл", "template_id": "ishimbay-cycle-card"},
            headers=m1,
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert [s["title"] for s in body["sections"]][2] == "Мониторинг"
        monitoring_rows = [x for x in body["rows"] if x["section_id"] == "c3"]
        assert [x["responsible"] for x in monitoring_rows] == [
            ["Координатор"],
            ["Ответственные исполнители"],
            ["Муниципальный оператор"],
        ]


# --------------------------------------------------------------------------- coverage, deficits
GIA = "gia_below_min_share"
STAND_IN_CATALOGUE = {
    "definition_version": "t",
    "indicators": [
        {
            "id": GIA,
            "better": "down",
            "direction": "low_results",
            "unit": "percent",
            "name": {"ru": "Доля не преодолевших минимум ГИА"},
            "threshold": {"risk_if": "above", "value": 10},
            "targets": {"expected": "down", "values": {"2024/25": 4, "2025/26": 3}},
        }
    ],
}
# sch-a's ВПР: seven tasks below the 50 % success threshold (points won of 20 possible)
SCH_A_POINTS = {"1": 9, "2": 2, "3": 6, "4": 1, "5": 8, "6": 4, "7": 7}


def indicators_stand_in(request: httpx.Request) -> httpx.Response:
    """indicators' ``GET /catalogue`` and ``GET /schools/{id}/vpr-tasks`` in its place:
    sch-a has seven ВПР deficits, sch-c's answer fails (the service is overloaded)."""
    if request.url.path == "/catalogue":
        return httpx.Response(200, json=STAND_IN_CATALOGUE)
    school = request.url.path.split("/")[2]
    if school == "sch-c":
        return httpx.Response(503, json={"title": "overloaded"})
    rows = [
        {
            "subject": "русский язык",
            "grade": 8,
            "task": task,
            "points": points,
            "max_points": 20,
            "rate": points / 20 * 100,
            "deficit": True,
            "planned_result": f"результат задания {task}",
        }
        for task, points in (SCH_A_POINTS.items() if school == "sch-a" else ())
    ]
    return httpx.Response(200, json={"threshold": 50, "deficits": rows, "tasks": rows})


def listed(region: str, school: str, risk_list: RiskList) -> Outgoing:
    e = ListMembershipChanged(
        originator_id=f"list:{school}:{risk_list.value}",
        originator_version=1,
        region_id=region,
        municipality_id="m1",
        school_id=school,
        risk_list=risk_list,
        period=Y,
        change=MembershipChange.ENTERED,
        definition_version="t",
        reasons=(),
    )
    tenant = Tenant(region=region, municipality="m1", school=school)
    return Outgoing.of(e, source="/test/indicators", tenant=tenant, originator_version=1)


async def test_coverage_of_every_school_and_the_deficits_of_schools_at_risk(settings):
    stand_in = httpx.MockTransport(indicators_stand_in)
    kw = {
        "catalogue": HttpIndicatorCatalogue(settings, "http://ind.test", transport=stand_in),
        "vpr_tasks": HttpVprTasks(settings, "http://ind.test", transport=stand_in),
    }
    async with running(settings, **kw) as (_svc, c):
        m1 = auth(settings)
        for school in ("s1", "sch1"):
            who = auth(settings, Role.SCHOOL, school=school)
            r = await c.post(f"/periods/{school}/2025-26/submit", json={}, headers=who)
            assert r.status_code == 200, r.text
        r = await c.post("/periods/s1/2025-26/approve", json={}, headers=m1)
        assert r.status_code == 200, r.text
        pub = EventPublisher(settings)
        await pub.start()
        try:
            await pub.publish(
                [
                    listed(settings.region_id, "sch-a", RiskList.LOW_RESULTS),
                    listed(settings.region_id, "sch-c", RiskList.UNFAVOURABLE_CONDITIONS),
                ]
            )
        finally:
            await pub.stop()
        view: dict = {}
        for _ in range(200):
            r = await c.get("/cycle/m1/low_results/steps", params={"period": Y}, headers=m1)
            assert r.status_code == 200, r.text
            view = r.json()
            if len(view["steps"]["analysis"]["at_risk"]) == 2:
                break
            await asyncio.sleep(0.1)
        steps = view["steps"]

        # monitoring: m1 has seven registered schools (conftest.REGISTRY)
        assert len(REGISTRY["m1"]) == 7
        (cov,) = steps["monitoring"]["periods"]
        assert cov["of"] == 7
        assert cov["approved_schools"] == ["s1"]
        assert cov["awaiting_approval"] == ["sch1"]
        assert cov["not_submitted"] == ["s2", "sch-a", "sch-b", "sch-c", "sch2"]
        assert cov["counts"] == {"approved": 1, "submitted": 1, "returned": 0, "not_submitted": 5}

        # analysis: both listed schools; sch-a's five weakest tasks are those with the fewest
        # of 20 points — 1, 2, 4, 6, 7 (tasks 4, 2, 6, 3, 7: 5, 10, 20, 30, 35 %); sch-c's
        # ВПР could not be read, and the view says so
        assert [a["school_id"] for a in steps["analysis"]["at_risk"]] == ["sch-a", "sch-c"]
        a, cc = steps["analysis"]["deficits"]
        assert (a["school_id"], a["status"], a["total"], a["more"]) == ("sch-a", "ok", 7, 2)
        assert [(t["task"], t["rate"]) for t in a["weakest"]] == [
            ("4", 5.0),
            ("2", 10.0),
            ("6", 20.0),
            ("3", 30.0),
            ("7", 35.0),
        ]
        assert a["weakest"][0]["planned_result"] == "результат задания 4"
        assert (cc["school_id"], cc["status"], cc["weakest"]) == ("sch-c", "unavailable", [])
        assert cc["note"] in view["incomplete"]

        # indicators: the catalogue's indicator of the direction with its 2025/26 target
        (gia,) = [i for i in steps["indicators"]["items"] if i["indicator_id"] == GIA]
        assert gia["target"] == {"period": Y, "value": 3.0, "expected": "down"}
        assert gia["threshold"] == {"risk_if": "above", "value": 10.0}

        # the school's own view: its coverage of one, its deficits
        sch_a = auth(settings, Role.SCHOOL, school="sch-a")
        r = await c.get("/cycle/m1/low_results/schools/sch-a", params={"period": Y}, headers=sch_a)
        assert r.status_code == 200, r.text
        mine = r.json()["steps"]
        assert mine["monitoring"]["periods"][0]["of"] == 1
        assert mine["monitoring"]["periods"][0]["not_submitted"] == ["sch-a"]
        assert [d["total"] for d in mine["analysis"]["deficits"]] == [7]
        # another municipality's school under m1's address is not a school of m1
        r = await c.get("/cycle/m1/low_results/schools/sch-x", headers=m1)
        assert r.status_code == 404, r.text
