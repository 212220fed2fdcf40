"""The `make demo` runner's steps against fake services (httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from shkala_demo import runner
from shkala_demo.receiver import Receiver, new_secret
from shkala_demo.runner import Api, Config, DemoError
from shkala_demo.world import TINY

Handler = Callable[[httpx.Request], httpx.Response]


def fake_api(**handlers: Handler) -> Api:
    api = Api(Config(size="tiny"), "token")
    for name, handler in handlers.items():
        api.c[name] = httpx.Client(
            base_url=api.cfg.url(name), transport=httpx.MockTransport(handler)
        )
    return api


def test_org_units_are_uploaded_first() -> None:
    assert runner.upload_order(["vpr", "gia", "org-units", "attendance"]) == [
        "org-units",
        "vpr",
        "gia",
        "attendance",
    ]


def test_periods_and_linked_indicators() -> None:
    assert runner.next_period("2025/26") == "2026/27"
    assert runner.next_period("2099/00") == "2100/01"
    catalogue = {
        "ege_high_scorers_share": {"id": "ege_high_scorers_share", "better": "up"},
        "vpr_mark2_share_math": {"id": "vpr_mark2_share_math", "better": "down"},
    }
    assert runner.linked_indicators(
        ["ege_high_scorers_share", "vpr_mark2_share_math", "unknown"], catalogue
    ) == [
        {"indicator_id": "ege_high_scorers_share", "better": "higher"},
        {"indicator_id": "vpr_mark2_share_math", "better": "lower"},
    ]
    # reasons that say nothing usable still give a measure something to evaluate
    assert runner.linked_indicators([], {})[0]["better"] == "lower"


def test_the_region_is_written_once_and_reused(tmp_path: Path) -> None:
    out = tmp_path / "demo" / "7"
    info = runner.prepare_region(out, TINY)
    assert next(iter(info.files)) == "org-units"
    assert info.region_id == "99"
    assert info.latest == "2025/26"
    assert set(info.metadata["designed_low_results"]) <= set(info.schools)
    marker = (out / "demo.json").stat().st_mtime_ns
    again = runner.prepare_region(out, TINY)
    assert again == info
    assert (out / "demo.json").stat().st_mtime_ns == marker  # not rewritten
    (out / "vpr.csv").unlink()
    assert runner.load_region(out, TINY) is None  # a missing file means: generate again


def import_state(status: str, problem: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "import_id": "imp1",
        "kind": "vpr",
        "status": status,
        "progress": {
            "rows_expected": 10,
            "rows_read": 10,
            "rows_validated": 10,
            "rows_published": 10 if status == "completed" else 0,
            "rows_unchanged": 0,
        },
        "problem": problem,
    }


def test_an_upload_is_polled_until_completed(tmp_path: Path) -> None:
    f = tmp_path / "vpr.csv"
    f.write_bytes(b"a;b\n1;2\n")
    polls = iter(["processing", "processing", "completed"])

    def ingest(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            assert request.headers["prefer"] == "respond-async"
            return httpx.Response(202, json=import_state("processing"))
        assert request.url.path == "/imports/imp1"
        return httpx.Response(200, json=import_state(next(polls)))

    state = runner.upload(fake_api(ingest=ingest), "vpr", f, poll_s=0)
    assert state["status"] == "completed"


def test_a_rejected_upload_stops_the_demo_with_the_problem(tmp_path: Path) -> None:
    f = tmp_path / "vpr.csv"
    f.write_bytes(b"a;b\n1;2\n")
    problem = {
        "type": "urn:shkala:problem:invalid-rows",
        "status": 422,
        "errors": [{"row": 7, "column": "Отметка", "value": "6", "reason": "≤ 5"}],
    }

    def rejected_at_once(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json=problem, headers={"content-type": "application/json"})

    with pytest.raises(DemoError, match="Отметка"):
        runner.upload(fake_api(ingest=rejected_at_once), "vpr", f, poll_s=0)

    def rejected_later(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json=import_state("processing"))
        return httpx.Response(200, json=import_state("rejected", problem))

    with pytest.raises(DemoError, match="invalid-rows"):
        runner.upload(fake_api(ingest=rejected_later), "vpr", f, poll_s=0)


def metrics(consumed: int, lag: int) -> str:
    return (
        "# HELP shkala_events_consumed_total x\n"
        f'shkala_events_consumed_total{{event_type="a",group="g"}} {consumed}.0\n'
        f'shkala_consumer_lag{{group="g",partition="0",topic="t"}} {lag}.0\n'
    )


def test_waiting_for_the_list_survives_a_busy_service_and_waits_for_the_lag() -> None:
    answers = iter(
        [
            (503, [], 500),  # not ready yet
            (200, [], 300),  # nothing listed yet
            (200, [{"school_id": "sch-0002", "reasons": []}], 100),
            ("timeout", None, 0),  # busy: keeps what it knew
            (200, [{"school_id": "sch-0002", "reasons": []}], 0),
            (200, [{"school_id": "sch-0002", "reasons": []}], 0),  # caught up twice running
        ]
    )
    current: dict[str, Any] = {}

    def indicators(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/lists/"):
            current["a"] = next(answers)
            status, members, _ = current["a"]
            if status == "timeout":
                raise httpx.ReadTimeout("busy", request=request)
            return httpx.Response(status, json={"members": members})
        return httpx.Response(200, text=metrics(1000, current["a"][2]))

    clock = iter(range(0, 1000, 3))
    members = runner.wait_for_list(
        fake_api(indicators=indicators),
        "ШНОР",
        "2025/26",
        600,
        clock=lambda: next(clock),
        sleep=lambda s: None,
    )
    assert [m["school_id"] for m in members] == ["sch-0002"]


def test_a_stable_list_ends_the_wait_though_the_lag_never_reads_zero() -> None:
    """The lag gauge can stay at the commit markers of the last imports (10 here): the demo
    goes on once the list stays the same, not after its whole timeout."""
    polls = {"n": 0}

    def indicators(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/lists/"):
            polls["n"] += 1
            return httpx.Response(200, json={"members": [{"school_id": "sch-0002"}]})
        return httpx.Response(200, text=metrics(1000, 10))

    clock = iter(range(0, 10_000, 3))
    members = runner.wait_for_list(
        fake_api(indicators=indicators),
        "ШНОР",
        "2025/26",
        3600,
        clock=lambda: next(clock),
        sleep=lambda s: None,
    )
    assert [m["school_id"] for m in members] == ["sch-0002"]
    assert polls["n"] <= 5  # seconds, not the hour


def test_waiting_for_an_empty_list_ends_with_a_clear_message() -> None:
    def indicators(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/lists/"):
            return httpx.Response(200, json={"members": []})
        return httpx.Response(404)

    clock = iter(range(0, 1000, 50))
    with pytest.raises(DemoError, match=r"no ШНОР schools.*SHKALA_DEMO_WAIT_S"):
        runner.wait_for_list(
            fake_api(indicators=indicators),
            "ШНОР",
            "2025/26",
            120,
            clock=lambda: next(clock),
            sleep=lambda s: None,
        )


def test_the_subscription_replaces_an_earlier_runs_and_filters_events() -> None:
    receiver = Receiver(new_secret(), port=8099)
    calls: list[tuple[str, str]] = []

    def notify(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.method == "GET":
            return httpx.Response(
                200, json=[{"id": "old", "url": receiver.url}, {"id": "x", "url": "https://a"}]
            )
        if request.method == "DELETE":
            return httpx.Response(204)
        body = json.loads(request.content)
        assert body["secret"] == receiver.secret
        assert "ru.shkala.plans.measure_taken.v1" in body["filters"]["event_types"]
        return httpx.Response(201, json={"id": "new", **body})

    sub = runner.subscribe(fake_api(notify=notify), receiver, all_events=False)
    assert sub["id"] == "new"
    assert ("DELETE", "/subscriptions/old") in calls
    assert ("DELETE", "/subscriptions/x") not in calls


def test_a_refused_loopback_target_names_the_setting() -> None:
    receiver = Receiver(new_secret(), port=8099)

    def notify(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=[])
        return httpx.Response(
            422, json={"type": "urn:shkala:problem:webhook-target-refused", "status": 422}
        )

    with pytest.raises(DemoError, match="SHKALA_WEBHOOK_ALLOW_NETWORKS"):
        runner.subscribe(fake_api(notify=notify), receiver, all_events=False)


def test_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHKALA_DEMO_SIZE", "tiny")
    assert Config.from_env().spec == TINY
    assert Config.from_env("default").size == "default"
    monkeypatch.setenv("SHKALA_DEMO_SIZE", "huge")
    with pytest.raises(DemoError, match="tiny, default"):
        Config.from_env()


def test_the_typical_region_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHKALA_DEMO_SIZE", raising=False)
    cfg = Config.from_env()
    assert cfg.size == "default"
    assert cfg.spec != TINY


def test_import_positions_become_read_your_writes_parameters() -> None:
    positions: dict[str, dict[str, int]] = {}
    runner.merge_positions(positions, {"log_positions": {"t.a": {"0": 5, "1": 9}}})
    runner.merge_positions(positions, {"log_positions": {"t.a": {"0": 3}, "t.b": {"2": 7}}})
    runner.merge_positions(positions, {"status": "completed"})  # an answer without positions
    assert positions == {"t.a": {"0": 5, "1": 9}, "t.b": {"2": 7}}
    assert runner.after_params(positions) == ["t.a:0:5", "t.a:1:9", "t.b:2:7"]
