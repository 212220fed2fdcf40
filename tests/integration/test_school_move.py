"""A school moved by the region reaches every service that folds the registry (issue 14):
ingest, indicators and plans in-process on the real broker and database. After the move the
new municipality reaches the school everywhere, the old one nowhere; the move event is no
poison to the consumers that do not know it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from shkala_indicators.bootstrap import bootstrap as indicators_app
from shkala_indicators.settings import Settings as IndicatorsSettings
from shkala_ingest.bootstrap import bootstrap as ingest_app
from shkala_ingest.settings import Settings as IngestSettings
from shkala_plans.adapters.indicator_catalogue import HttpIndicatorCatalogue
from shkala_plans.bootstrap import bootstrap as plans_app
from shkala_plans.settings import Settings as PlansSettings
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.mongo import make_client
from shkala_runtime.settings import ServiceSettings

HEADER = "Код региона;Регион;Код МО;Муниципалитет;Код ОО;Наименование ОО;Тип ОО"


def org_csv(region: str, rows: list[tuple[str, str]]) -> bytes:
    lines = [HEADER] + [f"{region};Демо-область;{m};МО {m};{s};Школа {s};СОШ" for m, s in rows]
    return ("\n".join(lines) + "\n").encode()


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds * 5)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {seconds}s: {what}")


@contextlib.asynccontextmanager
async def three(base: ServiceSettings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """ingest, indicators and plans on one topic prefix, each with a database of its own."""
    values = base.model_dump()
    indicators = indicators_app(
        IndicatorsSettings(
            **{**values, "service_name": "indicators", "mongo_database": base.mongo_database + "_x"}
        )
    ).app
    # plans asks indicators for its catalogue (which way each indicator improves) over HTTP
    catalogue = HttpIndicatorCatalogue(
        base, "http://indicators", transport=httpx.ASGITransport(app=indicators)
    )
    apps = {
        "ingest": ingest_app(
            IngestSettings(
                **{**values, "service_name": "ingest", "mongo_database": base.mongo_database + "_i"}
            )
        ).app,
        "indicators": indicators,
        "plans": plans_app(
            PlansSettings(
                **{
                    **values,
                    "service_name": "plans",
                    "mongo_database": base.mongo_database + "_p",
                    "plans_scheduler_interval_s": 0,
                }
            ),
            catalogue=catalogue,
        ).app,
    }
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for name, app in apps.items():
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=60
                )
            )
        try:
            yield clients
        finally:
            mongo = make_client(base)
            for suffix in ("_i", "_x", "_p"):
                await mongo.drop_database(base.mongo_database + suffix)
            await mongo.close()


def bearer(settings: ServiceSettings, role: Role, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, role, **claims)}"}


def measure(mun: str, school: str) -> dict[str, Any]:
    return {
        "municipality_id": mun,
        "title": "Мера",
        "direction": "low_results",
        "target_schools": [school],
        "indicators": [{"indicator_id": "vpr_mark2_share_math", "better": "lower"}],
        "baseline_period": "2024/25",
        "evaluation_period": "2025/26",
    }


async def test_a_moved_school_belongs_to_its_new_municipality_everywhere(test_settings) -> None:
    s = test_settings
    region = bearer(s, Role.REGION)
    m1 = bearer(s, Role.MUNICIPALITY, municipality="m1")
    m2 = bearer(s, Role.MUNICIPALITY, municipality="m2")
    async with three(s) as c:
        r = await c["ingest"].post(
            "/imports/org-units",
            headers=region,
            files={
                "file": ("o.csv", org_csv(s.region_id, [("m1", "s1"), ("m2", "s2")]), "text/csv")
            },
        )
        assert r.status_code == 202, r.text

        async def reads(client: str, path: str, who: dict[str, str], status: int) -> bool:
            return (await c[client].get(path, headers=who)).status_code == status

        await eventually(
            lambda: reads("indicators", "/schools/s1", m1, 200), "indicators: s1 in m1"
        )

        # plans learnt the registry: m1 may take a measure on s1, m2 may not
        async def plans_knows_s1() -> bool:
            r = await c["plans"].post("/measures", headers=m2, json=measure("m2", "s1"))
            return r.status_code == 403

        await eventually(plans_knows_s1, "plans: s1 in m1")

        # a municipality cannot take another's school; the region moves it
        r = await c["ingest"].post(
            "/imports/org-units",
            headers=m2,
            files={"file": ("o.csv", org_csv(s.region_id, [("m2", "s1")]), "text/csv")},
        )
        assert r.status_code == 403, r.text
        r = await c["ingest"].post(
            "/imports/org-units",
            headers=region,
            files={"file": ("o.csv", org_csv(s.region_id, [("m2", "s1")]), "text/csv")},
        )
        assert r.status_code == 202, r.text
        assert r.json()["counts"] == {
            "ru.shkala.org.school_moved.v1": 1,
            "ru.shkala.org.school_registered.v1": 1,
        }

        await eventually(
            lambda: reads("indicators", "/schools/s1", m2, 200), "indicators: s1 in m2"
        )
        assert await reads("indicators", "/schools/s1", m1, 403)

        async def plans_moved_s1() -> bool:
            r = await c["plans"].post("/measures", headers=m2, json=measure("m2", "s1"))
            return r.status_code == 201

        await eventually(plans_moved_s1, "plans: s1 in m2")
        r = await c["plans"].post("/measures", headers=m1, json=measure("m1", "s1"))
        assert r.status_code == 403, r.text

        # the consumers moved past the move event: a later registration is seen too
        r = await c["ingest"].post(
            "/imports/org-units",
            headers=region,
            files={"file": ("o.csv", org_csv(s.region_id, [("m1", "s3")]), "text/csv")},
        )
        assert r.status_code == 202, r.text
        await eventually(lambda: reads("indicators", "/schools/s3", m1, 200), "indicators: s3")
