"""Settings of the notify service (environment variables, prefix ``SHKALA_``)."""

from __future__ import annotations

from shkala_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8004
