"""Coordinators and executors on the real infrastructure: the role and tenant matrix of
roadmap, recommendation and measure changes, and the lifecycles they move on; every refused
call appends nothing to the event store nor the plans topic."""

from shkala_contracts.events.plans import TOPIC as PLANS
from shkala_plans.adapters.event_store import EVENTS
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.mongo import database

from .conftest import auth, read_topic, running


def duty(settings, role, subject, directions, municipality="m1"):
    token = issue_token(
        settings, role, municipality=municipality, subject=subject, directions=directions
    )
    return {"Authorization": f"Bearer {token}"}


async def staffed_roadmap(c, settings):
    m1 = auth(settings)
    for person, d, dirs in (
        ("coord1", "coordinator", ["low_results"]),
        ("exec1", "executor", ["low_results"]),
        ("exec2", "executor", ["low_results"]),
    ):
        r = await c.put(
            "/roster/m1/people",
            json={"person_id": person, "duty": d, "directions": dirs, "position": "специалист"},
            headers=m1,
        )
        assert r.status_code == 200, r.text
    r = await c.post("/roadmaps", json={"municipality_id": "m1", "title": "ДК"}, headers=m1)
    rid, v = r.json()["id"], r.json()["version"]
    for title, direction in (("ШНОР", "low_results"), ("Таланты", "talents")):
        r = await c.post(
            f"/roadmaps/{rid}/sections",
            json={"expected_version": v, "title": title, "direction": direction},
            headers=m1,
        )
        assert r.status_code == 200, r.text
        v = r.json()["version"]
    for section, responsible in (
        ("s1", ["person:exec1", "Отдел образования"]),
        ("s1", ["Отдел образования"]),
        ("s2", ["person:exec1"]),
    ):
        r = await c.post(
            f"/roadmaps/{rid}/rows",
            json={
                "expected_version": v,
                "activity": "Мероприятие",
                "deadline": "до 01.09 ежегодно",
                "section_id": section,
                "responsible": responsible,
            },
            headers=m1,
        )
        assert r.status_code == 200, r.text
        v = r.json()["version"]
    return rid


async def version(c, settings, rid):
    return (await c.get(f"/roadmaps/{rid}", headers=auth(settings))).json()["version"]


async def test_coordinator_changes_only_their_directions(settings):
    async with running(settings) as (_svc, c):
        rid = await staffed_roadmap(c, settings)
        coord = duty(settings, Role.COORDINATOR, "coord1", ["low_results"])

        async def add_row(section, headers=coord):
            return await c.post(
                f"/roadmaps/{rid}/rows",
                json={
                    "expected_version": await version(c, settings, rid),
                    "activity": "Новое",
                    "section_id": section,
                },
                headers=headers,
            )

        assert (await add_row("s1")).status_code == 200
        r = await add_row("s2")
        assert r.status_code == 403, r.text
        assert "talents" in r.json()["detail"]

        async def patch(row, headers=coord):
            return await c.patch(
                f"/roadmaps/{rid}/rows/{row}",
                json={"expected_version": await version(c, settings, rid), "activity": "Иначе"},
                headers=headers,
            )

        assert (await patch("r1")).status_code == 200
        assert (await patch("r3")).status_code == 403
        r = await c.post(
            f"/roadmaps/{rid}/sections",
            json={
                "expected_version": await version(c, settings, rid),
                "title": "Объективность",
                "direction": "objectivity",
            },
            headers=coord,
        )
        assert r.status_code == 403
        r = await c.post(
            f"/roadmaps/{rid}/sections",
            json={
                "expected_version": await version(c, settings, rid),
                "title": "ШНОР: наставничество",
                "direction": "low_results",
            },
            headers=coord,
        )
        assert r.status_code == 200, r.text
        assert r.json()["sections"][-1]["direction"] == "low_results"
        # the coordinator sees their municipality only
        listed = (await c.get("/roadmaps", headers=coord)).json()
        assert [x["id"] for x in listed] == [rid]
        # a coordinator of another municipality touches nothing here
        other = duty(settings, Role.COORDINATOR, "coord9", ["low_results"], municipality="m2")
        assert (await add_row("s1", headers=other)).status_code == 403
        assert (await c.get(f"/roadmaps/{rid}", headers=other)).status_code == 403

        # recommendations and measures: their direction only
        rec = {
            "municipality_id": "m1",
            "school_id": "s1",
            "period": "2025/26",
            "text": "Провести диагностику дефицитов",
        }
        r = await c.post("/recommendations", json={**rec, "direction": "talents"}, headers=coord)
        assert r.status_code == 403
        r = await c.post(
            "/recommendations", json={**rec, "direction": "low_results"}, headers=coord
        )
        assert r.status_code == 201, r.text
        rec_id = r.json()["id"]

        # its lifecycle: the school accepts and reports; only the issuer side withdraws
        s1 = auth(settings, Role.SCHOOL, municipality="m1", school="s1")
        s2 = auth(settings, Role.SCHOOL, municipality="m1", school="s2")
        path = f"/recommendations/{rec_id}/status"
        assert (await c.post(path, json={"status": "accepted"}, headers=s2)).status_code == 403
        r = await c.post(path, json={"status": "accepted"}, headers=s1)
        assert r.status_code == 200
        assert r.json()["status"] == "accepted"
        r = await c.post(path, json={"status": "done"}, headers=s1)
        assert r.status_code == 422  # done needs a report
        r = await c.post(path, json={"status": "withdrawn", "report": "не нужно"}, headers=s1)
        assert r.status_code == 403
        r = await c.post(path, json={"status": "in_progress", "report": "начали"}, headers=s1)
        assert r.status_code == 200
        r = await c.post(
            path, json={"status": "withdrawn", "report": "ошибка адресата"}, headers=coord
        )
        assert r.status_code == 200
        got = (await c.get(f"/recommendations/{rec_id}", headers=s1)).json()
        assert got["status"] == "withdrawn"
        assert [x["status"] for x in got["reports"]] == ["accepted", "in_progress", "withdrawn"]
        assert (
            await c.post(path, json={"status": "done", "report": "x"}, headers=s1)
        ).status_code == 422


async def test_executor_reports_on_their_rows_only(settings):
    async with running(settings) as (_svc, c):
        rid = await staffed_roadmap(c, settings)
        exec1 = duty(settings, Role.EXECUTOR, "exec1", ["low_results"])
        exec2 = duty(settings, Role.EXECUTOR, "exec2", ["low_results"])

        async def report(row, headers):
            return await c.post(
                f"/roadmaps/{rid}/rows/{row}/status",
                json={
                    "expected_version": await version(c, settings, rid),
                    "status": "in_progress",
                    "report": "начато",
                },
                headers=headers,
            )

        assert (await report("r1", exec1)).status_code == 200
        assert (await report("r3", exec1)).status_code == 200  # named there too (other section)
        r = await report("r2", exec1)
        assert r.status_code == 403
        assert "exec1" in r.json()["detail"]
        assert (await report("r1", exec2)).status_code == 403
        r = await c.post(
            f"/roadmaps/{rid}/rows/r1/status",
            json={"expected_version": await version(c, settings, rid), "status": "cancelled"},
            headers=exec1,
        )
        assert r.status_code == 403  # reporting is not cancelling
        # an executor changes nothing else
        r = await c.patch(
            f"/roadmaps/{rid}/rows/r1",
            json={"expected_version": await version(c, settings, rid), "activity": "x"},
            headers=exec1,
        )
        assert r.status_code == 403
        r = await c.post("/roadmaps", json={"municipality_id": "m1", "title": "x"}, headers=exec1)
        assert r.status_code == 403
        # removed from the roster, the executor's token no longer reports
        assert (
            await c.delete("/roster/m1/people/exec1", headers=auth(settings))
        ).status_code == 200
        assert (await report("r1", exec1)).status_code == 403
        # rows name only people on the roster
        r = await c.post(
            f"/roadmaps/{rid}/rows",
            json={
                "expected_version": await version(c, settings, rid),
                "activity": "x",
                "responsible": ["person:ghost"],
            },
            headers=auth(settings),
        )
        assert r.status_code == 422
        assert "ghost" in r.json()["detail"]
        # a coordinator does not staff the roster
        coord = duty(settings, Role.COORDINATOR, "coord1", ["low_results"])
        r = await c.put(
            "/roster/m1/people",
            json={"person_id": "x", "duty": "executor", "directions": ["talents"]},
            headers=coord,
        )
        assert r.status_code == 403
        roster = (await c.get("/roster/m1", headers=coord)).json()
        assert [p["person_id"] for p in roster["people"]] == ["coord1", "exec2"]


def measure(direction, **extra):
    return {
        "municipality_id": "m1",
        "title": "Наставничество",
        "direction": direction,
        "target_schools": ["s1"],
        "indicators": [{"indicator_id": "vpr_mark2_share"}],
        "baseline_period": "2024/25",
        "evaluation_period": "2025/26",
        **extra,
    }


async def test_refused_duty_calls_append_nothing_to_the_store_or_the_topic(settings):
    async with running(settings) as (svc, c):
        rid = await staffed_roadmap(c, settings)
        store = database(svc.mongo, svc.settings)[EVENTS]
        coord = duty(settings, Role.COORDINATOR, "coord1", ["low_results"])
        exec1 = duty(settings, Role.EXECUTOR, "exec1", ["low_results"])
        foreign_exec = duty(settings, Role.EXECUTOR, "exec1", ["low_results"], municipality="m2")

        async def call(method, path, headers, body=None, expected=200):
            if body is not None and path.startswith("/roadmaps/"):
                body = {**body, "expected_version": await version(c, settings, rid)}
            before = await store.count_documents({})
            r = await c.request(method, path, json=body, headers=headers)
            assert r.status_code == expected, (method, path, r.text)
            after = await store.count_documents({})
            if expected >= 400:
                assert r.headers["content-type"].startswith("application/problem+json")
                assert after == before, ("a refused call appended events", method, path)
            else:
                assert after > before, (method, path)
            return r.json()

        sections = f"/roadmaps/{rid}/sections"
        # sections: their direction, not another's, not none
        got = await call("POST", sections, coord, {"title": "ШНОР-2", "direction": "low_results"})
        assert [s["direction"] for s in got["sections"]] == [
            "low_results",
            "talents",
            "low_results",
        ]
        why = await call("POST", sections, coord, {"title": "Т", "direction": "talents"}, 403)
        assert "talents" in why["detail"]
        await call("POST", sections, coord, {"title": "Общее"}, 403)
        await call("POST", sections, exec1, {"title": "Ш", "direction": "low_results"}, 403)

        # measures: their direction, not another's; an executor takes none
        got = await call("POST", "/measures", coord, measure("low_results"), 201)
        assert got["direction"] == "low_results"
        measure_id = got["id"]
        why = await call("POST", "/measures", coord, measure("talents"), 403)
        assert "talents" in why["detail"]
        await call("POST", "/measures", exec1, measure("low_results"), 403)
        got = await call("POST", f"/measures/{measure_id}/status", coord, {"status": "running"})
        assert got["status"] == "running"
        await call("POST", f"/measures/{measure_id}/status", exec1, {"status": "finished"}, 403)

        # an executor of another municipality, though its person id is on m1's roster
        report = {"status": "in_progress", "report": "начато"}
        await call("POST", f"/roadmaps/{rid}/rows/r1/status", foreign_exec, report, 403)
        await call("POST", f"/roadmaps/{rid}/rows/r1/status", exec1, report)

        # a coordinator's roadmap from a template: the template's sections of their direction
        got = await call(
            "POST",
            "/roadmaps",
            coord,
            {"municipality_id": "m1", "title": "ШНОР", "template_id": "tula-shnor-2021"},
            201,
        )
        assert {s["direction"] for s in got["sections"]} == {"low_results"}
        template = (await c.get("/templates/tula-shnor-2021", headers=coord)).json()
        kept = {s["key"] for s in template["sections"] if s["direction"] == "low_results"}
        assert len(got["rows"]) == sum(1 for r in template["rows"] if r["section_key"] in kept)
        career = duty(settings, Role.COORDINATOR, "coord1", ["career"])
        why = await call(
            "POST",
            "/roadmaps",
            career,
            {"municipality_id": "m1", "title": "x", "template_id": "tula-shnor-2021"},
            422,
        )
        assert why["errors"][0]["location"] == "body.template_id"

        # a write route without a duty rule refuses duty tokens whatever they would pass
        why = await call("POST", "/scheduler/run", coord, {"today": "2030-01-01"}, 403)
        assert "POST /scheduler/run" in why["detail"]

        # the log holds what the store holds: no refused call reached the topic
        total = await store.count_documents({})
        records = await read_topic(settings, PLANS, expect=total, timeout_s=30)
        assert len(records) == total
