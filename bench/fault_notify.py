"""`make faults` scenarios of the outward side: a dashboard's live stream that drops and
reconnects, and a webhook secret rotated while deliveries flow (see bench/faults.py).

- **sse-resume**: a region dashboard follows ``/events/stream`` from before the first upload;
  after a few events it disconnects, notify is killed with SIGKILL and restarted while
  events keep coming, and the dashboard reconnects to the new process with the
  ``Last-Event-ID`` it last got. ``lost`` = CloudEvents ids of the indicators and plans
  topics the dashboard never received; ``duplicated`` = ids it received more than once.
- **webhook-secret-rotation**: a receiver first accepts only signatures made with the
  original secret; after a few deliveries the secret is rotated (overlap 10 minutes) and the
  receiver switches to the new one at once, as its operator would. Every delivery must
  verify with the secret the receiver holds at that moment: ``refused_signatures`` (a 401
  from the receiver) must be 0 and nothing may be lost or delivered twice. After a second
  rotation with no overlap, a delivery must verify with the newest secret only.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
from standardwebhooks import Webhook, WebhookVerificationError

from bench.fault_checks import Receiver, headers
from bench.fault_world import Stage, free_port, read_log, wait_until

if TYPE_CHECKING:
    from bench.faults import Faults

DOMAIN_TOPICS = ("shkala.indicators.v1", "shkala.plans.v1")
NOTIFY_KINDS = ("gia", "school-context")


class Dashboard:
    """An SSE client in a thread: records every event's CloudEvents id and its SSE id."""

    def __init__(self, url: str, auth: dict[str, str]) -> None:
        self.url, self.auth = url, auth
        self.received: Counter[str] = Counter()
        self.last_id: str | None = None
        self.connections = 0
        self._listening = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def connect(self, disconnect_after: int | None = None) -> None:
        self._stop.clear()
        self._listening.clear()
        self._thread = threading.Thread(target=self._run, args=(disconnect_after,), daemon=True)
        self._thread.start()
        wait_until(self._listening.is_set, 30, "SSE subscribed")

    def disconnect(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self, disconnect_after: int | None) -> None:
        headers = dict(self.auth)
        if self.last_id:
            headers["Last-Event-ID"] = self.last_id
        got = 0
        timeout = httpx.Timeout(10, read=3)
        with httpx.Client(timeout=timeout) as client:
            try:
                with client.stream("GET", self.url, headers=headers) as stream:
                    stream.raise_for_status()
                    self.connections += 1
                    event_id = None
                    lines = stream.iter_lines()
                    while not self._stop.is_set():
                        try:
                            line = next(lines)
                        except httpx.ReadTimeout:
                            continue
                        except StopIteration:
                            return
                        if line.startswith(": subscribed"):
                            self._listening.set()
                        elif line.startswith("id: "):
                            event_id = line.removeprefix("id: ")
                            self.last_id = event_id  # also a bare checkpoint id
                        elif line.startswith("data: "):
                            ce = json.loads(line.removeprefix("data: "))
                            self.received[ce["id"]] += 1
                            got += 1
                            if disconnect_after is not None and got >= disconnect_after:
                                return
            except httpx.HTTPError:
                return


def sse_resume(faults: Faults, st: Stage) -> dict[str, Any]:
    st.procs.start()
    dashboard = Dashboard(st.url("notify") + "/events/stream", st.auth)
    dashboard.connect(disconnect_after=5)
    st.upload_org_units()
    for kind in NOTIFY_KINDS:
        st.upload(kind)
    wait_until(lambda: not dashboard.alive, 300, "five live events, then the dashboard leaves")
    st.note(f"dashboard left after {sum(dashboard.received.values())} events")
    st.procs.kill("notify")
    time.sleep(3)  # events keep coming while nobody listens
    st.procs.start("notify")
    st.note("notify killed -9 and restarted; dashboard reconnects with Last-Event-ID")
    dashboard.connect()
    try:
        st.wait_projected(lambda: st.url("indicators"))
        records = asyncio.run(read_log([st.prefix + t for t in DOMAIN_TOPICS]))
        expected = {headers(r)["ce_id"] for r in records}
        try:
            st.wait(
                lambda: len(expected & set(dashboard.received)),
                len(expected),
                "events on the dashboard",
                within=300,
                service="notify",
            )
        except TimeoutError as exc:
            st.note(str(exc))
    finally:
        dashboard.disconnect()
    lost = len(expected - set(dashboard.received))
    dup = sum(n - 1 for n in dashboard.received.values() if n > 1)
    st.note(
        f"{len(expected)} events on the log, {sum(dashboard.received.values())} received "
        f"over {dashboard.connections} connections"
    )
    return {
        **st.extra,
        "events": len(expected),
        "lost": lost,
        "duplicated": dup,
        "equal_to_clean": lost == 0 and dup == 0,
    }


def _verifies(secret: str, hdrs: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(secret).verify(body, {k.lower(): v for k, v in hdrs.items()})
        return True
    except WebhookVerificationError:
        return False


def webhook_secret_rotation(faults: Faults, st: Stage) -> dict[str, Any]:
    state: dict[str, Any] = {"phase": 1, "bad": 0, "both": 0}

    def verify(h: dict[str, str], body: bytes) -> bool:
        if state["phase"] == 1:
            return _verifies(state["old"], h, body)
        ok = _verifies(state["old"], h, body) and _verifies(state["new"], h, body)
        signed_at = int(h.get("webhook-timestamp") or h.get("Webhook-Timestamp") or 0)
        if ok:
            state["both"] += 1
        elif signed_at > state["rotated_at"] + 1:  # signed after the rotation, yet not both
            state["bad"] += 1
        return ok

    receiver = Receiver(free_port(), verify=verify)
    receiver.up()
    try:

        def created(sub: dict[str, Any]) -> None:
            state["old"], state["sub"] = sub["secret"], sub["id"]

        def fault() -> None:
            wait_until(lambda: len(receiver.acked) >= 5, 300, "first deliveries")
            r = _rotate(st, state["sub"], overlap_s=600)
            state["new"], state["rotated_at"] = r["secret"], int(time.time())
            state["phase"] = 2
            st.note(
                f"rotated after {len(receiver.acked)} deliveries (overlap 600 s); from now "
                "on the receiver accepts only webhooks that verify with both secrets"
            )

        result = faults._notify(st, receiver, fault, on_subscribed=created)
        st.note(
            f"{state['both']} deliveries verified with both secrets, {state['bad']} signed "
            f"after the rotation without both, {receiver.refused} refused in all"
        )
        # A second rotation without overlap: from now on the newest secret alone signs.
        newest = _rotate(st, state["sub"], overlap_s=0)["secret"]
        seen: list[tuple[dict[str, str], bytes]] = []

        def newest_only(h: dict[str, str], body: bytes) -> bool:
            seen.append((h, body))
            return _verifies(newest, h, body)

        receiver.verify = newest_only
        base = st.url("notify") + f"/subscriptions/{state['sub']}/deliveries"
        [last] = httpx.get(base, params={"limit": 1}, headers=st.auth, timeout=30).json()
        httpx.post(f"{base}/{last['id']}/redeliver", headers=st.auth, timeout=30)
        wait_until(lambda: seen, 60, "the redelivery after the second rotation")
        h, body = seen[0]
        alone = _verifies(newest, h, body) and not _verifies(state["new"], h, body)
        st.note(f"after the overlap-free rotation: signed with the newest secret only: {alone}")
        result["signature_failures"] = state["bad"] + (0 if alone else 1)
        result["lost"] += result["signature_failures"]
        return result
    finally:
        receiver.down()


def _rotate(st: Stage, sub_id: str, overlap_s: float) -> dict[str, Any]:
    r = httpx.post(
        st.url("notify") + f"/subscriptions/{sub_id}/secret/rotate",
        headers=st.auth,
        json={"overlap_s": overlap_s},
        timeout=30,
    )
    if r.status_code != 200:
        raise RuntimeError(f"rotate: HTTP {r.status_code} {r.text[:300]}")
    body: dict[str, Any] = r.json()
    return body
