"""The import use case: read → validate every row → (only if all are valid) publish.

An import runs as a background task; the request that started it waits for it up to
``sync_wait_seconds`` (or not at all with ``Prefer: respond-async``) and otherwise answers 202
with the import id; ``GET /imports/{id}`` shows status and progress. Nothing is published
before every row validated, and the answer says ``completed`` only after Kafka acknowledged
every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import Counter

from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_contracts.formats import FORMATS, UploadFormat, names_no_school
from shkala_ingest.adapters import period_locks
from shkala_ingest.adapters.store import IdempotencyConflict, IngestStore
from shkala_ingest.adapters.table_reader import BuildPlan, OpenTable
from shkala_ingest.domain.columns import FastChunk, supports
from shkala_ingest.domain.errors import (
    IdempotencyKeyReused,
    ImportRejected,
    IngestError,
    NotAllowed,
    UnknownFormat,
    UnknownImport,
)
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.domain.rows import (
    Built,
    RowBuilder,
    RowError,
    find_header,
)
from shkala_ingest.domain.tables import TableError, blank
from shkala_ingest.service_layer.publication import Publication
from shkala_ingest.service_layer.registry_checks import registry_rules
from shkala_ingest.service_layer.validation import Accepted, Validation
from shkala_ingest.settings import Settings
from shkala_runtime.auth import Principal, Role
from shkala_runtime.tracing import tenant_attributes, tracer
from shkala_runtime.transactions import Transaction, TransactionalPublisher

log = logging.getLogger(__name__)
IMPORTS = Counter(
    "shkala_imports_total", "Imports finished, by kind and outcome", ["kind", "outcome"]
)
IMPORT_ROWS = Counter("shkala_import_rows_total", "Rows of imports by stage", ["kind", "stage"])

YIELD_EVERY = 500
FLUSH_SECONDS = 0.25
CHUNK_ROWS = 2000
COLUMNAR_READER_BYTES = 768 << 20
"""Below this address-space limit the reading worker cannot load polars: rows per row."""


@dataclass
class FileSource:
    """An upload spooled to a file (the reading worker opens it by path)."""

    path: Path
    size: int
    digest: str
    """sha256 of the bytes, hex"""
    filename: str | None = None


@dataclass
class BatchSource:
    rows: list[dict[str, Any]]


Source = FileSource | BatchSource


class TableReader(Protocol):
    def open(self, path: Path) -> AbstractAsyncContextManager[OpenTable]: ...


Describe = Callable[[IngestError, str | None], tuple[int, dict[str, Any]]]


def plain_description(error: IngestError, instance: str | None) -> tuple[int, dict[str, Any]]:
    """Used when no edge supplies its own: a neutral record of the refusal."""
    body = {"type": error.code, "title": error.title, "detail": error.detail}
    return 422, body | ({"instance": instance} if instance else {}) | error.extensions


@dataclass
class Run:
    """One import's live state; mirrored to the ``imports`` collection."""

    id: str
    kind: str
    dry_run: bool
    source: str
    owner: dict[str, Any]
    instance: str = ""
    status: str = "processing"
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None
    file: dict[str, Any] = field(default_factory=dict)
    rows_expected: int = 0
    rows_read: int = 0
    rows_validated: int = 0
    rows_published: int = 0
    rows_unchanged: int = 0
    duplicates_skipped: int = 0
    corrections: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problem: dict[str, Any] | None = None
    log_positions: dict[str, dict[str, int]] = field(default_factory=dict)
    http_status: int = 202
    last_flush: float = 0.0
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the file's header fits the format (or the import ended): a rejection known
    by then is the answer even to `Prefer: respond-async`."""

    def answer(self) -> dict[str, Any]:
        return {
            "import_id": self.id,
            "kind": self.kind,
            "status": self.status,
            "dry_run": self.dry_run,
            "source": self.source,
            "file": self.file or None,
            "progress": {
                "rows_expected": max(self.rows_expected, self.rows_read),
                "rows_read": self.rows_read,
                "rows_validated": self.rows_validated,
                "rows_published": self.rows_published,
                "rows_unchanged": self.rows_unchanged,
            },
            "counts": dict(self.counts),
            "log_positions": self.log_positions,
            "corrections": self.corrections,
            "duplicates_skipped": self.duplicates_skipped,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "problem": self.problem,
        }

    def document(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "instance": self.instance,
            "owner": self.owner,
            "http_status": self.http_status,
            "status": self.status,
            # JSON text: event types contain dots, which FerretDB refuses in keys
            "answer": json.dumps(self.answer(), ensure_ascii=False),
        }


def content_hash(kind: str, source: Source) -> str:
    h = hashlib.sha256(kind.encode() + b"\x00")
    if isinstance(source, FileSource):
        h.update(b"file\x00" + source.digest.encode())
    else:
        h.update(b"batch\x00" + json.dumps(source.rows, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _discard(source: Source) -> None:
    if isinstance(source, FileSource):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(source.path)


def owner_of(principal: Principal) -> dict[str, Any]:
    return {
        "role": principal.role.value,
        "region": principal.region,
        "municipality": principal.municipality,
        "school": principal.school,
    }


def owner_scope(principal: Principal) -> str:
    return "/".join(
        (
            principal.role.value,
            principal.region,
            principal.municipality or "",
            principal.school or "",
        )
    )


class Ingestor:
    def __init__(
        self,
        settings: Settings,
        store: IngestStore,
        publisher: TransactionalPublisher,
        pseudonymiser: Pseudonymiser,
        reader: TableReader,
        describe: Describe = plain_description,
    ) -> None:
        self.reader = reader
        self.describe = describe
        self.settings = settings
        self.store = store
        self.publisher = publisher
        self.pseudonymiser = pseudonymiser
        self.runs: dict[str, Run] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    # --- entry ----------------------------------------------------------------------

    async def submit(
        self,
        *,
        kind: str,
        principal: Principal,
        source: Source,
        idempotency_key: str | None,
        dry_run: bool,
        respond_async: bool,
    ) -> tuple[int, dict[str, Any], bool]:
        """Start (or replay) an import: ``(http_status, body, replayed)``."""
        fmt = self.format(kind)
        if kind == "org-units" and principal.role is Role.SCHOOL:
            raise NotAllowed("the org-unit registry is loaded by the region or a municipality")
        if names_no_school(fmt) and principal.role is Role.SCHOOL:
            raise NotAllowed(f"{kind!r} is reference data: loaded by the region or a municipality")
        import_id = uuid.uuid4().hex
        chash = content_hash(kind, source)
        if not dry_run:
            scope = f"{kind}|{owner_scope(principal)}"
            keys = [f"hash|{scope}|{chash}"]
            if idempotency_key:
                keys.insert(0, f"key|{scope}|{idempotency_key}")
            try:
                earlier = await self.store.claim(keys, import_id, chash)
            except IdempotencyConflict as exc:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was used for a different upload",
                    import_id=exc.import_id,
                ) from exc
            if earlier is not None:
                _discard(source)
                status, body = await self.status(earlier)
                return status, body, True
        run = Run(
            import_id,
            kind,
            dry_run,
            "file" if isinstance(source, FileSource) else "batch",
            owner_of(principal),
            instance=self.settings.instance_id,
        )
        self.runs[import_id] = run
        await self.store.create_import(run.document())
        task = asyncio.create_task(self._run(run, fmt, principal, source))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if not respond_async:
            await asyncio.wait({task}, timeout=self.settings.sync_wait_seconds)
        else:
            opened = asyncio.ensure_future(run.opened.wait())
            await asyncio.wait(
                {task, opened},
                timeout=self.settings.sync_wait_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            opened.cancel()
        return run.http_status, run.answer(), False

    def format(self, kind: str) -> UploadFormat:
        fmt = FORMATS.get(kind)
        if fmt is None:
            raise UnknownFormat(f"no upload format {kind!r}; known: {', '.join(FORMATS)}")
        return fmt

    async def status(self, import_id: str) -> tuple[int, dict[str, Any]]:
        run = self.runs.get(import_id)
        if run is not None:
            return run.http_status, run.answer()
        doc = await self.store.get_import(import_id)
        if doc is None:
            raise UnknownImport(f"no import {import_id}")
        return int(doc.get("http_status", 202)), json.loads(doc["answer"])

    async def owner(self, import_id: str) -> dict[str, Any] | None:
        run = self.runs.get(import_id)
        if run is not None:
            return run.owner
        doc = await self.store.get_import(import_id)
        return None if doc is None else doc["owner"]

    async def recover(self) -> None:
        """At start: imports this instance was running when it died are marked failed with
        the reason and their idempotency claims released. Their Kafka transactions were
        aborted when the publisher started (same transactional ids), so the same file sent
        again lands once."""
        for doc in await self.store.running_imports(self.settings.instance_id):
            answer = json.loads(doc["answer"])
            problem = {
                "type": "urn:shkala:problem:import-interrupted",
                "title": "Import interrupted",
                "status": 503,
                "detail": "the ingest service stopped during this import; none of its events "
                "were committed (its Kafka transaction was aborted); upload the file again",
                "import_id": doc["_id"],
            }
            answer |= {
                "status": "failed",
                "problem": problem,
                "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            }
            await self.store.release(doc["_id"])
            await self.store.update_import(
                doc["_id"],
                {
                    "status": "failed",
                    "http_status": 503,
                    "answer": json.dumps(answer, ensure_ascii=False),
                },
            )
            IMPORTS.labels(answer.get("kind", "?"), "failed").inc()
            log.warning("import interrupted by a restart", extra={"import_id": doc["_id"]})

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    # --- the run --------------------------------------------------------------------

    async def _run(self, run: Run, fmt: UploadFormat, principal: Principal, source: Source) -> None:
        try:
            await self._run_import(run, fmt, principal, source)
        finally:
            run.opened.set()
            _discard(source)

    async def _run_import(
        self, run: Run, fmt: UploadFormat, principal: Principal, source: Source
    ) -> None:
        try:
            with tracer.start_as_current_span(
                "import file",
                attributes={
                    "shkala.import_kind": fmt.kind,
                    **tenant_attributes(principal.region, principal.municipality, principal.school),
                },
            ):
                await self._import(run, fmt, principal, source)
            IMPORTS.labels(fmt.kind, run.status).inc()
        except ImportRejected as rej:
            IMPORTS.labels(fmt.kind, "rejected").inc()
            run.status = "rejected"
            run.http_status, run.problem = self.describe(rej, f"/imports/{run.id}")
            run.problem["import_id"] = run.id
            await self.store.release(run.id)
        except asyncio.CancelledError:
            run.status = "failed"
            run.http_status = 503
            run.problem = {
                "type": "urn:shkala:problem:import-interrupted",
                "title": "Import interrupted",
                "status": 503,
                "detail": "the service stopped during this import; none of its events were "
                "committed; upload the file again",
            }
            await self.store.release(run.id)
            raise
        except Exception as exc:
            # no message text: it could quote a cell; the type and import id are enough
            log.exception("import failed", extra={"import_id": run.id, "kind": run.kind})
            run.status = "failed"
            run.http_status = 500
            run.problem = {
                "type": "urn:shkala:problem:import-failed",
                "title": "Import failed",
                "status": 500,
                "detail": f"{type(exc).__name__}; none of its events were committed "
                "(the import's Kafka transaction was aborted); upload the file again",
            }
            await self.store.release(run.id)
        finally:
            run.finished_at = dt.datetime.now(dt.UTC)
            try:
                await asyncio.shield(self.store.update_import(run.id, run.document()))
            finally:
                self.runs.pop(run.id, None)
        log.info(
            "import finished",
            extra={
                "import_id": run.id,
                "kind": run.kind,
                "status": run.status,
                "rows": run.rows_read,
                "published": run.rows_published,
                "tenant": owner_scope(principal),
            },
        )

    async def _import(
        self, run: Run, fmt: UploadFormat, principal: Principal, source: Source
    ) -> None:
        """Validate and publish in one stream: each chunk of rows is checked whole, then
        sent inside the import's Kafka transaction while the next is read. The first error
        stops the sending (validation goes on, to list every error) and the transaction is
        aborted: a read_committed consumer sees all of an import or nothing."""
        builder = RowBuilder(fmt, self.pseudonymiser)
        check = Validation(
            fmt,
            principal,
            cap=self.settings.max_reported_errors,
            batch=isinstance(source, BatchSource),
            registry=self.store.schools,
        )
        org_units: list[Accepted] = []
        touched: dict[tuple[str, str], list[Accepted]] = {}  # (school, year): rows, capped
        cap = self.settings.max_reported_errors

        async def chunks() -> AsyncIterator[list[Accepted]]:
            part: list[Accepted] = []
            async for item in self._rows(run, fmt, builder, source):
                if isinstance(item, Built):
                    ok = await check.check(item)
                    oks = [] if ok is None else [ok]
                else:
                    oks = await check.check_chunk(*item)
                for ok in oks:
                    part.append(ok)
                    if check.org_units:
                        org_units.append(ok)  # sent whole at the end, after their parents
                    elif (year := ok.year) and ok.tenant.school:
                        rows = touched.setdefault((ok.tenant.school, str(year)), [])
                        if len(rows) < cap:
                            rows.append(ok)
                run.rows_validated += len(oks)
                if len(part) >= CHUNK_ROWS:
                    run.duplicates_skipped = check.duplicates_skipped
                    yield part
                    part = []
            run.duplicates_skipped = check.duplicates_skipped
            if part:
                yield part

        async def verdict() -> None:
            """Every check that needs the whole file, before anything is committed."""
            nonlocal org_units
            if org_units:
                refused, moves = await registry_rules(
                    self.store, principal, fmt, isinstance(source, BatchSource), org_units,
                    check.parents,
                )  # fmt: skip
                check.fail(refused)
                # a move goes out just before the registration that carries the new municipality
                org_units = check.parent_facts() + [
                    x for a in org_units for x in ((moves[a.oid], a) if a.oid in moves else (a,))
                ]
            check.verdict(run.kind)
            touches = [a for rows in touched.values() for a in rows]
            if (locked := await period_locks.refusal(self, touches)) is not None:
                # a locked monitoring period changes only once reopened
                raise ImportRejected(
                    locked.type.rsplit(":", 1)[-1], locked.detail or locked.title,
                    **locked.extensions,
                )  # fmt: skip

        if run.dry_run:
            async for part in chunks():
                IMPORT_ROWS.labels(fmt.kind, "validated").inc(len(part))
            await self._flush(run, force=True)
            await verdict()
            run.status = "validated"
            return
        pub = Publication(self.store, self.settings.source, self.settings.topic_name)
        held: list[Accepted] = []  # one chunk behind: a one-chunk file is sent after the verdict
        async with self.publisher.transaction() as tx:
            async for part in chunks():
                IMPORT_ROWS.labels(fmt.kind, "validated").inc(len(part))
                if check.total_errors:
                    continue  # nothing more is sent; the transaction will be aborted
                if check.org_units:
                    continue
                if held:
                    await pub.send(tx, held)
                held = part
                self._progress(run, pub, tx)
                await self._flush(run)
            await self._flush(run, force=True)
            await verdict()
            if held:
                await pub.send(tx, held)
            if org_units:
                await pub.send(tx, org_units)
            await tx.flush()
            self._progress(run, pub, tx)
        run.log_positions = tx.positions
        IMPORT_ROWS.labels(fmt.kind, "published").inc(pub.published)
        await pub.record()
        if org_units:
            await self._register(org_units)
        run.status = "completed"
        await self._flush(run, force=True)

    @staticmethod
    def _progress(run: Run, pub: Publication, tx: Transaction) -> None:
        run.rows_published = tx.acked
        run.rows_unchanged = pub.unchanged
        run.corrections = pub.corrections
        run.counts = dict(pub.counts)

    async def _flush(self, run: Run, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - run.last_flush >= FLUSH_SECONDS:
            run.last_flush = now
            await self.store.update_import(
                run.id, {"answer": json.dumps(run.answer(), ensure_ascii=False)}
            )

    async def _rows(
        self, run: Run, fmt: UploadFormat, builder: RowBuilder, source: Source
    ) -> AsyncIterator[Built | tuple[FastChunk, dict[int, Built]]]:
        if isinstance(source, BatchSource):
            run.opened.set()
            run.rows_expected = len(source.rows)
            for i, item in enumerate(source.rows, start=1):
                run.rows_read += 1
                if i % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                    await self._flush(run)
                yield (
                    builder.from_json(i, item)
                    if isinstance(item, dict)
                    else Built(
                        i, None, errors=[RowError(i, None, None, "a row must be a JSON object")]
                    )
                )
            return
        try:
            async with self.reader.open(source.path) as table:
                async for row in self._table_rows(run, fmt, builder, source, table):
                    yield row
        except TableError as exc:
            where = f" (row {exc.row})" if exc.row else ""
            raise ImportRejected(
                "unreadable-file",
                f"{exc.reason}{where}; nothing was published",
                errors=[
                    {
                        "row": exc.row,
                        "column": exc.column,
                        "value": None,
                        "reason": exc.reason,
                        "code": "unreadable",
                    }
                ],
                total_errors=1,
            ) from None

    async def _table_rows(
        self, run: Run, fmt: UploadFormat, builder: RowBuilder, source: FileSource, table: OpenTable
    ) -> AsyncIterator[Built | tuple[FastChunk, dict[int, Built]]]:
        run.file = {
            "name": source.filename,
            "format": table.file_kind,
            "encoding": table.encoding,
            "delimiter": table.delimiter,
            "bytes": source.size,
        }
        run.rows_expected = table.expected_rows
        head = table.head
        at, layout = find_header(fmt, head)
        header_row = head[at][0]
        run.file["header_row"] = header_row
        run.file["ignored_columns"] = layout.ignored
        run.file["task_columns"] = [t.header for t in layout.tasks]
        run.rows_expected = max(table.expected_rows - (header_row - 1), 0)
        # rows of the formats that allow it come built by columns in the reading process
        memory = self.settings.reader_memory_bytes
        columnar = supports(fmt) and (memory <= 0 or memory >= COLUMNAR_READER_BYTES)
        plan = BuildPlan(fmt.kind, at, self.pseudonymiser.key) if columnar else None

        async def raw() -> AsyncIterator[Any]:
            if plan is None:
                yield head[at + 1 :]
            async for chunk in table.rest(plan):
                yield chunk

        n = 0
        async for chunk in raw():
            if isinstance(chunk, FastChunk):
                run.rows_read += len(chunk.rows)
                if chunk.rows:
                    run.opened.set()
                slow = {
                    p: builder.from_cells(chunk.rows[p], cells, layout)
                    for p, cells in chunk.slow.items()
                }
                yield chunk, slow
                await asyncio.sleep(0)
                await self._flush(run)
                continue
            for row, cells in chunk:
                n += 1
                if n % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                    await self._flush(run)
                if blank(cells):
                    continue
                run.rows_read += 1
                run.opened.set()
                yield builder.from_cells(row, cells, layout)
        if run.rows_read == 0:
            raise ImportRejected(
                "empty-file",
                f"the file has a header row ({header_row}) but no data rows; nothing was published",
                errors=[
                    {
                        "row": header_row,
                        "column": None,
                        "value": None,
                        "reason": "no data rows below the header",
                        "code": "empty",
                    }
                ],
                total_errors=1,
            )

    async def _register(self, accepted: list[Accepted]) -> None:
        units = []
        for a in accepted:
            f = a.fact
            if isinstance(f, RegionRegistered):
                units.append(
                    {"_id": f"region:{f.region_id}", "unit": "region", **f.model_dump(mode="json")}
                )
            elif isinstance(f, MunicipalityRegistered):
                units.append(
                    {
                        "_id": f"municipality:{f.municipality_id}",
                        "unit": "municipality",
                        **f.model_dump(mode="json"),
                    }
                )
            elif isinstance(f, SchoolRegistered):
                units.append(
                    {"_id": f"school:{f.school_id}", "unit": "school", **f.model_dump(mode="json")}
                )
        await self.store.register(units)
