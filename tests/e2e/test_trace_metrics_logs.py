"""The whole system as processes on the real infrastructure: one trace from upload to
webhook, Prometheus series, and logs free of personal identifiers.

The four services run as real processes (own topics and database), export spans by OTLP/HTTP
to a collector in this test, and deliver webhooks to a receiver in this test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.processes import ServiceProcesses, wait_until
from support.receivers import otlp_collector, webhook_receiver

from shkala_demo.region import TINY, build_region, rows, write_region
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

PERSONAL_ID_FIELDS = ("student_id", "teacher_id", "mentor_id", "mentee_id", "principal_id")
PSEUDONYM_RE = re.compile(r"\bp[0-9a-f]{24}\b")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, infra: None) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("e2e")
    collector, hooks = otlp_collector(), webhook_receiver()
    region = build_region(TINY)
    files = {w.kind: w.path for w in write_region(region, work / "region", "csv")}
    procs = ServiceProcesses(
        work / "logs",
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "SHKALA_WEBHOOK_ALLOW_NETWORKS": '["127.0.0.0/8"]',
            "SHKALA_REGION_ID": region.id,
        },
    )
    token = issue_token(ServiceSettings(), Role.REGION, region=region.id)
    auth = {"Authorization": f"Bearer {token}"}
    try:
        procs.start()
        sub = httpx.post(
            procs.url("notify") + "/subscriptions",
            headers=auth,
            timeout=10,
            json={"url": f"http://127.0.0.1:{hooks.port}/hook"},
        )
        assert sub.status_code == 201, sub.text
        imports = {}
        for kind in ("org-units", "vpr"):
            with files[kind].open("rb") as fh:
                r = httpx.post(
                    procs.url("ingest") + f"/imports/{kind}",
                    headers=auth,
                    files={"file": (files[kind].name, fh, "text/csv")},
                    timeout=120,
                )
            assert r.status_code in (200, 201, 202), r.text
            imports[kind] = r.json()["import_id"]

            def done(kind: str = kind) -> bool:
                state = httpx.get(
                    procs.url("ingest") + f"/imports/{imports[kind]}", headers=auth, timeout=10
                ).json()
                assert state["status"] not in ("rejected", "failed"), state
                return state["status"] == "completed"

            wait_until(done, 120, f"{kind} import completed")
        wait_until(lambda: len(hooks.items) > 0, 120, "a webhook delivered")
        yield {
            "procs": procs,
            "collector": collector,
            "hooks": hooks,
            "region": region,
            "auth": auth,
        }
    finally:
        procs.stop()
        collector.close()
        hooks.close()


def _trace_of(headers: dict[str, str]) -> str:
    return headers["traceparent"].split("-")[1]


def test_one_trace_covers_upload_projection_plans_and_the_webhook(system: dict[str, Any]) -> None:
    collector, hooks = system["collector"], system["hooks"]
    traced = [h for h in hooks.items if "traceparent" in h.headers]
    assert traced, "webhook requests carry a traceparent"

    def services_in(trace_id: str) -> set[str]:
        spans = [s for s in collector.items if s.trace_id == trace_id]
        # spans arrive in batches per service: wait for the webhook call's too
        return (
            {s.service for s in spans} if any(s.name == "webhook deliver" for s in spans) else set()
        )

    wanted = {"shkala-ingest", "shkala-indicators", "shkala-plans", "shkala-notify"}
    trace_id = wait_until(
        lambda: next(
            (t for t in {_trace_of(h.headers) for h in traced} if services_in(t) >= wanted), None
        ),
        30,
        f"a webhook's trace with spans of {wanted}",
    )
    spans = [s for s in collector.items if s.trace_id == trace_id]
    names = {s.name for s in spans}
    assert any(s.service == "shkala-ingest" and s.name.startswith("POST") for s in spans), names
    assert "webhook deliver" in names
    webhook_span = next(s for s in spans if s.name == "webhook deliver")
    assert any(s.parent_span_id == webhook_span.span_id for s in spans), "the HTTP call span"
    # Spans carry tenant and event type, never personal data.
    for s in spans:
        for value in s.attributes.values():
            assert not PSEUDONYM_RE.search(str(value)), (s.name, value)


def test_metrics_expose_throughput_and_lag(system: dict[str, Any]) -> None:
    procs = system["procs"]
    text = {
        name: httpx.get(procs.url(name) + "/metrics/", timeout=10).text for name in procs.services
    }
    published = [
        line
        for line in text["ingest"].splitlines()
        if line.startswith("shkala_events_published_total{")
    ]
    assert any(
        "assessment_result" in line and float(line.rsplit(" ", 1)[1]) > 0 for line in published
    ), published
    consumed = [
        line
        for line in text["indicators"].splitlines()
        if line.startswith("shkala_events_consumed_total{")
    ]
    assert any(float(line.rsplit(" ", 1)[1]) > 0 for line in consumed), consumed
    for name in ("indicators", "plans", "notify"):
        assert re.search(r"^shkala_consumer_lag\{.*\} \d", text[name], re.M), name
    assert re.search(
        r'^shkala_http_requests_total\{.*route="/imports/\{kind\}".*status="202"',
        text["ingest"],
        re.M,
    )
    assert re.search(
        r'^shkala_import_rows_total\{kind="vpr",stage="published"\} [1-9]', text["ingest"], re.M
    )


def test_logs_hold_no_student_or_teacher_identifier(system: dict[str, Any]) -> None:
    procs, region = system["procs"], system["region"]
    logs = {name: procs.log_path(name).read_text(errors="replace") for name in procs.services}
    assert all(logs.values()), "every service wrote logs"
    raw_ids = {
        str(row[f])
        for kind in ("vpr", "staff-movements", "courses", "mentoring")
        for row in rows(region, kind)
        for f in PERSONAL_ID_FIELDS
        if row.get(f)
    }
    assert len(raw_ids) > 100
    for name, text in logs.items():
        leaked = [i for i in raw_ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)]
        assert not leaked, f"{name} log holds raw ids {leaked[:5]}"
        assert not PSEUDONYM_RE.search(text), f"{name} log holds a pseudonym"
