"""Stream cursors (SSE ids) and the secrets a webhook is signed with: pure, no infrastructure."""

from __future__ import annotations

import datetime as dt

from standardwebhooks import Webhook

from shkala_notify.adapters.webhooks import sign_headers
from shkala_notify.domain import stream_cursor
from shkala_notify.domain.subscriptions import new_secret, signing_secrets

LAYOUT = [("p.shkala.indicators.v1", 0), ("p.shkala.indicators.v1", 1), ("p.shkala.plans.v1", 0)]


def test_a_cursor_names_every_partition_and_reads_back():
    positions = {LAYOUT[0]: 0, LAYOUT[1]: 123456789, LAYOUT[2]: 35}
    text = stream_cursor.encode(LAYOUT, positions)
    assert text.startswith("c1.")
    assert stream_cursor.decode(LAYOUT, text) == positions
    # a partition the client never saw an event of starts at 0
    assert stream_cursor.decode(LAYOUT, stream_cursor.encode(LAYOUT, {})) == dict.fromkeys(
        LAYOUT, 0
    )


def test_a_foreign_or_broken_cursor_is_not_misread():
    text = stream_cursor.encode(LAYOUT, dict.fromkeys(LAYOUT, 7))
    other_prefix = [(t.replace("p.", "q."), p) for t, p in LAYOUT]
    assert stream_cursor.decode(other_prefix, text) is None  # another deployment's id
    assert stream_cursor.decode(LAYOUT[:2], text) is None  # other partitions
    assert stream_cursor.decode(LAYOUT, text + ".1") is None
    assert stream_cursor.decode(LAYOUT, text[:-1] + "!") is None
    assert stream_cursor.decode(LAYOUT, "a-cloudevents-id") is None
    assert stream_cursor.decode(LAYOUT, "") is None


def test_the_previous_secret_signs_only_inside_its_window():
    now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    current, old, older = new_secret(), new_secret(), new_secret()
    sub = {
        "secret": current,
        "previous_secrets": [
            {"secret": older, "expires_at": now - dt.timedelta(seconds=1)},
            {"secret": old, "expires_at": now + dt.timedelta(hours=1)},
        ],
    }
    assert signing_secrets(sub, now) == [current, old]
    assert signing_secrets(sub, now + dt.timedelta(hours=2)) == [current]
    assert signing_secrets({"secret": current}, now) == [current]


def test_a_webhook_signed_during_the_overlap_verifies_with_either_secret():
    current, old = new_secret(), new_secret()
    body = '{"id": "e-1"}'
    headers = sign_headers([current, old], "e-1", body, dt.datetime.now(dt.UTC))
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(current).verify(body, headers) == {"id": "e-1"}
    assert Webhook(old).verify(body, headers) == {"id": "e-1"}
