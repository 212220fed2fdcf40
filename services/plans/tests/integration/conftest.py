import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from shkala_contracts import Tenant
from shkala_contracts.events.org_units import MunicipalityRegistered, SchoolRegistered
from shkala_plans.adapters.indicator_catalogue import HttpIndicatorCatalogue
from shkala_plans.adapters.vpr_tasks import HttpVprTasks
from shkala_plans.bootstrap import Service, bootstrap
from shkala_plans.settings import Settings
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.kafka import EventPublisher, Outgoing


def plans_settings(test_settings) -> Settings:
    return Settings(
        **{**test_settings.model_dump(), "service_name": "plans"},
        plans_scheduler_interval_s=0,
        plans_relay_poll_s=0.1,
    )


# The registry every plans test works in (published to the org-units topic, as ingest does):
# municipality -> its schools
REGISTRY = {
    "m1": ("sch1", "sch2", "sch-a", "sch-b", "sch-c", "s1", "s2"),
    "m2": ("sch-x", "sch-y"),
}


async def register_units(settings, registry: dict[str, tuple[str, ...]] = REGISTRY) -> None:
    """Publish the registry's events to the org-units topic, as ingest does after checking."""
    region = settings.region_id
    events: list[Outgoing] = []
    for mun, schools in registry.items():
        events.append(
            Outgoing.of(
                MunicipalityRegistered(region_id=region, municipality_id=mun, name=f"МО {mun}"),
                source="/test/ingest",
                tenant=Tenant(region=region, municipality=mun),
            )
        )
        events.extend(
            Outgoing.of(
                SchoolRegistered(
                    region_id=region, municipality_id=mun, school_id=s, name=f"Школа {s}"
                ),
                source="/test/ingest",
                tenant=Tenant(region=region, municipality=mun, school=s),
            )
            for s in schools
        )
    pub = EventPublisher(settings)
    await pub.start()
    try:
        await pub.publish(events)
    finally:
        await pub.stop()


async def known_to_plans(svc: Service, registry: dict[str, tuple[str, ...]]) -> None:
    """Wait until the plans service has read the registry from the topic."""
    wanted = {s: m for m, schools in registry.items() for s in schools}
    for _ in range(300):
        known = await svc.deps.orgs.schools(wanted)
        if {s: m for s, (_, m) in known.items()} == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"plans did not learn the registry: {known}")


# The indicators service's ``GET /catalogue`` answer (its shape; only what plans reads) for the
# indicator ids these tests link. The indicators service itself does not run here: plans asks
# it over HTTP, and this transport answers in its place.
CATALOGUE = {
    "definition_version": "test",
    "indicators": [
        {
            "id": "ege_high_share",
            "better": "up",
            "direction": "low_results",
            "name": {"ru": "Доля высокобалльников ЕГЭ"},
            "threshold": {"risk_if": "below", "value": 5},
        },
        {
            "id": "vpr_mark2_share",
            "better": "down",
            "direction": "low_results",
            "name": {"ru": "Доля отметок «2» ВПР"},
            "threshold": {"risk_if": "above", "value": 20},
        },
        {"id": "shnor.vpr_2_share", "better": "down"},
        {"id": "shnor.ege_high_scorers", "better": "up"},
    ],
}


def catalogue_of(settings, doc: dict = CATALOGUE) -> HttpIndicatorCatalogue:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/catalogue"
        assert request.headers["authorization"].startswith("Bearer ")
        return httpx.Response(200, json=doc)

    return HttpIndicatorCatalogue(
        settings, "http://indicators.test", transport=httpx.MockTransport(answer)
    )


def no_vpr_deficits(settings) -> HttpVprTasks:
    """indicators' ``GET /schools/{id}/vpr-tasks`` in its place: no deficits anywhere."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/vpr-tasks")
        return httpx.Response(200, json={"threshold": 50, "tasks": [], "deficits": []})

    return HttpVprTasks(settings, "http://indicators.test", transport=httpx.MockTransport(answer))


@contextlib.asynccontextmanager
async def running(
    settings: Settings, registry: dict[str, tuple[str, ...]] | None = REGISTRY, **kw
) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
    kw.setdefault("catalogue", catalogue_of(settings))
    kw.setdefault("vpr_tasks", no_vpr_deficits(settings))
    svc = bootstrap(settings, **kw)
    async with (
        svc.app.router.lifespan_context(svc.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=svc.app), base_url="http://t", timeout=30
        ) as client,
    ):
        if registry:
            if not await svc.deps.orgs.schools([next(iter(registry.values()))[0]]):
                await register_units(settings, registry)
            await known_to_plans(svc, registry)
        yield svc, client


def auth(settings, role=Role.MUNICIPALITY, municipality="m1", school=None) -> dict[str, str]:
    token = issue_token(settings, role, municipality=municipality, school=school)
    return {"Authorization": f"Bearer {token}"}


async def read_topic(settings, topic: str, expect: int, timeout_s: float = 15) -> list:
    """Everything on a topic, with a plain aiokafka consumer (no group)."""
    consumer = AIOKafkaConsumer(
        settings.topic_name(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    out = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                out.extend(records)
            if len(out) >= expect:
                # linger a little: anything extra (a duplicate) would show up too
                batch = await consumer.getmany(timeout_ms=1500)
                for records in batch.values():
                    out.extend(records)
                break
    finally:
        await consumer.stop()
    return out


@pytest.fixture
def settings(test_settings) -> Settings:
    return plans_settings(test_settings)
