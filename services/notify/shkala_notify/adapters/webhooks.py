"""Sends one signed webhook (Standard Webhooks) to a checked, pinned address."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from opentelemetry import propagate, trace
from standardwebhooks import Webhook

from shkala_notify.adapters.targets import TargetGuard
from shkala_notify.domain.ssrf import TargetRefused

USER_AGENT = "Shkala-Webhooks/1.0"
tracer = trace.get_tracer("shkala.notify.webhooks")


@dataclass(frozen=True, slots=True)
class AttemptResult:
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    response_excerpt: str | None = None


def sign_headers(
    secret: str | Sequence[str], msg_id: str, body: str, now: dt.datetime
) -> dict[str, str]:
    """One ``v1,<signature>`` per secret, space-separated (several during a rotation)."""
    keys = [secret] if isinstance(secret, str) else list(secret)
    signature = " ".join(Webhook(key).sign(msg_id=msg_id, timestamp=now, data=body) for key in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


class WebhookSender:
    def __init__(self, guard: TargetGuard, timeout_s: float) -> None:
        self._guard = guard
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s), follow_redirects=False, trust_env=False
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        url: str,
        secret: str | Sequence[str],
        msg_id: str,
        body: str,
        *,
        traceparent: str | None = None,
        tracestate: str | None = None,
    ) -> AttemptResult:
        started = time.monotonic()

        def ms() -> int:
            return int((time.monotonic() - started) * 1000)

        parent = propagate.extract(
            {k: v for k, v in (("traceparent", traceparent), ("tracestate", tracestate)) if v}
        )
        with tracer.start_as_current_span(
            "webhook deliver", context=parent, kind=trace.SpanKind.CLIENT
        ) as span:
            span.set_attribute("messaging.message.id", msg_id)
            try:
                target = await self._guard.check(url)  # again at every attempt, after DNS
            except TargetRefused as exc:
                span.set_attribute("error.type", "target_refused")
                return AttemptResult(False, None, f"refused: {exc}", ms())
            now = dt.datetime.now(dt.UTC)
            headers = {
                **sign_headers(secret, msg_id, body, now),
                "content-type": "application/cloudevents+json; charset=utf-8",
                "user-agent": USER_AGENT,
            }
            propagate.inject(headers)
            request_url = httpx.URL(url)
            extensions = {}
            if request_url.scheme == "https":
                extensions["sni_hostname"] = target.host
            headers["host"] = request_url.netloc.decode("ascii")
            pinned = request_url.copy_with(host=str(target.address))
            try:
                response = await self._client.post(
                    pinned, content=body.encode(), headers=headers, extensions=extensions
                )
            except httpx.HTTPError as exc:
                span.set_attribute("error.type", type(exc).__name__)
                return AttemptResult(False, None, f"{type(exc).__name__}: {exc}"[:500], ms())
            span.set_attribute("http.response.status_code", response.status_code)
            ok = 200 <= response.status_code < 300
            return AttemptResult(
                ok,
                response.status_code,
                None if ok else f"HTTP {response.status_code}",
                ms(),
                response.text[:300] if not ok else None,
            )
