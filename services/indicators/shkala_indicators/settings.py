"""Settings of the indicators service (environment variables, prefix ``SHKALA_``)."""

from __future__ import annotations

from pydantic import Field

from shkala_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "indicators"
    http_port: int = 8002
    indicators_catalogue_file: str | None = Field(
        default=None, description="Catalogue YAML; default: the one shipped in the package"
    )
    indicators_override_file: str | None = Field(
        default=None, description="Region override YAML (thresholds, weights, list rules)"
    )
    indicators_batch_size: int = Field(
        default=20000,
        description="Max records per consumed batch: a batch costs about the same whatever "
        "its size (the cells it touches are written once), so a lagging projection catches "
        "up in large batches",
    )

    @property
    def projection_group(self) -> str:
        # "-partitioned": the members keep state per partition and need the range assignor;
        # a group of the earlier projection (round-robin) cannot be joined with it
        # the topic prefix is part of it: two deployments on one broker never share a group
        return self.consumer_group(f"{self.kafka_client_prefix}-{self.service_name}-partitioned")
