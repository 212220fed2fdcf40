"""Settings of the ingest service (environment variables, prefix ``SHKALA_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shkala_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "ingest"
    http_port: int = 8001

    pseudonym_key: SecretStr = Field(
        default=SecretStr("dev-only-pseudonym-key-change-me-0123456789"),
        description="HMAC-SHA256 key turning student/teacher source ids into pseudonyms. "
        "Changing it breaks the link between old and new pseudonyms; keep it secret.",
    )
    max_upload_bytes: int = Field(
        default=256 * 1024 * 1024, description="Largest accepted file (413 above it)"
    )
    max_batch_rows: int = Field(default=100_000, description="Largest JSON batch (413 above it)")
    sync_wait_seconds: float = Field(
        default=20.0,
        description="How long an upload waits for its import to finish before answering 202 "
        "with the import still running (poll GET /imports/{id}); `Prefer: respond-async` "
        "answers at once",
    )
    publish_chunk_rows: int = Field(default=5000, description="Events per publish chunk")
    max_reported_errors: int = Field(default=100, description="Row errors listed in a 422")
