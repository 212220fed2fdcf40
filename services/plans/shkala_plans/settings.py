"""Settings of the plans service (environment variables, prefix ``SHKALA_``)."""

from __future__ import annotations

from shkala_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "plans"
    http_port: int = 8003
