"""GET /org-units: the registry in the caller's scope (the workspace's sign-in and names)."""

from __future__ import annotations

import httpx
from indicators_testkit import wait_for

from shkala_contracts import Tenant
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_indicators.bootstrap import bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher, Outgoing
from shkala_runtime.settings import ServiceSettings

SRC = "/shkala/test-ingest"


async def test_the_registry_is_shown_within_the_callers_tenant(
    test_settings: ServiceSettings,
) -> None:
    settings = Settings(**test_settings.model_dump())
    svc = bootstrap(settings)
    region = settings.region_id
    schools = {"sA": "mA", "sA2": "mA", "sB": "mB"}
    org = [
        Outgoing.of(
            RegionRegistered(region_id=region, name="Область"),
            source=SRC,
            tenant=Tenant(region=region),
        )
    ]
    org += [
        Outgoing.of(
            MunicipalityRegistered(region_id=region, municipality_id=m, name=f"МО {m}"),
            source=SRC,
            tenant=Tenant(region=region, municipality=m),
        )
        for m in ("mA", "mB")
    ]
    org += [
        Outgoing.of(
            SchoolRegistered(region_id=region, municipality_id=m, school_id=s, name=f"ОО {s}"),
            source=SRC,
            tenant=Tenant(region=region, municipality=m, school=s),
        )
        for s, m in schools.items()
    ]
    async with svc.app.router.lifespan_context(svc.app):
        pub = EventPublisher(settings)
        await pub.start()
        try:
            await pub.publish(org)
            every_unit = {region, "mA", "mB", *schools}

            # The units are keyed to different partitions, so no one of them
            # arriving says the others have: wait for each.
            async def in_read_table() -> bool:  # what every instance answers from
                return every_unit <= set(svc.table.org)

            await wait_for(in_read_table)
        finally:
            await pub.stop()

        async def ids(token: str) -> set[str]:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=svc.app),
                base_url="http://t",
                headers={"Authorization": f"Bearer {token}"},
            ) as http:
                r = await http.get("/org-units")
                assert r.status_code == 200, r.text
                return {u["id"] for u in r.json()["units"]}

        assert await ids(issue_token(settings, "region")) == {region, "mA", "mB", *schools}
        assert await ids(issue_token(settings, "municipality", municipality="mA")) == {
            "mA",
            "sA",
            "sA2",
        }
        assert await ids(issue_token(settings, "school", municipality="mA", school="sA")) == {
            "mA",
            "sA",
        }
