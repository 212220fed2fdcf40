"""The six-step cycle of a direction, for a municipality and for a school, and Ishimbay's
technological card as a template, on the real infrastructure."""

from shkala_runtime.auth import Role

from .conftest import auth, running

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
            ("shnor.ege_high_scorers", ["recommendation"]),
            ("shnor.vpr_2_share", ["measure", "roadmap"]),
        ]
        (cov,) = steps["monitoring"]["periods"]
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
        assert mine["monitoring"]["periods"][0]["schools"] == {"s2": "submitted"}
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
