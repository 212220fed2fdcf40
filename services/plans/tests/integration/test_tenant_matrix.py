"""Every plans write route × role × own/other tenant, on the real broker and database
(issue 14): a principal of one tenant cannot create or change anything that names another
tenant's unit; refusals are 403 problems and append nothing to the event store or the topic.

Monitoring periods (issue 17) and the roster of coordinators/executors are aggregates of the
same event store (``plan_events``, ``aggregate_kind`` ``period`` / ``roster``) and the same
outbox, so one count covers them; the test checks they are there.

The registry (conftest.REGISTRY): m1 has sch1, sch2, sch-a…; m2 has sch-x, sch-y."""

# ruff: noqa: E501 - the matrix reads best one case a line
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shkala_contracts.events.indicators import IndicatorValueChanged, Scope
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


# routes that answer a question (POST for its body) and append nothing when they succeed
QUERIES = {("POST", "/periods/locks/query")}


def route_of(method: str, path: str, routes: set[tuple[str, str]]) -> tuple[str, str]:
    """The OpenAPI route a concrete request path hits (``{param}`` matches one segment)."""
    hits = [
        (m, r)
        for m, r in routes
        if m == method and re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", r), path)
    ]
    # a literal segment beats a parameter (/periods/lock is not /periods/{school}/{period})
    hits.sort(key=lambda h: h[1].count("{"))
    assert hits, (method, path)
    return hits[0]


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


def person_in(person: str) -> dict[str, Any]:
    return {"person_id": person, "duty": "coordinator", "directions": ["low_results"]}


def value_at_risk(
    region: str, mun: str, school: str, indicator: str, num: int, den: int
) -> IndicatorValueChanged:
    return IndicatorValueChanged(
        originator_id=f"ind:{school}:{indicator}:2025/26",
        originator_version=1,
        region_id=region,
        municipality_id=mun,
        school_id=school,
        indicator_id=indicator,
        direction="low_results",
        scope=Scope.SCHOOL,
        period="2025/26",
        definition_version="1",
        old_value=None,
        new_value=num / den * 100,
        numerator=num,
        denominator=den,
    )


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
        rec_m1 = await made("/recommendations", recommendation("m1", "sch1"))
        rec_sib = await made("/recommendations", recommendation("m1", "sch2"))
        rec_m2 = await made("/recommendations", recommendation("m2", "sch-x"))
        measure_m1 = await made("/measures", measure("m1", ["sch-a"]))
        measure_m2 = await made("/measures", measure("m2", ["sch-x"]))

        # periods: schools submit (the municipality approves one of m1's); people on rosters
        for mun, school, period in (
            ("m1", "sch1", "2024-25"), ("m1", "sch1", "2023-24"),
            ("m1", "sch2", "2023-24"), ("m2", "sch-x", "2023-24"),
        ):  # fmt: skip
            by = auth(settings, Role.SCHOOL, municipality=mun, school=school)
            r = await client.post(f"/periods/{school}/{period}/submit", headers=by, json={})
            assert r.status_code == 200, r.text
        r = await client.post("/periods/sch2/2023-24/approve", headers=t["municipality"], json={})
        assert r.status_code == 200, r.text
        for mun in ("m1", "m2"):
            for person in ("p-del", "p-keep"):
                r = await client.put(
                    f"/roster/{mun}/people", headers=region, json=person_in(person)
                )
                assert r.status_code == 200, r.text

        # proposals: sch1 (m1) and sch-x (m2) each with two indicators at risk (2 of «2» in
        # 5, 1 high scorer in 50: over 20 % and under 5 %) -> three proposals each (two measures
        # for the ВПР share, the generic one for an indicator the library has none for)
        await svc.deps.values.record(
            [
                value_at_risk(settings.region_id, mun, school, ind, num, den)
                for mun, school in (("m1", "sch1"), ("m2", "sch-x"))
                for ind, num, den in (("vpr_mark2_share", 2, 5), ("ege_high_share", 1, 50))
            ]
        )
        found = await client.get("/proposals", params={"period": "2025/26"}, headers=region)
        assert found.status_code == 200, found.text
        p1, p2, p3 = [p["id"] for p in found.json()["proposals"] if p["school_id"] == "sch1"]
        q1, q2, _ = [p["id"] for p in found.json()["proposals"] if p["school_id"] == "sch-x"]
        reason = {"reason": "Уже в дорожной карте"}

        def on(rm: dict[str, Any], tail: str = "") -> str:
            return f"/roadmaps/{rm['id']}{tail}"

        def pe(school: str, period: str, step: str) -> str:
            return f"/periods/{school}/{period}/{step}"

        def rec(r: dict[str, Any]) -> str:
            return f"/recommendations/{r['id']}/status"

        def ms(m: dict[str, Any]) -> str:
            return f"/measures/{m['id']}/status"

        row = {"activity": "Новая строка", "deadline": "до 01.09 ежегодно"}
        why = {"reason": "Исправьте данные"}
        lock_m1 = {"municipality_id": "m1", "period": "2023/24"}
        query = {
            "items": [
                {"school_id": "sch1", "period": "2023/24"},
                {"school_id": "sch2", "period": "2023/24"},
            ]
        }
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
            # --- POST /proposals/{id}/accept and /dismiss (its school's municipality or the region)
            Case("school", "POST", f"/proposals/{p1}/accept", {}, 403, "a school decides no proposal"),
            Case("municipality", "POST", f"/proposals/{p1}/accept", {}, 201, "its school's proposal"),
            Case("municipality", "POST", f"/proposals/{q1}/accept", {}, 403, "a foreign school's proposal"),
            Case("region", "POST", f"/proposals/{q1}/accept", {}, 201, "any school's proposal"),
            Case("other region", "POST", f"/proposals/{p2}/accept", {}, 403, "another region's proposal"),
            Case("school", "POST", f"/proposals/{p2}/dismiss", reason, 403, "a school dismisses none"),
            Case("municipality", "POST", f"/proposals/{p2}/dismiss", reason, 200, "its school's proposal"),
            Case("municipality", "POST", f"/proposals/{q2}/dismiss", reason, 403, "a foreign school's proposal"),
            Case("region", "POST", f"/proposals/{q2}/dismiss", reason, 200, "any school's proposal"),
            Case("other region", "POST", f"/proposals/{p3}/dismiss", reason, 403, "another region's proposal"),
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
            # --- POST /recommendations/{id}/status (the school reports, its municipality manages)
            Case("school", "POST", rec(rec_m1), {"status": "accepted"}, 200, "accepts its own"),
            Case("school", "POST", rec(rec_sib), {"status": "accepted"}, 403, "a sibling's"),
            Case("school", "POST", rec(rec_m1), {"status": "withdrawn", "report": "нет"}, 403, "a school withdraws none"),
            Case("municipality", "POST", rec(rec_m1), {"status": "in_progress"}, 200, "its school's"),
            Case("municipality", "POST", rec(rec_m2), {"status": "accepted"}, 403, "a foreign one"),
            Case("region", "POST", rec(rec_m2), {"status": "accepted"}, 200, "any"),
            Case("other region", "POST", rec(rec_m1), {"status": "done", "report": "Готово"}, 403, "another region's"),
            # --- POST /measures/{id}/status (the municipality's or the region's)
            Case("school", "POST", ms(measure_m1), {"status": "running"}, 403, "a school moves no measure"),
            Case("municipality", "POST", ms(measure_m1), {"status": "running"}, 200, "its own measure"),
            Case("municipality", "POST", ms(measure_m2), {"status": "running"}, 403, "a foreign measure"),
            Case("region", "POST", ms(measure_m2), {"status": "running"}, 200, "any measure"),
            Case("other region", "POST", ms(measure_m1), {"status": "finished", "report": "Итог"}, 403, "another region's measure"),
            # --- POST /periods/{school}/{period}/submit (the school, its own period only)
            Case("school", "POST", pe("sch1", "2025-26", "submit"), {}, 200, "its own period"),
            Case("school", "POST", pe("sch2", "2025-26", "submit"), {}, 403, "a sibling's period"),
            Case("school", "POST", pe("sch-x", "2025-26", "submit"), {}, 403, "a foreign school's period"),
            Case("municipality", "POST", pe("sch-a", "2025-26", "submit"), {}, 403, "the school submits, not its municipality"),
            Case("region", "POST", pe("sch-a", "2025-26", "submit"), {}, 403, "the region submits none"),
            Case("other region", "POST", pe("sch1", "2025-26", "submit"), {}, 403, "another region's school"),
            # --- POST /periods/{school}/{period}/return (the school's municipality, with a reason)
            Case("school", "POST", pe("sch1", "2024-25", "return"), why, 403, "a school returns none"),
            Case("municipality", "POST", pe("sch1", "2024-25", "return"), why, 200, "its school's submitted period"),
            Case("municipality", "POST", pe("sch-x", "2023-24", "return"), why, 403, "a foreign school's period"),
            Case("region", "POST", pe("sch1", "2024-25", "return"), why, 403, "the municipality returns, not the region"),
            Case("other region", "POST", pe("sch1", "2024-25", "return"), why, 403, "another region's period"),
            # --- POST /periods/{school}/{period}/approve (the school's municipality)
            Case("school", "POST", pe("sch1", "2023-24", "approve"), {}, 403, "a school approves none"),
            Case("municipality", "POST", pe("sch1", "2023-24", "approve"), {}, 200, "its school's submitted period"),
            Case("municipality", "POST", pe("sch-x", "2023-24", "approve"), {}, 403, "a foreign school's period"),
            Case("region", "POST", pe("sch1", "2023-24", "approve"), {}, 403, "the municipality approves, not the region"),
            Case("other region", "POST", pe("sch1", "2023-24", "approve"), {}, 403, "another region's period"),
            # --- POST /periods/{school}/{period}/lock (the region)
            Case("school", "POST", pe("sch1", "2023-24", "lock"), {}, 403, "the region locks"),
            Case("municipality", "POST", pe("sch1", "2023-24", "lock"), {}, 403, "the region locks"),
            Case("region", "POST", pe("sch1", "2023-24", "lock"), {}, 200, "an approved period"),
            Case("other region", "POST", pe("sch1", "2023-24", "lock"), {}, 403, "another region's period"),
            # --- POST /periods/{school}/{period}/reopen (the region, with a reason)
            Case("school", "POST", pe("sch1", "2023-24", "reopen"), why, 403, "the region reopens"),
            Case("municipality", "POST", pe("sch1", "2023-24", "reopen"), why, 403, "the region reopens"),
            Case("other region", "POST", pe("sch1", "2023-24", "reopen"), why, 403, "another region's period"),
            Case("region", "POST", pe("sch1", "2023-24", "reopen"), why, 200, "a locked period"),
            # --- POST /periods/lock (the region, a municipality's approved periods at once)
            Case("school", "POST", "/periods/lock", lock_m1, 403, "the region locks"),
            Case("municipality", "POST", "/periods/lock", lock_m1, 403, "the region locks"),
            Case("region", "POST", "/periods/lock", {**lock_m1, "municipality_id": "m9"}, 422, "an unregistered municipality"),
            Case("other region", "POST", "/periods/lock", lock_m1, 403, "another region's municipality"),
            Case("region", "POST", "/periods/lock", lock_m1, 200, "sch2's approved period (sch1's is reopened)"),
            # --- POST /periods/locks/query (a question ingest asks with the region's token)
            Case("school", "POST", "/periods/locks/query", query, 403, "the region asks"),
            Case("municipality", "POST", "/periods/locks/query", query, 403, "the region asks"),
            Case("region", "POST", "/periods/locks/query", query, 200, "its own schools"),
            Case("other region", "POST", "/periods/locks/query", query, 403, "another region's schools"),
            # --- PUT /roster/{municipality}/people (the municipality for itself, or the region)
            Case("school", "PUT", "/roster/m1/people", person_in("p1"), 403, "a school appoints none"),
            Case("municipality", "PUT", "/roster/m1/people", person_in("p1"), 200, "for itself"),
            Case("municipality", "PUT", "/roster/m2/people", person_in("p1"), 403, "for another municipality"),
            Case("region", "PUT", "/roster/m2/people", person_in("p1"), 200, "for any municipality"),
            Case("region", "PUT", "/roster/m9/people", person_in("p1"), 422, "for an unregistered municipality"),
            Case("other region", "PUT", "/roster/m1/people", person_in("p1"), 403, "for another region's municipality"),
            # --- DELETE /roster/{municipality}/people/{person}
            Case("school", "DELETE", "/roster/m1/people/p-keep", None, 403, "a school removes none"),
            Case("municipality", "DELETE", "/roster/m1/people/p-del", None, 200, "from its own roster"),
            Case("municipality", "DELETE", "/roster/m2/people/p-keep", None, 403, "from another municipality's"),
            Case("region", "DELETE", "/roster/m2/people/p-del", None, 200, "from any roster"),
            Case("other region", "DELETE", "/roster/m1/people/p-keep", None, 403, "from another region's"),
        ]
        # fmt: on
        # every write route of the service
        write_routes = {
            (m.upper(), path)
            for path, ops in svc.app.openapi()["paths"].items()
            for m in ops
            if m in {"post", "patch", "put", "delete"} and path != "/deadlines/parse"
        }
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
            route = route_of(c.method, c.path, write_routes)
            before = await store.count_documents({})
            r = await client.request(c.method, c.path, headers=t[c.who], json=body)
            assert r.status_code == c.expected, (c.who, c.method, c.path, c.why, r.text)
            after = await store.count_documents({})
            if c.expected >= 400:
                assert r.headers["content-type"].startswith("application/problem+json"), c
                assert after == before, ("a refused write appended events", c)
            elif route not in QUERIES:
                assert after > before, c
            else:
                assert after == before, ("a question appended events", c)
            tried.add((*route, c.who))
        # every write route of the service was tried by every role (22 in December 2026)
        assert len(write_routes) >= 22, write_routes
        for who in t:
            assert {(m, p) for m, p, w in tried if w == who} == write_routes, who
        # periods and the roster keep their events in the same store (so the counts above
        # covered their refusals too)
        kinds = set(await store.distinct("aggregate_kind"))
        assert {"period", "roster", "recommendation", "measure", "roadmap", "proposal"} <= kinds, (
            kinds
        )

        # the log holds what the store holds: no refused write reached the topic
        total = await store.count_documents({})
        records = await read_topic(settings, PLANS, expect=total, timeout_s=30)
        assert len(records) == total
