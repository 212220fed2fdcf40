"""What can go wrong with an import, in the domain's words; the HTTP edge maps each to an
RFC 9457 problem (``entrypoints/errors.py``), the service layer never speaks HTTP."""

from __future__ import annotations

from typing import Any, ClassVar


class IngestError(Exception):
    """Base of the ingest domain's refusals; ``code`` names the problem type."""

    code = "ingest-error"
    title = "Import refused"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class UnknownFormat(IngestError):
    code, title = "unknown-format", "Unknown format"


class UnknownImport(IngestError):
    code, title = "unknown-import", "Unknown import"


class NotAllowed(IngestError):
    """The caller's role may not load this format at all (a school and the registry)."""

    code, title = "forbidden", "Forbidden"


class IdempotencyKeyReused(IngestError):
    code, title = "idempotency-key-reused", "Idempotency-Key reused"


class ImportRejected(IngestError):
    """The upload is refused whole; nothing of it is published.

    ``reason``: ``invalid-rows`` (rows break the format), ``forbidden-rows`` (rows outside
    the caller's tenant), ``upload-layout`` (the header row lacks columns),
    ``unreadable-file`` (not a table, or past a limit), ``empty-file`` (no data rows),
    ``period-locked`` (a monitoring period the rows change is locked), ``period-state-unknown``
    (whether it is locked could not be learnt).
    """

    TITLES: ClassVar[dict[str, str]] = {
        "invalid-rows": "Upload has invalid rows",
        "forbidden-rows": "Rows outside your tenant",
        "upload-layout": "Columns do not fit the format",
        "unreadable-file": "Unreadable file",
        "empty-file": "Empty file",
        "period-locked": "Monitoring period locked",
        "period-state-unknown": "Monitoring period state unknown",
    }

    def __init__(self, reason: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.code = reason
        self.title = self.TITLES.get(reason, "Upload rejected")

    @property
    def forbidden(self) -> bool:
        return self.code == "forbidden-rows"
