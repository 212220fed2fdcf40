"""What every fault scenario checks, and the webhook receiver it checks notify with.

- :func:`fact_census`: the fact topics read back from Kafka, distinct facts (originator ids)
  against the rows the generator produced and ingest acknowledged.
- :func:`compare_projections`: school cards and lists of the projection under test against a
  clean instance's; a denominator above the clean one is a fact applied twice, below is a
  fact lost.
- :func:`fold_plans_view`: what plans must hold of the indicators topic (the latest version
  per school/indicator/period and per school/list/period), folded here from the log.
- :class:`Receiver`: a webhook endpoint that can be down (port closed) and up again on the
  same port; it records every delivery it acknowledged (2xx) by ``webhook-id``.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiokafka import ConsumerRecord

POISON_HEADER = "x-faults-poison"


def headers(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {k: (v or b"").decode(errors="replace") for k, v in record.headers or ()}


@dataclass
class Census:
    messages: int = 0
    poison: int = 0
    distinct: dict[str, int] = field(default_factory=dict)
    """Distinct originator ids per topic (without the topic prefix)."""
    corrections: int = 0
    """Facts with more than one originator version on the log (a re-upload must not make any)."""


def fact_census(records: Iterable[ConsumerRecord[bytes, bytes]], prefix: str) -> Census:
    census = Census()
    seen: dict[str, set[str]] = {}
    versions: dict[str, set[str]] = {}
    for r in records:
        census.messages += 1
        h = headers(r)
        if POISON_HEADER in h or "ce_originatorid" not in h:
            census.poison += 1
            continue
        topic = r.topic.removeprefix(prefix)
        seen.setdefault(topic, set()).add(h["ce_originatorid"])
        versions.setdefault(h["ce_originatorid"], set()).add(h.get("ce_originatorversion", "?"))
    census.distinct = {t: len(ids) for t, ids in sorted(seen.items())}
    census.corrections = sum(1 for v in versions.values() if len(v) > 1)
    return census


def _denominators(snap: dict[str, Any]) -> dict[tuple[str, str, str], float]:
    out: dict[tuple[str, str, str], float] = {}
    for school, card in snap.items():
        if isinstance(card, dict):
            for indicator, period, _num, den, _value in card["values"]:
                out[(school, indicator, period)] = float(den or 0)
    return out


@dataclass
class Comparison:
    equal: bool
    lost: int
    """Sum of denominators the projection under test lacks against the clean one."""
    duplicated: int
    """Sum of denominators the projection under test has beyond the clean one."""
    differences: list[str]


def compare_projections(tested: dict[str, Any], clean: dict[str, Any]) -> Comparison:
    t, c = _denominators(tested), _denominators(clean)
    lost = sum(max(0.0, c.get(k, 0.0) - t.get(k, 0.0)) for k in set(t) | set(c))
    dup = sum(max(0.0, t.get(k, 0.0) - c.get(k, 0.0)) for k in set(t) | set(c))
    diffs = [
        f"{key}: {tested.get(key)!r:.200} != clean {clean.get(key)!r:.200}"
        for key in sorted(set(tested) | set(clean))
        if tested.get(key) != clean.get(key)
    ]
    return Comparison(not diffs, round(lost), round(dup), diffs[:5])


VALUE_CHANGED = "ru.shkala.indicators.value_changed.v1"
MEMBERSHIP_CHANGED = "ru.shkala.indicators.list_membership_changed.v1"


def fold_plans_view(
    records: Iterable[ConsumerRecord[bytes, bytes]],
) -> dict[str, tuple[int, Any]]:
    """``{plans document id: (version, value or change)}`` as plans' adapter keys them."""
    out: dict[str, tuple[int, Any]] = {}
    for r in records:
        h = headers(r)
        kind = h.get("ce_type")
        if kind not in (VALUE_CHANGED, MEMBERSHIP_CHANGED) or r.value is None:
            continue
        data = json.loads(r.value)
        if data.get("school_id") is None:
            continue
        if kind == VALUE_CHANGED:
            if data["scope"] != "school":
                continue
            key, value = (
                f"{data['school_id']}|{data['indicator_id']}|{data['period']}",
                data["new_value"],
            )
        else:
            key, value = f"{data['school_id']}|{data['risk_list']}|{data['period']}", data["change"]
        version = int(data["originator_version"])
        if key not in out or out[key][0] < version:
            out[key] = (version, value)
    return out


class Receiver:
    """A webhook endpoint on a fixed port; ``down()`` closes the port, ``up()`` reopens it."""

    def __init__(
        self, port: int, verify: Callable[[dict[str, str], bytes], bool] | None = None
    ) -> None:
        self.port = port
        self.verify = verify
        """When set, a delivery it returns False for is answered 401 (a bad signature)."""
        self.acked: Counter[str] = Counter()
        self.refused = 0
        self.attempts = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                check = receiver.verify
                if check is not None and not check(dict(self.headers.items()), body):
                    self.send_response(401)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    with receiver._lock:
                        receiver.refused += 1
                    return
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()
                with receiver._lock:  # counted once the 2xx went out
                    receiver.attempts += 1
                    receiver.acked[self.headers.get("webhook-id", "?")] += 1

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def duplicated(self) -> int:
        """Acknowledged deliveries of a webhook-id beyond its first."""
        with self._lock:
            return sum(n - 1 for n in self.acked.values() if n > 1)
