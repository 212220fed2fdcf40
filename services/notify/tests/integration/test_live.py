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


async def _read_events(lines, want: int, within: float = 30) -> list[tuple[str, dict]]:
    """(id, CloudEvent) of the next ``want`` data events; bare-id checkpoints are skipped."""
    got: list[tuple[str, dict]] = []
    event_id = None

    async def read() -> None:
        nonlocal event_id
        async for line in lines:
            if line.startswith("id: "):
                event_id = line.removeprefix("id: ")
            elif line.startswith("data: "):
                got.append((event_id, json.loads(line.removeprefix("data: "))))
                if len(got) >= want:
                    return

    await asyncio.wait_for(read(), within)
    return got


async def test_a_reconnecting_dashboard_misses_nothing(h, settings, publisher):
    """Disconnect after the first event, let more happen (also outside the caller's tenant),
    reconnect with Last-Event-ID: exactly the missed events of the tenant come, then live
    ones. Another instance (with nothing of this client in memory) resumes the same id alike."""
    servers = []
    for _ in range(2):  # two instances of one deployment
        server = uvicorn.Server(
            uvicorn.Config(
                bootstrap(settings).app, host="127.0.0.1", port=0, log_config=None, lifespan="on"
            )
        )
        servers.append((server, asyncio.create_task(server.serve())))
    for server, _ in servers:
        await h.eventually(lambda server=server: server.started, what="uvicorn")
    ports = [s.servers[0].sockets[0].getsockname()[1] for s, _ in servers]
    auth = h.auth(settings, "municipality", "mun-a")
    first = h.list_changed(settings, "mun-a", "sch-a1")
    missed = [
        h.flag_raised(settings, "mun-a", "sch-a2"),
        h.value_changed(settings, "mun-a", "sch-a3"),
    ]
    foreign = h.list_changed(settings, "mun-b", "sch-b1")
    live = [h.value_changed(settings, "mun-a", "sch-a1", n=n) for n in (2, 3)]

    async def resume(port: int, last_id: str, then: object) -> list[dict]:
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
            client.stream(
                "GET", "/events/stream", headers={**auth, "Last-Event-ID": last_id}
            ) as stream,
        ):
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            replayed = await _read_events(lines, 2 if then is live[0] else 3)
            await publisher.publish([then])
            after = await _read_events(lines, 1)
            return [ce for _, ce in replayed + after]

    try:
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as client,
            client.stream("GET", "/events/stream", headers=auth) as stream,
        ):
            lines = stream.aiter_lines()
            assert (await anext(lines)).startswith(": subscribed")
            await publisher.publish([first])
            [(last_id, ce)] = await _read_events(lines, 1)
            assert ce["id"] == first.envelope.id
        # disconnected: the dashboard misses these
        await publisher.publish([missed[0], foreign, missed[1]])

        got = [ce["id"] for ce in await resume(ports[0], last_id, live[0])]
        assert set(got[:2]) == {m.envelope.id for m in missed}
        assert got[2] == live[0].envelope.id

        # the same id at the other instance: the missed ones and live[0] are history there
        got = [ce["id"] for ce in await resume(ports[1], last_id, live[1])]
        assert set(got[:3]) == {m.envelope.id for m in missed} | {live[0].envelope.id}
        assert got[3] == live[1].envelope.id
    finally:
        for server, task in servers:
            server.should_exit = True
            await task
