"""Settings of the plans service (environment variables, prefix ``SHKALA_``)."""

from __future__ import annotations

from pydantic import Field

from shkala_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "plans"
    http_port: int = 8003
    plans_consumer_group: str = Field(
        default="shkala-plans-effectiveness",
        description="Consumer group reading the indicators topic (prefixed like topics)",
    )
    plans_org_units_group: str = Field(
        default="shkala-plans-org-units",
        description="Consumer group reading the org-unit registry topic (prefixed like topics)",
    )
    plans_scheduler_interval_s: float = Field(
        default=3600.0, description="How often row-due/overdue is checked; 0 disables"
    )
    plans_due_lead_days: int = Field(default=14, description="Row-due this many days ahead")
    plans_relay_poll_s: float = Field(default=0.5, description="Outbox relay poll interval")
    indicators_url: str = Field(
        default="http://127.0.0.1:8002",
        description="The indicators service, whose catalogue says which indicator ids exist"
        " and which way each improves (empty: no catalogue, measures are refused with 503)",
    )
    plans_catalogue_ttl_s: float = Field(
        default=300.0, description="How long the indicators catalogue is cached"
    )
    plans_catalogue_timeout_s: float = Field(
        default=5.0, description="How long plans waits for the indicators catalogue"
    )
