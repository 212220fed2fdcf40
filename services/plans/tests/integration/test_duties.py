"""Coordinators and executors on the real infrastructure: the role and tenant matrix of
roadmap, recommendation and measure changes, and the lifecycles they move on."""

from shkala_runtime.auth import Role, issue_token

from .conftest import auth, running


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
