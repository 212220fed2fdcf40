"""A local webhook receiver for `make demo`: verifies Standard Webhooks signatures, prints events.

>>> receiver = Receiver(new_secret(), port=8099)
>>> receiver.start()  # uvicorn in a daemon thread
>>> receiver.stop()

Notify signs every delivery (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) and
sends a structured-mode CloudEvent with a Russian ``text``. A request with a bad or missing
signature is answered 401 (notify retries it later); a valid one 204, and a ``webhook-id``
seen before (delivery is at-least-once) is acknowledged without printing it again.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PATH = "/hooks/shkala"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def describe(event: dict[str, Any]) -> str:
    """One line for a received CloudEvent: its Russian text if present, else type and subject."""
    kind = str(event.get("type", "?")).removeprefix("ru.shkala.")
    where = event.get("school") or event.get("municipality") or event.get("region") or ""
    text = event.get("text")
    if not text:
        text = event.get("subject") or json.dumps(event.get("data", {}), ensure_ascii=False)[:120]
    return f"{kind:<40} {where:<9} {text}"


class Stats:
    def __init__(self) -> None:
        self.received = 0
        self.duplicates = 0
        self.rejected = 0
        self.seen: set[str] = set()
        self.lock = threading.Lock()


def make_app(
    secret: str, on_event: Callable[[dict[str, Any]], None], stats: Stats | None = None
) -> Starlette:
    """The receiving app: POST ``PATH`` verifies, deduplicates by ``webhook-id``, calls
    ``on_event`` with the CloudEvent."""
    hook = Webhook(secret)
    stats = stats or Stats()

    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            event = hook.verify(body, headers)
        except WebhookVerificationError as exc:
            with stats.lock:
                stats.rejected += 1
            return JSONResponse({"error": f"signature: {exc}"}, status_code=401)
        msg_id = headers.get("webhook-id", "")
        with stats.lock:
            if msg_id in stats.seen:
                stats.duplicates += 1
                return Response(status_code=204)
            stats.seen.add(msg_id)
            stats.received += 1
        on_event(event if isinstance(event, dict) else {"data": event})
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        return JSONResponse({"received": stats.received, "rejected": stats.rejected})

    app = Starlette(
        routes=[Route(PATH, receive, methods=["POST"]), Route("/health", health, methods=["GET"])]
    )
    app.state.stats = stats
    return app


def print_event(event: dict[str, Any]) -> None:
    print(f"  ⟵ webhook  {describe(event)}", flush=True)


class Receiver:
    """The app served by uvicorn in a daemon thread on ``host:port``."""

    def __init__(
        self,
        secret: str,
        *,
        host: str = "127.0.0.1",
        port: int = 8099,
        on_event: Callable[[dict[str, Any]], None] = print_event,
    ) -> None:
        self.secret = secret
        self.host, self.port = host, port
        self.stats = Stats()
        self.app = make_app(secret, on_event, self.stats)
        config = uvicorn.Config(
            self.app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)  # off the main thread: no signal handlers
        self.thread = threading.Thread(target=self.server.run, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{PATH}"

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(
                    f"the webhook receiver could not listen on {self.host}:{self.port}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"the webhook receiver did not start within {timeout}s")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
