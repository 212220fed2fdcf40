"""The SSE live stream, tenant-filtered, served by a real HTTP server (uvicorn)."""

from __future__ import annotations

import asyncio
import json

import httpx
import uvicorn

from shkala_notify.bootstrap import bootstrap


async def test_live_stream_shows_only_the_callers_tenant(h, settings, publisher):
    service = bootstrap(settings)
    server = uvicorn.Server(
        uvicorn.Config(service.app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    await h.eventually(lambda: server.started, what="uvicorn")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            # Filters cannot reach outside the tenant.
            resp = await client.get(
                "/events/stream",
                params={"municipalities": "mun-b"},
                headers=h.auth(settings, "municipality", "mun-a"),
            )
            assert resp.status_code == 403

            mine = [
                h.list_changed(settings, "mun-a", "sch-a1"),
                h.flag_raised(settings, "mun-a", "sch-a2"),
            ]
            theirs = [
                h.list_changed(settings, "mun-b", "sch-b1"),
                h.value_changed(settings, "mun-b", "sch-b2"),
            ]
            seen: list[dict] = []
            async with client.stream(
                "GET", "/events/stream", headers=h.auth(settings, "municipality", "mun-a")
            ) as stream:
                assert stream.status_code == 200
                assert stream.headers["content-type"].startswith("text/event-stream")
                lines = stream.aiter_lines()
                assert (await anext(lines)).startswith(": subscribed")
                # listening now: publish theirs between mine
                await publisher.publish([theirs[0], mine[0], theirs[1]])
                await publisher.publish([mine[1]])

                async def read() -> None:
                    event_type = None
                    async for line in lines:
                        if line.startswith("event: "):
                            event_type = line.removeprefix("event: ")
                        elif line.startswith("data: "):
                            ce = json.loads(line.removeprefix("data: "))
                            assert ce["type"] == event_type
                            seen.append(ce)
                            if {c["id"] for c in seen} >= {o.envelope.id for o in mine}:
                                return

                await asyncio.wait_for(read(), 30)
            assert {c["municipality"] for c in seen} == {"mun-a"}
            assert {c["id"] for c in seen} == {o.envelope.id for o in mine}
            texts = {c["id"]: c["text"] for c in seen}
            assert texts[mine[0].envelope.id] == (
                "Школа sch-a1 вошла в список ШНОР по итогам 2025/26 учебного года"
            )
    finally:
        server.should_exit = True
        await serving
