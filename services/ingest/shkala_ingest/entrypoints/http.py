"""HTTP routes of the ingest service: translate requests and delegate to the service layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from shkala_contracts import Tenant
from shkala_contracts.formats import FORMATS, PERSONAL_IDS, UploadFormat
from shkala_ingest.adapters import period_locks
from shkala_ingest.adapters.spool import TooLarge, spool
from shkala_ingest.domain import templates
from shkala_ingest.service_layer.imports import BatchSource, FileSource, Ingestor
from shkala_ingest.service_layer.withdrawals import withdraw
from shkala_runtime.auth import CurrentPrincipal, Principal
from shkala_runtime.problems import PROBLEM_JSON, Problem

router = APIRouter()

KINDS = list(FORMATS)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Progress(BaseModel):
    rows_expected: int = Field(description="Estimate known before reading (lines or sheet rows)")
    rows_read: int
    rows_validated: int
    rows_published: int = Field(description="Events Kafka acknowledged")
    rows_unchanged: int = Field(description="Rows already published with identical content")


class ImportAnswer(BaseModel):
    import_id: str
    kind: str
    status: str = Field(
        description="processing | validated (dry run) | completed | rejected | failed"
    )
    dry_run: bool
    source: str = Field(description="file | batch")
    file: dict[str, Any] | None = Field(
        default=None, description="format, encoding, delimiter, header row, ignored columns"
    )
    progress: Progress
    counts: dict[str, int] = Field(description="Events published per event type")
    corrections: int = Field(description="Events published as corrections (originator_version > 1)")
    duplicates_skipped: int = Field(description="Identical repeated rows inside this upload")
    created_at: str
    finished_at: str | None
    problem: dict[str, Any] | None = Field(default=None, description="RFC 9457, when rejected")


EXAMPLE_ANSWER = {
    "import_id": "6f1c0e2a9b0d4d5e8f7a6b5c4d3e2f10",
    "kind": "vpr",
    "status": "completed",
    "dry_run": False,
    "source": "file",
    "file": {"name": "vpr.csv", "format": "csv", "encoding": "cp1251", "delimiter": ";"},
    "progress": {
        "rows_expected": 2,
        "rows_read": 2,
        "rows_validated": 2,
        "rows_published": 2,
        "rows_unchanged": 0,
    },
    "counts": {"ru.shkala.fact.assessment_result.v1": 2},
    "corrections": 0,
    "duplicates_skipped": 0,
    "created_at": "2026-04-20T10:00:00+00:00",
    "finished_at": "2026-04-20T10:00:01+00:00",
    "problem": None,
}
EXAMPLE_PROBLEM = {
    "type": "urn:shkala:problem:invalid-rows",
    "title": "Upload has invalid rows",
    "status": 422,
    "detail": "1 error(s) in 'vpr'; nothing was published",
    "import_id": "6f1c0e2a9b0d4d5e8f7a6b5c4d3e2f10",
    "errors": [
        {
            "row": 7,
            "column": "Отметка",
            "value": "6",
            "reason": "Input should be less than or equal to 5",
            "code": "invalid",
        }
    ],
    "total_errors": 1,
}
ANSWERS: dict[int | str, dict[str, Any]] = {
    202: {
        "model": ImportAnswer,
        "description": "Accepted: completed (every event acknowledged by Kafka), validated "
        "(dry run) or still processing (poll `Location`)",
        "content": {"application/json": {"example": EXAMPLE_ANSWER}},
    },
    401: {"description": "No or bad bearer token"},
    403: {"description": "Rows (or the whole upload) outside the caller's tenant"},
    404: {"description": "Unknown format"},
    413: {"description": "Upload larger than the configured limit"},
    422: {
        "description": "Rejected whole: every row error (row, column, value, reason), capped",
        "content": {PROBLEM_JSON: {"example": EXAMPLE_PROBLEM}},
    },
}


def _ingestor(request: Request) -> Ingestor:
    return request.app.state.ingestor


def _respond(status: int, body: dict[str, Any], replayed: bool) -> JSONResponse:
    headers = {"Location": f"/imports/{body['import_id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if status >= 400 and body.get("problem"):
        return JSONResponse(
            body["problem"], status_code=status, media_type=PROBLEM_JSON, headers=headers
        )
    return JSONResponse(body, status_code=status, headers=headers)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Upload too large",
        f"the limit is {limit} bytes ({limit // (1024 * 1024)} MiB); split the file",
        type="upload-too-large",
        limit_bytes=limit,
    )


def _respond_async(prefer: str | None) -> bool:
    return bool(prefer) and "respond-async" in prefer.lower()  # type: ignore[union-attr]


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file as `multipart/form-data` field `file`, or the raw bytes "
        "(`text/csv`, XLSX). CSV: UTF-8 or Windows-1251, `;`/`,`/tab, decimal comma, "
        "dd.mm.yyyy dates, да/нет.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": templates.csv_text(
                    FORMATS["vpr"], [templates.sample_row(FORMATS["vpr"])]
                ),
            },
            XLSX_MIME: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/imports/{kind}",
    status_code=202,
    response_model=ImportAnswer,
    responses=ANSWERS,
    openapi_extra=UPLOAD_BODY,
    summary="Upload a CSV or XLSX file of one format",
    tags=["imports"],
)
async def upload(
    kind: str,
    request: Request,
    principal: CurrentPrincipal,
    dry_run: Annotated[bool, Query(description="Validate only; publish nothing")] = False,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    prefer: Annotated[
        str | None, Header(description="`respond-async`: answer at once with the import id")
    ] = None,
) -> Response:
    ingestor = _ingestor(request)
    ingestor.format(kind)
    limit = ingestor.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)
    ctype = request.headers.get("content-type", "")
    filename: str | None = None
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload_file = form.get("file")
        if not isinstance(upload_file, UploadFile):
            raise Problem(422, "No file", "send the file in the form field `file`", type="no-file")
        filename = upload_file.filename

        async def parts() -> AsyncIterator[bytes]:
            while chunk := await upload_file.read(1024 * 1024):
                yield chunk

        chunks: AsyncIterator[bytes] = parts()
    else:
        chunks = request.stream()
    try:
        spooled = await spool(chunks, limit, ingestor.settings.spool_dir)
    except TooLarge:
        raise _too_large(limit) from None
    if not spooled.size:
        spooled.remove()
        raise Problem(422, "Empty upload", "the file is empty", type="no-file")
    try:
        status, body, replayed = await ingestor.submit(
            kind=kind,
            principal=principal,
            source=FileSource(spooled.path, spooled.size, spooled.digest, filename),
            idempotency_key=idempotency_key,
            dry_run=dry_run,
            respond_async=_respond_async(prefer),
        )
    except BaseException:
        spooled.remove()
        raise
    return _respond(status, body, replayed)


class Batch(BaseModel):
    rows: list[dict[str, Any]] = Field(
        min_length=1,
        description="Rows keyed by the format's field names (see GET /formats); raw personal "
        "ids (student_id, teacher_id…) are pseudonymised on arrival",
    )


BATCH_EXAMPLES = {
    kind: {
        "summary": fmt.title,
        "value": {"rows": [templates.sample_json_row(fmt)]},
    }
    for kind, fmt in FORMATS.items()
}


@router.post(
    "/batches/{kind}",
    status_code=202,
    response_model=ImportAnswer,
    responses=ANSWERS,
    summary="Submit rows of one format as JSON",
    tags=["imports"],
)
async def batch(
    kind: str,
    request: Request,
    principal: CurrentPrincipal,
    body: Annotated[Batch, Body(openapi_examples=BATCH_EXAMPLES)],
    dry_run: Annotated[bool, Query(description="Validate only; publish nothing")] = False,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    ingestor = _ingestor(request)
    ingestor.format(kind)
    if len(body.rows) > ingestor.settings.max_batch_rows:
        raise Problem(
            413,
            "Batch too large",
            f"at most {ingestor.settings.max_batch_rows} rows per batch; upload a file instead",
            type="upload-too-large",
        )
    status, answer, replayed = await ingestor.submit(
        kind=kind,
        principal=principal,
        source=BatchSource(body.rows),
        idempotency_key=idempotency_key,
        dry_run=dry_run,
        respond_async=_respond_async(prefer),
    )
    return _respond(status, answer, replayed)


class Withdrawal(BaseModel):
    rows: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=10_000,
        description="One row per fact: `school_id` and the format's natural-key fields "
        "(raw personal ids, e.g. `student_id`, as in batches); see `natural_key` in "
        "GET /formats/{kind}",
    )
    reason: str | None = Field(default=None, max_length=500, description="Why (kept on the log)")


@router.post(
    "/withdrawals/{kind}",
    summary="Withdraw facts submitted by mistake (отзыв данных)",
    description="Publishes a versioned withdrawal event on each named fact's own stream; "
    "projections remove the fact. All rows must name facts on the log inside your tenant, "
    "or nothing is withdrawn (422/403 with every row's error); a row in a locked monitoring "
    "period refuses the request like an upload (409 `period-locked`, 503 when plans cannot "
    "be asked).",
    tags=["imports"],
    responses={
        403: {"description": "A row names a school outside your tenant"},
        404: {"description": "Unknown format"},
        409: {"description": "A row is in a locked monitoring period (`period-locked`)"},
        422: {"description": "A row names no fact on the log, or its key is invalid"},
        503: {"description": "Plans could not be asked whether the periods are locked"},
    },
)
async def withdraw_facts(
    kind: str, request: Request, principal: CurrentPrincipal, body: Withdrawal
) -> Response:
    ingestor = _ingestor(request)
    answer = await withdraw(
        kind=kind,
        principal=principal,
        rows=body.rows,
        reason=body.reason,
        store=ingestor.store,
        publisher=ingestor.publisher,
        pseudonymiser=ingestor.pseudonymiser,
        source=ingestor.settings.source,
        topic_name=ingestor.settings.topic_name,
        cap=ingestor.settings.max_reported_errors,
        periods=lambda rows: period_locks.refusal(ingestor, rows),
    )
    return JSONResponse(answer)


@router.get(
    "/imports/{import_id}",
    response_model=ImportAnswer,
    summary="Status and progress of an import",
    tags=["imports"],
    responses={404: {"description": "Unknown import (or not yours)"}},
)
async def get_import(import_id: str, request: Request, principal: CurrentPrincipal) -> Response:
    ingestor = _ingestor(request)
    owner = await ingestor.owner(import_id)
    if owner is None or not _may_see(principal, owner):
        raise Problem(404, "Unknown import", f"no import {import_id}", type="unknown-import")
    _, body = await ingestor.status(import_id)
    return JSONResponse(body)


def _may_see(principal: Principal, owner: dict[str, Any]) -> bool:
    tenant = Tenant(
        region=owner["region"],
        municipality=owner.get("municipality"),
        school=owner.get("school"),
    )
    return principal.can_access(tenant) or (
        owner["role"] == principal.role.value
        and owner.get("municipality") == principal.municipality
        and owner.get("school") == principal.school
        and owner["region"] == principal.region
    )


# --- formats and templates -------------------------------------------------------------


def describe(fmt: UploadFormat) -> dict[str, Any]:
    return {
        "kind": fmt.kind,
        "title": fmt.title,
        "event_type": fmt.fact.event_type,
        "topic": fmt.fact.topic,
        "natural_key": list(fmt.fact.key_fields),
        "fixed": fmt.fixed,
        "task_columns": "Задание N (макс M)" if fmt.task_columns else None,
        "columns": [
            {
                "header": c.header,
                "field": c.field,
                "required": c.required,
                "example": c.example or None,
                "aliases": list(c.aliases),
                "pseudonymised_to": PERSONAL_IDS.get(c.field),
            }
            for c in fmt.columns
        ],
        "template_csv": f"/formats/{fmt.kind}/template.csv",
        "template_xlsx": f"/formats/{fmt.kind}/template.xlsx",
    }


FORMATS_AUTH = (
    "Needs a bearer token of any role (`Authorization: Bearer …`; "
    "a dev token: `uv run shkala token --role region`)."
)


@router.get(
    "/metrics", include_in_schema=False, response_class=Response
)  # exact path: the runtime's mount answers only below `/metrics/` (a redirect here)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/formats",
    summary="Every upload format with its columns",
    description=FORMATS_AUTH,
    tags=["formats"],
)
async def list_formats(principal: CurrentPrincipal) -> list[dict[str, Any]]:
    return [describe(f) for f in FORMATS.values()]


@router.get(
    "/formats/{kind}", summary="One upload format", description=FORMATS_AUTH, tags=["formats"]
)
async def get_format(kind: str, request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    return describe(_ingestor(request).format(kind))


@router.get(
    "/formats/{kind}/template.csv",
    summary="Blank CSV template (UTF-8 with BOM, `;`)",
    description=FORMATS_AUTH,
    tags=["formats"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def template_csv(kind: str, request: Request, principal: CurrentPrincipal) -> Response:
    fmt = _ingestor(request).format(kind)
    return Response(
        templates.csv_template(fmt),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'},
    )


@router.get(
    "/formats/{kind}/template.xlsx",
    summary="Blank XLSX template",
    description=FORMATS_AUTH,
    tags=["formats"],
    response_class=Response,
    responses={200: {"content": {XLSX_MIME: {}}}},
)
async def template_xlsx(kind: str, request: Request, principal: CurrentPrincipal) -> Response:
    fmt = _ingestor(request).format(kind)
    return Response(
        templates.xlsx_template(fmt),
        media_type=XLSX_MIME,
        headers={"Content-Disposition": f'attachment; filename="{kind}.xlsx"'},
    )
