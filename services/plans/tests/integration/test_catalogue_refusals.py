"""Measures and recommendations on the real broker and database name the indicators
catalogue's indicators: an unknown id is a 422 problem naming the field and the value, the
better direction is the catalogue's, and without the catalogue nothing is written (503)."""

import httpx

from shkala_plans.adapters.indicator_catalogue import HttpIndicatorCatalogue

from .conftest import auth, running

MEASURE = {
    "municipality_id": "m1",
    "title": "Наставничество",
    "direction": "low_results",
    "target_schools": ["sch1"],
    "baseline_period": "2024/25",
    "evaluation_period": "2025/26",
}
RECOMMENDATION = {
    "municipality_id": "m1",
    "school_id": "sch1",
    "direction": "low_results",
    "period": "2025/26",
    "text": "Разобрать задания ВПР",
}


async def test_unknown_indicators_are_named_and_the_better_direction_is_the_catalogues(settings):
    h = auth(settings)
    async with running(settings) as (svc, client):
        r = await client.post(
            "/measures",
            json={
                **MEASURE,
                "indicators": [{"indicator_id": "vpr_mark2_share"}, {"indicator_id": "nope"}],
            },
            headers=h,
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["title"] == "Unknown indicator"
        assert problem["errors"] == [
            {
                "location": "body.indicators.1.indicator_id",
                "reason": problem["detail"],
                "value": "nope",
            }
        ]
        r = await client.post(
            "/recommendations", json={**RECOMMENDATION, "indicator_id": "nope"}, headers=h
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["location"] == "body.indicator_id"
        r = await client.post(
            "/measures",
            json={
                **MEASURE,
                "indicators": [{"indicator_id": "vpr_mark2_share", "better": "higher"}],
            },
            headers=h,
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["location"] == "body.indicators.0.better"
        # nothing half-applied: no recommendation, no measure
        assert (await client.get("/recommendations", headers=h)).json() == []
        assert await svc.deps.store.index_find({"kind": "measure"}) == []
        r = await client.post(
            "/measures",
            json={**MEASURE, "indicators": [{"indicator_id": "vpr_mark2_share"}]},
            headers=h,
        )
        assert r.status_code == 201, r.text
        assert r.json()["indicators"] == [{"indicator_id": "vpr_mark2_share", "better": "lower"}]


async def test_without_the_catalogue_nothing_is_written(settings):
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    catalogue = HttpIndicatorCatalogue(
        settings, "http://indicators.test", transport=httpx.MockTransport(down)
    )
    h = auth(settings)
    async with running(settings, catalogue=catalogue) as (svc, client):
        r = await client.post(
            "/measures",
            json={**MEASURE, "indicators": [{"indicator_id": "vpr_mark2_share"}]},
            headers=h,
        )
        assert r.status_code == 503, r.text
        assert r.json()["type"].endswith("catalogue-unavailable")
        assert "indicators.test" in r.json()["detail"]
        r = await client.post(
            "/recommendations", json={**RECOMMENDATION, "indicator_id": "x"}, headers=h
        )
        assert r.status_code == 503, r.text
        assert await svc.deps.store.index_find({"municipality": "m1"}) == []
