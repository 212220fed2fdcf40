"""The demo's webhook receiver: verifies Standard Webhooks signatures, deduplicates, prints."""

from __future__ import annotations

import datetime as dt
import json
import socket
from typing import Any

import httpx
from standardwebhooks import Webhook
from starlette.testclient import TestClient

from shkala_demo.receiver import PATH, Receiver, describe, make_app, new_secret

EVENT = {
    "specversion": "1.0",
    "id": "ce-1",
    "type": "ru.shkala.indicators.list_membership_changed.v1",
    "region": "99",
    "municipality": "mo-01",
    "school": "sch-0002",
    "text": "Школа МБОУ «СОШ № 2» вошла в список ШНОР по итогам 2025/26 учебного года",
    "data": {"list": "ШНОР"},
}


def signed(secret: str, msg_id: str, body: str) -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=msg_id, timestamp=now, data=body),
        "content-type": "application/cloudevents+json",
    }


def client() -> tuple[TestClient, list[dict[str, Any]], str]:
    secret = new_secret()
    got: list[dict[str, Any]] = []
    return TestClient(make_app(secret, got.append)), got, secret


def test_a_signed_event_is_accepted_and_handed_on() -> None:
    c, got, secret = client()
    body = json.dumps(EVENT, ensure_ascii=False)
    r = c.post(PATH, content=body.encode(), headers=signed(secret, "msg_1", body))
    assert r.status_code == 204
    assert got == [EVENT]


def test_a_bad_or_missing_signature_is_refused() -> None:
    c, got, secret = client()
    body = json.dumps(EVENT, ensure_ascii=False)
    other = signed(new_secret(), "msg_1", body)  # signed with another secret
    assert c.post(PATH, content=body.encode(), headers=other).status_code == 401
    tampered = signed(secret, "msg_2", body)
    tampered_body = body.replace("ШНОР", "ШНСУ").encode()
    assert c.post(PATH, content=tampered_body, headers=tampered).status_code == 401
    assert c.post(PATH, content=body.encode(), headers={}).status_code == 401
    assert got == []
    assert c.app.state.stats.rejected == 3  # type: ignore[attr-defined]


def test_a_redelivery_is_acknowledged_but_handed_on_once() -> None:
    c, got, secret = client()
    body = json.dumps(EVENT, ensure_ascii=False)
    for _ in range(2):
        r = c.post(PATH, content=body.encode(), headers=signed(secret, "msg_1", body))
        assert r.status_code == 204
    assert len(got) == 1
    assert c.app.state.stats.duplicates == 1  # type: ignore[attr-defined]


def test_describe_prefers_the_russian_text() -> None:
    line = describe(EVENT)
    assert "indicators.list_membership_changed.v1" in line
    assert "sch-0002" in line
    assert "вошла в список ШНОР" in line
    bare = describe({"type": "ru.shkala.plans.measure_taken.v1", "subject": "measure:1"})
    assert "plans.measure_taken.v1" in bare
    assert "measure:1" in bare


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_receiver_serves_in_a_thread_and_stops() -> None:
    got: list[dict[str, Any]] = []
    receiver = Receiver(new_secret(), port=free_port(), on_event=got.append)
    receiver.start()
    try:
        body = json.dumps(EVENT, ensure_ascii=False)
        r = httpx.post(
            receiver.url, content=body.encode(), headers=signed(receiver.secret, "m", body)
        )
        assert r.status_code == 204
        bad = httpx.post(receiver.url, content=body.encode(), headers={"webhook-id": "x"})
        assert bad.status_code == 401
    finally:
        receiver.stop()
    assert got == [EVENT]
    assert not receiver.thread.is_alive()
