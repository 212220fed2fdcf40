"""Serve a service's app over HTTP the one way every service does (``python -m shkala_<svc>``)."""

from __future__ import annotations

from typing import Any

import uvicorn

from shkala_runtime.settings import ServiceSettings


def serve(app: Any, settings: ServiceSettings) -> None:
    """uvicorn on the configured host and port; logging stays ours (JSON lines, trace ids), and
    access lines are left to the tracing middleware."""
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )
