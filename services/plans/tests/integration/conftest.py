import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from shkala_plans.bootstrap import Service, bootstrap
from shkala_plans.settings import Settings
from shkala_runtime.auth import Role, issue_token


def plans_settings(test_settings) -> Settings:
    return Settings(
        **{**test_settings.model_dump(), "service_name": "plans"},
        plans_scheduler_interval_s=0,
        plans_relay_poll_s=0.1,
    )


@contextlib.asynccontextmanager
async def running(settings: Settings, **kw) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
    svc = bootstrap(settings, **kw)
    async with (
        svc.app.router.lifespan_context(svc.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=svc.app), base_url="http://t", timeout=30
        ) as client,
    ):
        yield svc, client


def auth(settings, role=Role.MUNICIPALITY, municipality="m1", school=None) -> dict[str, str]:
    token = issue_token(settings, role, municipality=municipality, school=school)
    return {"Authorization": f"Bearer {token}"}


async def read_topic(settings, topic: str, expect: int, timeout_s: float = 15) -> list:
    """Everything on a topic, with a plain aiokafka consumer (no group)."""
    import asyncio

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
