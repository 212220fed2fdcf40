"""Settings of the ingest service (environment variables, prefix ``SHKALA_``)."""

from __future__ import annotations

from shkala_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "ingest"
    http_port: int = 8001
