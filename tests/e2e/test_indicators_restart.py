"""Killing the indicators consumer mid-stream (kill -9) and restarting it leaves projections
equal to a clean run over the same log.

Ingest and indicators run as processes on the real infrastructure; a second, clean indicators
process (own database, own consumer group) projects the same topics from the start; every
school card and every list must come out the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.processes import ServiceProcesses, wait_until
from support.projections import applied, log_end, snapshot, upload

from shkala_demo.region import TINY, build_region, write_region
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

KINDS = ("org-units", "vpr", "gia", "school-context", "staffing-positions")


@pytest.fixture
def uploaded(tmp_path_factory: pytest.TempPathFactory, infra: None) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("restart")
    region = build_region(TINY)
    files = {w.kind: w.path for w in write_region(region, work / "region", "csv", kinds=KINDS)}
    procs = ServiceProcesses(
        work / "logs",
        services=("ingest", "indicators"),
        env={"SHKALA_REGION_ID": region.id, "SHKALA_INDICATORS_BATCH_SIZE": "10"},
    )
    auth = {
        "Authorization": "Bearer " + issue_token(ServiceSettings(), Role.REGION, region=region.id)
    }
    try:
        procs.start("ingest")
        # Everything is on the log before the projection starts: it reads org units and
        # facts from different topics at once, so a school's facts may come before its
        # registration and must wait for it, not be lost.
        for kind in KINDS:
            upload(procs, auth, files, kind)
        yield {"procs": procs, "auth": auth, "region": region, "work": work}
    finally:
        procs.stop()


async def test_kill_9_mid_stream_then_restart_equals_a_clean_run(uploaded: dict[str, Any]) -> None:
    procs, auth, region = uploaded["procs"], uploaded["auth"], uploaded["region"]
    total = await log_end(procs.env["SHKALA_KAFKA_TOPIC_PREFIX"])
    url = lambda: procs.url("indicators")  # noqa: E731 - the port stays, the process changes

    procs.start("indicators")
    wait_until(lambda: 0 < applied(url(), auth) < total, 120, "the projection mid-stream")
    procs.kill("indicators")  # no shutdown, no commit of the batch in flight
    procs.start("indicators")
    wait_until(lambda: applied(url(), auth) >= total, 300, "the restarted projection caught up")

    clean = ServiceProcesses(
        uploaded["work"] / "clean",
        services=("indicators",),
        run_id=procs.run_id,
        env={
            "SHKALA_REGION_ID": region.id,
            "SHKALA_SERVICE_NAME": "indicators-clean",
            "SHKALA_MONGO_DATABASE": procs.env["SHKALA_MONGO_DATABASE"] + "_clean",
        },
    )
    try:
        clean.start()
        wait_until(
            lambda: applied(clean.url("indicators"), auth) >= total,
            300,
            "the clean projection caught up",
        )
        schools = sorted(s.id for s in region.schools)
        restarted = snapshot(url(), auth, schools)
        assert any(v for s in schools for v in restarted[s]["values"]), "values were projected"
        assert restarted == snapshot(clean.url("indicators"), auth, schools)
    finally:
        clean.stop()
