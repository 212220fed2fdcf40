"""Settings every service shares, read from the environment (prefix ``SHKALA_``).

Each service subclasses :class:`ServiceSettings` for its own knobs. Defaults fit
``make up`` on one machine; production sets them in the environment (see README).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHKALA_", env_file=None, extra="ignore")

    service_name: str = Field(
        default="shkala", description="Name in traces, logs, CloudEvents source"
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_max_json_bytes: int = Field(
        default=64 * 1024 * 1024,
        description="Largest JSON request body (413 above it); uploads have their own limits",
    )

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_client_prefix: str = "shkala"
    kafka_topic_prefix: str = Field(
        default="", description="Prepended to every catalogue topic name (test isolation)"
    )
    kafka_topic_partitions: int | None = Field(
        default=None, description="Override the catalogue's partition count (tests, small setups)"
    )
    kafka_replication_factor: int = 1
    kafka_linger_ms: int = 5
    kafka_max_batch_bytes: int = 1_048_576

    mongo_url: str = "mongodb://127.0.0.1:27017/"
    mongo_database: str = "shkala"
    mongo_timeout_ms: int = 5000

    region_id: str = Field(default="demo", description="The region this deployment serves")
    jwt_secret: SecretStr = Field(
        default=SecretStr("dev-only-secret-change-me-0123456789abcdef"),
        description="HS256 key for bearer tokens; the default is for local development only",
    )
    jwt_issuer: str = "shkala-dev"
    jwt_audience: str = "shkala"

    log_level: str = "INFO"
    log_json: bool = True

    def topic_name(self, base: str) -> str:
        """The real name of a catalogue topic in this deployment."""
        return self.kafka_topic_prefix + base

    def consumer_group(self, name: str) -> str:
        """The real name of a consumer group of this deployment: the topic prefix is part of
        it, so two deployments on one broker (each with its own prefix) never share a group
        and never take each other's partitions or offsets."""
        return self.kafka_topic_prefix + name

    @property
    def source(self) -> str:
        """CloudEvents ``source`` of everything this service produces."""
        return f"/shkala/{self.service_name}"
