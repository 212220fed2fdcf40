"""The ingest domain's refusals as RFC 9457 problems: mapped once, here, at the HTTP edge."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shkala_ingest.domain.errors import (
    IdempotencyKeyReused,
    ImportRejected,
    IngestError,
    NotAllowed,
    UnknownFormat,
    UnknownImport,
)
from shkala_runtime.problems import Problem, problem_response


def status_of(error: IngestError) -> int:
    if isinstance(error, UnknownFormat | UnknownImport):
        return 404
    if isinstance(error, NotAllowed):
        return 403
    if isinstance(error, ImportRejected) and error.forbidden:
        return 403
    if isinstance(error, ImportRejected) and error.code == "period-locked":
        return 409
    if isinstance(error, ImportRejected) and error.code == "period-state-unknown":
        return 503
    if isinstance(error, IdempotencyKeyReused | ImportRejected):
        return 422
    return 422


def problem_of(error: IngestError) -> Problem:
    return Problem(status_of(error), error.title, error.detail, type=error.code, **error.extensions)


def describe(error: IngestError, instance: str | None = None) -> tuple[int, dict[str, Any]]:
    """What an import's record keeps of its rejection: the status and the problem body."""
    problem = problem_of(error)
    return problem.status, problem.body(instance)


def install_error_mapping(app: FastAPI) -> None:
    async def refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, IngestError)
        return problem_response(problem_of(exc), request)

    app.add_exception_handler(IngestError, refused)
