"""Two indicators instances in one consumer group share the partitions; one is killed with
SIGKILL mid-stream, the other takes its partitions over (resuming from the stored
positions): every school card, roll-up, list, table and rating equals a clean single
instance over the same log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.processes import ServiceProcesses, wait_until
from support.projections import PERIOD, applied, log_end, snapshot, upload

from shkala_demo.region import TINY, build_region, write_region
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

KINDS = ("org-units", "vpr", "gia", "school-context", "staffing-positions")


@pytest.fixture
def uploaded(tmp_path_factory: pytest.TempPathFactory, infra: None) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("scale-out")
    region = build_region(TINY)
    files = {w.kind: w.path for w in write_region(region, work / "region", "csv", kinds=KINDS)}
    env = {"SHKALA_REGION_ID": region.id, "SHKALA_INDICATORS_BATCH_SIZE": "10"}
    procs = ServiceProcesses(work / "logs", services=("ingest",), env=env)
    auth = {
        "Authorization": "Bearer " + issue_token(ServiceSettings(), Role.REGION, region=region.id)
    }
    try:
        procs.start("ingest")
        upload(procs, auth, files, "org-units")
        yield {
            "procs": procs, "auth": auth, "region": region, "work": work, "env": env,
            "files": files,
        }  # fmt: skip
    finally:
        procs.stop()


def everything(url: str, auth: dict[str, str], region: Any) -> dict[str, Any]:
    """Cards and the two main lists (``snapshot``) plus roll-ups, all lists, tables, ratings."""
    schools = sorted(s.id for s in region.schools)
    out = snapshot(url, auth, schools)

    def get(path: str, **params: str) -> Any:
        r = httpx.get(url + path, params={"period": PERIOD, **params}, headers=auth, timeout=60)
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        body.pop("freshness", None)
        return body

    out["region"] = get("/region/summary")
    out["non-objective"] = get("/lists/признаки необъективности")
    for m in sorted(out["region"]["municipalities"]):
        out[f"table {m}"] = get(f"/municipalities/{m}/table", sort="wellbeing_index")
        out[f"rating {m}"] = get(f"/municipalities/{m}/rating")
    return out


def _without_times(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: _without_times(v) for k, v in body.items() if k not in ("updated_at", "event_time")
        }
    if isinstance(body, list):
        return [_without_times(v) for v in body]
    return body


async def test_two_instances_one_killed_equal_a_clean_single_instance(
    uploaded: dict[str, Any],
) -> None:
    procs, auth, region, work = (
        uploaded["procs"], uploaded["auth"], uploaded["region"], uploaded["work"]
    )  # fmt: skip
    same = {**uploaded["env"], "SHKALA_MONGO_DATABASE": procs.env["SHKALA_MONGO_DATABASE"]}
    a = ServiceProcesses(work / "a", services=("indicators",), run_id=procs.run_id, env=same)
    b = ServiceProcesses(work / "b", services=("indicators",), run_id=procs.run_id, env=same)
    clean = ServiceProcesses(
        work / "clean",
        services=("indicators",),
        run_id=procs.run_id,
        env={
            "SHKALA_REGION_ID": region.id,
            "SHKALA_SERVICE_NAME": "indicators-clean",
            "SHKALA_MONGO_DATABASE": procs.env["SHKALA_MONGO_DATABASE"] + "_clean",
        },
    )
    try:
        a.start()
        b.start()
        # both hold partitions (the org units are applied), then the facts stream in; the
        # first instance is killed while the projection follows the ВПР upload
        orgs = await log_end(procs.env["SHKALA_KAFKA_TOPIC_PREFIX"])
        wait_until(lambda: applied(b.url("indicators"), auth) >= orgs, 120, "org units applied")
        upload(procs, auth, uploaded["files"], "vpr")
        a.kill("indicators")  # no shutdown, no commit of the batch in flight
        for kind in KINDS[2:]:
            upload(procs, auth, uploaded["files"], kind)
        total = await log_end(procs.env["SHKALA_KAFKA_TOPIC_PREFIX"])
        wait_until(
            lambda: applied(b.url("indicators"), auth) >= total,
            300,
            "the surviving instance took the partitions over and caught up",
        )
        clean.start()
        wait_until(
            lambda: applied(clean.url("indicators"), auth) >= total,
            300,
            "the clean projection caught up",
        )
        want = _without_times(everything(clean.url("indicators"), auth, region))
        assert any(v for s in region.schools for v in want[s.id]["values"]), "values projected"
        deadline = time.monotonic() + 60  # the read tables follow the derived events
        while True:
            got = _without_times(everything(b.url("indicators"), auth, region))
            if got == want or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        assert got == want
    finally:
        a.stop()
        b.stop()
        clean.stop()
