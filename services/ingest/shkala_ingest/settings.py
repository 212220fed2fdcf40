"""Settings of the ingest service (environment variables, prefix ``SHKALA_``)."""

from __future__ import annotations

import socket

from pydantic import Field, SecretStr

from shkala_ingest.domain.tables import ReadLimits
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
    instance_id: str = Field(
        default_factory=socket.gethostname,
        description="Names this instance's Kafka transactional ids; distinct per instance, "
        "the same after a restart (the restarted instance aborts what the dead one left open)",
    )
    transaction_slots: int = Field(
        default=2, description="Imports publishing at once (one Kafka transaction each)"
    )
    max_reported_errors: int = Field(default=100, description="Row errors listed in a 422")

    # hostile files: every limit is checked before a file's rows are read
    spool_dir: str | None = Field(
        default=None, description="Where uploads are spooled while they import (temp dir)"
    )
    reader_memory_bytes: int = Field(
        default=2 * 1024**3,
        description="Address-space limit of the process reading one file (0: none); a file "
        "needing more is rejected, the service carries on",
    )
    max_rows: int = Field(default=1_100_000, description="Most data rows in one file")
    max_columns: int = Field(default=512, description="Most columns of a sheet")
    max_cells: int = Field(default=40_000_000, description="Most cells (rows × columns) of a sheet")
    max_cell_chars: int = Field(default=32_767, description="Longest cell, in characters")
    max_unpacked_bytes: int = Field(
        default=1024**3, description="Largest unpacked size of an XLSX/ODS (zip) workbook"
    )

    def read_limits(self) -> ReadLimits:
        return ReadLimits(
            max_rows=self.max_rows,
            max_columns=self.max_columns,
            max_cells=self.max_cells,
            max_cell_chars=self.max_cell_chars,
            max_unpacked_bytes=self.max_unpacked_bytes,
        )
