"""Settings of the notify service (environment variables, prefix ``SHKALA_``)."""

from __future__ import annotations

from pydantic import Field

from shkala_runtime.settings import ServiceSettings

# Svix's schedule after the immediate first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
SVIX_SCHEDULE_S = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class Settings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8004

    notify_consumer_group: str = Field(
        default="shkala-notify", description="Consumer group of the webhook fan-out"
    )
    webhook_retry_schedule_s: tuple[float, ...] = Field(
        default=SVIX_SCHEDULE_S,
        description="Delays between attempts after the immediate first one (JSON list)",
    )
    webhook_disable_after_s: float = Field(
        default=5 * 24 * 3600,
        description="Disable an endpoint whose every delivery failed for this long",
    )
    webhook_timeout_s: float = Field(default=15.0, description="Per attempt, connect to response")
    webhook_lease_s: float = Field(
        default=60.0, description="A claimed delivery is retried after this if its worker died"
    )
    webhook_poll_interval_s: float = 1.0
    webhook_batch_size: int = 50
    webhook_allow_networks: tuple[str, ...] = Field(
        default=(),
        description=(
            'CIDRs webhook targets may use although not public, e.g. ["127.0.0.0/8"]: '
            "local development and tests only"
        ),
    )
    webhook_secret_overlap_s: float = Field(
        default=24 * 3600,
        description="After a secret rotation, how long the previous secret still signs too",
    )
    webhook_delivery_retention_days: float = Field(
        default=30.0,
        description="Delivered and failed delivery records older than this are deleted "
        "(pending ones are kept); 0 keeps them forever",
    )
    webhook_retention_interval_s: float = Field(
        default=3600.0, description="How often the retention sweep runs"
    )
    live_queue_size: int = Field(default=1000, description="Per SSE listener, oldest dropped")
    sse_ping_s: float = 15.0
