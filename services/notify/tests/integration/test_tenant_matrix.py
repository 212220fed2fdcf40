"""Every notify write route × role × own/other tenant (issue 14), on the real broker and
database: a subscription may filter only on units inside the caller's tenant (schools as the
registry topic places them), and another tenant's subscription cannot be changed, deleted,
redelivered or have its secret read (it does not exist for the caller: 404)."""

from __future__ import annotations

from shkala_contracts import Tenant
from shkala_contracts.events.org_units import SchoolRegistered
from shkala_runtime.kafka import Outgoing

from . import conftest as h

REGISTRY = {"m1": ("sch1", "sch2", "sch-a"), "m2": ("sch-x",)}


async def test_subscription_writes_by_role_and_tenant(settings, publisher, receiver):
    region = settings.region_id
    who = {
        "school": h.auth(settings, "school", "m1", "sch1"),
        "municipality": h.auth(settings, "municipality", "m1"),
        "other municipality": h.auth(settings, "municipality", "m2"),
        "region": h.auth(settings, "region"),
    }
    url = receiver.url + "/hook"
    async with h.running(settings) as (service, client):  # creates the topics
        await publisher.publish(
            [
                Outgoing.of(
                    SchoolRegistered(region_id=region, municipality_id=m, school_id=s, name=s),
                    source="/test/ingest",
                    tenant=Tenant(region=region, municipality=m, school=s),
                )
                for m, schools in REGISTRY.items()
                for s in schools
            ]
        )
        await h.eventually(lambda: service.store.org_unit("sch-x"), what="notify read the registry")

        async def create(role: str, **filters: list[str]) -> int:
            r = await client.post(
                "/subscriptions", headers=who[role], json={"url": url, "filters": filters}
            )
            return r.status_code

        cases = [
            ("school", {"schools": ["sch1"]}, 201),
            ("school", {"schools": ["sch2"]}, 403),  # a sibling
            ("school", {"schools": ["sch-x"]}, 403),
            ("school", {"municipalities": ["m1"]}, 201),  # its own municipality: it sees itself
            ("school", {"municipalities": ["m2"]}, 403),
            ("municipality", {"schools": ["sch-a", "sch2"]}, 201),
            ("municipality", {"schools": ["sch-a", "sch-x"]}, 403),  # a foreign one among its own
            ("municipality", {"municipalities": ["m2"]}, 403),
            ("region", {"schools": ["sch-x"], "municipalities": ["m1"]}, 201),
        ]
        for role, filters, expected in cases:
            assert await create(role, **filters) == expected, (role, filters)

        mine = (
            await client.post("/subscriptions", headers=who["municipality"], json={"url": url})
        ).json()
        sub = f"/subscriptions/{mine['id']}"
        # another tenant's subscription does not exist for the caller
        for role in ("school", "other municipality"):
            h_ = who[role]
            assert (
                await client.patch(sub, headers=h_, json={"description": "x"})
            ).status_code == 404
            assert (await client.get(f"{sub}/secret", headers=h_)).status_code == 404
            r = await client.post(f"{sub}/deliveries/nope/redeliver", headers=h_)
            assert r.status_code == 404
            assert (await client.delete(sub, headers=h_)).status_code == 404
        # and its owner's patch cannot widen it to another municipality's schools
        r = await client.patch(
            sub, headers=who["municipality"], json={"filters": {"schools": ["sch-x"]}}
        )
        assert r.status_code == 403, r.text
        got = (await client.get(sub, headers=who["municipality"])).json()
        assert got["filters"].get("schools", []) == []
        assert (await client.delete(sub, headers=who["region"])).status_code == 204
