import asyncio
import io

from openpyxl import load_workbook

from shkala_plans.domain.templates import load_seed_templates
from shkala_runtime.auth import Role

from .conftest import auth, running


async def test_two_concurrent_edits_one_wins_the_other_gets_409(settings):
    async with running(settings) as (_, client):
        h = auth(settings)
        r = await client.post("/roadmaps", json={"municipality_id": "m1", "title": "ДК"}, headers=h)
        assert r.status_code == 201, r.text
        rid, v = r.json()["id"], r.json()["version"]
        edits = [
            client.post(
                f"/roadmaps/{rid}/rows",
                headers=h,
                json={
                    "expected_version": v,
                    "activity": f"Мероприятие {i}",
                    "deadline": "до 01.09 ежегодно",
                },
            )
            for i in range(2)
        ]
        a, b = await asyncio.gather(*edits)
        assert sorted([a.status_code, b.status_code]) == [200, 409], (a.text, b.text)
        loser = a if a.status_code == 409 else b
        assert loser.headers["content-type"].startswith("application/problem+json")
        assert loser.json()["current_version"] == v + 1
        got = (await client.get(f"/roadmaps/{rid}", headers=h)).json()
        assert got["version"] == v + 1
        assert len(got["rows"]) == 1
        # a stale version is refused even when the edits do not overlap in time
        late = await client.post(
            f"/roadmaps/{rid}/sections", headers=h, json={"expected_version": v, "title": "Раздел"}
        )
        assert late.status_code == 409


async def test_every_seed_template_becomes_a_roadmap_with_all_its_rows(settings):
    templates = load_seed_templates()
    async with running(settings) as (_, client):
        h = auth(settings)
        listed = (await client.get("/templates", headers=h)).json()
        # the seeds' roadmap tables, and Ishimbay's technological card (test_cycle_view)
        assert {t["id"] for t in listed} == {t.id for t in templates} | {"ishimbay-cycle-card"}
        for t in templates:
            r = await client.post(
                "/roadmaps",
                headers=h,
                json={
                    "municipality_id": "m1",
                    "title": t.title,
                    "template_id": t.id,
                    "starts_on": "2021-01-01",
                },
            )
            assert r.status_code == 201, r.text
            body = r.json()
            assert len(body["rows"]) == len(t.rows)
            assert len(body["sections"]) == len(t.sections)
            assert sum(not x["deadline"]["needs_review"] for x in body["rows"]) == t.structured


async def test_status_scheduler_export_and_tenants(settings):
    async with running(settings) as (_svc, client):
        h = auth(settings)
        r = (
            await client.post(
                "/roadmaps",
                headers=h,
                json={
                    "municipality_id": "m1",
                    "title": "ДК",
                    "template_id": "arkhangelsk-2021-2025",
                    "starts_on": "2021-01-01",
                },
            )
        ).json()
        rid, v = r["id"], r["version"]
        row = next(x for x in r["rows"] if x["number"] == "2.3")  # до 01.08 ежегодно
        s = await client.post(
            f"/roadmaps/{rid}/rows/{row['row_id']}/status",
            headers=h,
            json={
                "expected_version": v,
                "status": "done",
                "report": "Отчёт размещён",
                "evidence": ["https://example.org/report.pdf"],
                "occurrence": "2021-08-01",
            },
        )
        assert s.status_code == 200, s.text
        region = auth(settings, Role.REGION)
        run = (
            await client.post("/scheduler/run", headers=region, json={"today": "2021-08-10"})
        ).json()["events"]
        by_row = {(e["row_id"], e["type"].split(".")[3]) for e in run}
        assert (row["row_id"], "roadmap_row_overdue") not in by_row  # it was done
        assert any(t == "roadmap_row_overdue" for _, t in by_row)  # others were not
        again = (
            await client.post("/scheduler/run", headers=region, json={"today": "2021-08-10"})
        ).json()["events"]
        assert again == []  # each due date signalled once
        x = await client.get(f"/roadmaps/{rid}/export.xlsx?today=2021-08-10", headers=h)
        assert x.status_code == 200
        ws = load_workbook(io.BytesIO(x.content)).active
        rows = list(ws.iter_rows(min_row=4, values_only=True))
        assert len(rows) == len(r["rows"])
        done = next(x for x in rows if x[0] == "2.3")
        assert done[10] == "выполнено"
        assert done[11] == "Отчёт размещён"
        assert any(x[13] == "да" for x in rows)
        # tenants: another municipality and a school cannot see it
        other = await client.get(f"/roadmaps/{rid}", headers=auth(settings, municipality="m2"))
        assert other.status_code == 403
        school = auth(settings, Role.SCHOOL, municipality="m1", school="sch1")
        assert (await client.get(f"/roadmaps/{rid}", headers=school)).status_code == 403
        assert (await client.get(f"/roadmaps/{rid}")).status_code == 401
        own = await client.post(
            "/roadmaps",
            headers=school,
            json={"municipality_id": "m1", "school_id": "sch1", "title": "Школьная ДК"},
        )
        assert own.status_code == 201
        assert (
            await client.post(
                "/roadmaps",
                headers=school,
                json={"municipality_id": "m1", "school_id": "sch2", "title": "x"},
            )
        ).status_code == 403


async def test_a_filter_cannot_widen_a_tenant(settings):
    """A municipality lists its own roadmaps; asking for another municipality's is refused."""
    async with running(settings) as (_, client):
        own = await client.get("/roadmaps", headers=auth(settings, municipality="m1"))
        assert own.status_code == 200
        other = await client.get(
            "/roadmaps", params={"municipality_id": "m2"}, headers=auth(settings, municipality="m1")
        )
        assert other.status_code == 403, other.text
        assert other.headers["content-type"].startswith("application/problem+json")
        school = auth(settings, role=Role.SCHOOL, municipality="m1", school="s1")
        refused = await client.get("/recommendations", params={"school_id": "s2"}, headers=school)
        assert refused.status_code == 403
