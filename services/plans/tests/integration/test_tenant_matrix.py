"""Every plans write route × role × own/other tenant, on the real broker and database
(issue 14): a principal of one tenant cannot create or change anything that names another
tenant's unit; refusals are 403 problems and append nothing to the event store or the topic.

The registry (conftest.REGISTRY): m1 has sch1, sch2, sch-a…; m2 has sch-x, sch-y."""

# ruff: noqa: E501 - the matrix reads best one case a line
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shkala_contracts.events.plans import TOPIC as PLANS
from shkala_plans.adapters.event_store import EVENTS
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.mongo import database

from .conftest import auth, read_topic, running


def tokens(settings) -> dict[str, dict[str, str]]:
    other = issue_token(settings, Role.REGION, region="other-region")
    return {
        "school": auth(settings, Role.SCHOOL, municipality="m1", school="sch1"),
        "municipality": auth(settings, Role.MUNICIPALITY, municipality="m1"),
        "region": auth(settings, Role.REGION),
        "other region": {"Authorization": f"Bearer {other}"},
    }


@dataclass
class Case:
    who: str
    method: str
    path: str
    body: dict[str, Any] | None
    expected: int
    why: str


INDICATORS = [{"indicator_id": "vpr_mark2_share", "better": "lower"}]


def measure(mun: str, schools: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "municipality_id": mun,
        "title": "Мера",
        "direction": "low_results",
        "target_schools": schools,
        "indicators": INDICATORS,
        "baseline_period": "2023/24",
        "evaluation_period": "2024/25",
        **extra,
    }


def recommendation(mun: str, school: str) -> dict[str, Any]:
    return {
        "municipality_id": mun,
        "school_id": school,
        "direction": "low_results",
        "period": "2024/25",
        "text": "Провести диагностику",
    }


async def test_every_write_route_by_role_and_tenant(settings):
    async with running(settings) as (svc, client):
        t = tokens(settings)
        region = t["region"]

        async def made(path: str, body: dict[str, Any]) -> dict[str, Any]:
            r = await client.post(path, headers=region, json=body)
            assert r.status_code == 201, r.text
            return r.json()

        # the region sets up one of everything in each tenant
        rm1 = await made("/roadmaps", {"municipality_id": "m1", "title": "ДК m1"})
        rm2 = await made("/roadmaps", {"municipality_id": "m2", "title": "ДК m2"})
        own_school = await made(
            "/roadmaps", {"municipality_id": "m1", "school_id": "sch1", "title": "ДК sch1"}
        )
        sibling = await made(
            "/roadmaps", {"municipality_id": "m1", "school_id": "sch2", "title": "ДК sch2"}
        )
        for rm in (rm1, rm2, own_school, sibling):
            r = await client.post(
                f"/roadmaps/{rm['id']}/rows",
                headers=region,
                json={"expected_version": rm["version"], "activity": "Строка", "deadline": ""},
            )
            assert r.status_code == 200, r.text
            rm["row"] = r.json()["rows"][0]["row_id"]
        rec_m2 = await made("/recommendations", recommendation("m2", "sch-x"))
        measure_m1 = await made("/measures", measure("m1", ["sch-a"]))
        measure_m2 = await made("/measures", measure("m2", ["sch-x"]))

        def on(rm: dict[str, Any], tail: str = "") -> str:
            return f"/roadmaps/{rm['id']}{tail}"

        row = {"activity": "Новая строка", "deadline": "до 01.09 ежегодно"}
        # fmt: off
        cases = [
            # --- POST /roadmaps
            Case("school", "POST", "/roadmaps", {"municipality_id": "m1", "school_id": "sch1", "title": "x"}, 201, "its own school roadmap"),
            Case("school", "POST", "/roadmaps", {"municipality_id": "m1", "school_id": "sch2", "title": "x"}, 403, "a sibling school's roadmap"),
            Case("school", "POST", "/roadmaps", {"municipality_id": "m1", "title": "x"}, 403, "its municipality's roadmap"),
            Case("school", "POST", "/roadmaps", {"municipality_id": "m2", "school_id": "sch-x", "title": "x"}, 403, "a foreign school's roadmap"),
            Case("school", "POST", "/roadmaps", {"municipality_id": "m1", "school_id": "sch-x", "title": "x"}, 403, "a foreign school under its municipality's id"),
            Case("municipality", "POST", "/roadmaps", {"municipality_id": "m1", "title": "x"}, 201, "its own roadmap"),
            Case("municipality", "POST", "/roadmaps", {"municipality_id": "m1", "school_id": "sch-a", "title": "x"}, 201, "its school's roadmap"),
            Case("municipality", "POST", "/roadmaps", {"municipality_id": "m2", "title": "x"}, 403, "another municipality's roadmap"),
            Case("municipality", "POST", "/roadmaps", {"municipality_id": "m1", "school_id": "sch-x", "title": "x"}, 403, "a foreign school under its own id"),
            Case("region", "POST", "/roadmaps", {"municipality_id": "m2", "title": "x"}, 201, "any municipality's"),
            Case("region", "POST", "/roadmaps", {"municipality_id": "m1", "school_id": "sch-x", "title": "x"}, 422, "a school under the wrong municipality"),
            Case("region", "POST", "/roadmaps", {"municipality_id": "m9", "title": "x"}, 422, "an unregistered municipality"),
            Case("other region", "POST", "/roadmaps", {"municipality_id": "m1", "title": "x"}, 403, "another region's municipality"),
            # --- POST /roadmaps/{id}/sections
            Case("school", "POST", on(own_school, "/sections"), {"title": "Р"}, 200, "its own roadmap"),
            Case("school", "POST", on(sibling, "/sections"), {"title": "Р"}, 403, "a sibling's roadmap"),
            Case("school", "POST", on(rm1, "/sections"), {"title": "Р"}, 403, "its municipality's roadmap"),
            Case("municipality", "POST", on(rm1, "/sections"), {"title": "Р"}, 200, "its own roadmap"),
            Case("municipality", "POST", on(rm2, "/sections"), {"title": "Р"}, 403, "a foreign roadmap"),
            Case("region", "POST", on(rm2, "/sections"), {"title": "Р"}, 200, "any roadmap"),
            Case("other region", "POST", on(rm1, "/sections"), {"title": "Р"}, 403, "another region's roadmap"),
            # --- POST /roadmaps/{id}/rows (rows name target schools)
            Case("school", "POST", on(own_school, "/rows"), {**row, "target_schools": ["sch1"]}, 200, "itself"),
            Case("school", "POST", on(own_school, "/rows"), {**row, "target_schools": ["sch2"]}, 403, "a sibling"),
            Case("municipality", "POST", on(rm1, "/rows"), {**row, "target_schools": ["sch-a", "sch-b"]}, 200, "its schools"),
            Case("municipality", "POST", on(rm1, "/rows"), {**row, "target_schools": ["sch-a", "sch-x"]}, 403, "a foreign school among its own"),
            Case("municipality", "POST", on(rm2, "/rows"), row, 403, "a foreign roadmap"),
            Case("municipality", "POST", on(rm1, "/rows"), {**row, "target_schools": ["nowhere"]}, 422, "an unregistered school"),
            Case("region", "POST", on(rm1, "/rows"), {**row, "target_schools": ["sch-x"]}, 422, "m2's school in m1's roadmap"),
            Case("region", "POST", on(rm2, "/rows"), {**row, "target_schools": ["sch-x"]}, 200, "m2's school in m2's roadmap"),
            Case("other region", "POST", on(rm1, "/rows"), row, 403, "another region's roadmap"),
            # --- PATCH /roadmaps/{id}/rows/{row}
            Case("school", "PATCH", on(own_school, f"/rows/{own_school['row']}"), {"target_schools": ["sch1"]}, 200, "itself"),
            Case("school", "PATCH", on(own_school, f"/rows/{own_school['row']}"), {"target_schools": ["sch-x"]}, 403, "a foreign school"),
            Case("school", "PATCH", on(sibling, f"/rows/{sibling['row']}"), {"activity": "Иное"}, 403, "a sibling's row"),
            Case("municipality", "PATCH", on(rm1, f"/rows/{rm1['row']}"), {"target_schools": ["sch-c"]}, 200, "its school"),
            Case("municipality", "PATCH", on(rm1, f"/rows/{rm1['row']}"), {"target_schools": ["sch-y"]}, 403, "a foreign school"),
            Case("municipality", "PATCH", on(rm2, f"/rows/{rm2['row']}"), {"activity": "Иное"}, 403, "a foreign row"),
            Case("region", "PATCH", on(rm2, f"/rows/{rm2['row']}"), {"target_schools": ["sch-a"]}, 422, "m1's school in m2's roadmap"),
            Case("other region", "PATCH", on(rm1, f"/rows/{rm1['row']}"), {"activity": "Иное"}, 403, "another region's row"),
            # --- POST /roadmaps/{id}/rows/{row}/status
            Case("school", "POST", on(own_school, f"/rows/{own_school['row']}/status"), {"status": "in_progress"}, 200, "its own row"),
            Case("school", "POST", on(sibling, f"/rows/{sibling['row']}/status"), {"status": "done"}, 403, "a sibling's row"),
            Case("municipality", "POST", on(rm1, f"/rows/{rm1['row']}/status"), {"status": "in_progress"}, 200, "its own row"),
            Case("municipality", "POST", on(rm2, f"/rows/{rm2['row']}/status"), {"status": "done"}, 403, "a foreign row"),
            Case("region", "POST", on(rm2, f"/rows/{rm2['row']}/status"), {"status": "in_progress"}, 200, "any row"),
            Case("other region", "POST", on(rm1, f"/rows/{rm1['row']}/status"), {"status": "done"}, 403, "another region's row"),
            # --- POST /recommendations
            Case("school", "POST", "/recommendations", recommendation("m1", "sch1"), 403, "a school issues none"),
            Case("municipality", "POST", "/recommendations", recommendation("m1", "sch-a"), 201, "to its school"),
            Case("municipality", "POST", "/recommendations", recommendation("m1", "sch-x"), 403, "to a foreign school under its own id"),
            Case("municipality", "POST", "/recommendations", recommendation("m2", "sch-x"), 403, "to a foreign school"),
            Case("municipality", "POST", "/recommendations", recommendation("m1", "nowhere"), 422, "to an unregistered school"),
            Case("region", "POST", "/recommendations", recommendation("m1", "sch-x"), 422, "a school under the wrong municipality"),
            Case("region", "POST", "/recommendations", recommendation("m2", "sch-x"), 201, "to any school"),
            Case("other region", "POST", "/recommendations", recommendation("m1", "sch-a"), 403, "into another region"),
            # --- POST /measures
            Case("school", "POST", "/measures", measure("m1", ["sch1"]), 403, "a school takes none"),
            Case("municipality", "POST", "/measures", measure("m1", ["sch-a", "sch-b"]), 201, "on its schools"),
            Case("municipality", "POST", "/measures", measure("m1", ["sch-a", "sch-x"]), 403, "on a foreign school among its own"),
            Case("municipality", "POST", "/measures", measure("m2", ["sch-x"]), 403, "for another municipality"),
            Case("municipality", "POST", "/measures", measure("m1", ["sch-a"], recommendation_ids=[rec_m2['id']]), 403, "answering a foreign recommendation"),
            Case("municipality", "POST", "/measures", measure("m1", ["sch-a"], roadmap_row=f"{rm2['id']}/{rm2['row']}"), 403, "implementing a foreign roadmap row"),
            Case("municipality", "POST", "/measures", measure("m1", ["sch-a"], recommendation_ids=["recommendation:none"]), 422, "answering no recommendation"),
            Case("region", "POST", "/measures", measure("m1", ["sch-x"]), 422, "m2's school in m1's measure"),
            Case("region", "POST", "/measures", measure("m2", ["sch-x", "sch-y"]), 201, "any municipality's schools"),
            Case("other region", "POST", "/measures", measure("m1", ["sch-a"]), 403, "in another region"),
            # --- POST /measures/{id}/evaluate (409: nothing to evaluate yet, but allowed)
            Case("school", "POST", f"/measures/{measure_m1['id']}/evaluate", None, 403, "a school evaluates none"),
            Case("municipality", "POST", f"/measures/{measure_m1['id']}/evaluate", None, 409, "its own measure"),
            Case("municipality", "POST", f"/measures/{measure_m2['id']}/evaluate", None, 403, "a foreign measure"),
            Case("region", "POST", f"/measures/{measure_m2['id']}/evaluate", None, 409, "any measure"),
            Case("other region", "POST", f"/measures/{measure_m1['id']}/evaluate", None, 403, "another region's measure"),
            # --- POST /scheduler/run
            Case("school", "POST", "/scheduler/run", {"today": "2021-01-01"}, 403, "region only"),
            Case("municipality", "POST", "/scheduler/run", {"today": "2021-01-01"}, 403, "region only"),
            Case("other region", "POST", "/scheduler/run", {"today": "2021-01-01"}, 403, "region only"),
            Case("region", "POST", "/scheduler/run", {"today": "2030-01-01"}, 200, "rows overdue by 2030"),
        ]
        # fmt: on
        db = database(svc.mongo, svc.settings)
        store = db[EVENTS]
        tried: set[tuple[str, str, str]] = set()
        for c in cases:
            body = c.body
            if body is not None and c.path.startswith("/roadmaps/"):
                current = (
                    await client.get(c.path.split("/rows")[0].split("/sections")[0], headers=region)
                ).json()
                body = {**body, "expected_version": current["version"]}
            before = await store.count_documents({})
            r = await client.request(c.method, c.path, headers=t[c.who], json=body)
            assert r.status_code == c.expected, (c.who, c.method, c.path, c.why, r.text)
            after = await store.count_documents({})
            if c.expected >= 400:
                assert r.headers["content-type"].startswith("application/problem+json"), c
                assert after == before, ("a refused write appended events", c)
            elif c.method != "POST" or not c.path.endswith("/evaluate"):
                assert after > before, c
            route = c.path
            for rm in (rm1, rm2, own_school, sibling):
                route = route.replace(rm["id"], "{roadmap_id}").replace(rm["row"], "{row_id}")
            for m in (measure_m1, measure_m2):
                route = route.replace(m["id"], "{measure_id}")
            tried.add((c.method, route, c.who))
        # every write route of the service was tried by every role
        write_routes = {
            (m.upper(), path)
            for path, ops in svc.app.openapi()["paths"].items()
            for m in ops
            if m in {"post", "patch", "put", "delete"} and path != "/deadlines/parse"
        }
        assert len(write_routes) == 9, write_routes
        for who in t:
            assert {(m, p) for m, p, w in tried if w == who} == write_routes, who

        # the log holds what the store holds: no refused write reached the topic
        total = await store.count_documents({})
        records = await read_topic(settings, PLANS, expect=total, timeout_s=30)
        assert len(records) == total
