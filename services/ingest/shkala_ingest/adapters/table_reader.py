"""Reading an uploaded file where a hostile one cannot take the service down: a worker
process per file (``table_worker.py``) under a memory limit, rows streamed back in chunks.

:class:`InProcessTableReader` reads in the calling process: for unit tests and the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import io
import json
import pickle
import struct
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from shkala_ingest.domain.columns import FastChunk
from shkala_ingest.domain.tables import HEADER_SCAN_ROWS, ReadLimits, TableError, read_stream

Rows = list[tuple[int, list[Any]]]


@dataclass(frozen=True)
class BuildPlan:
    """How the rows below the header are to come: built by columns for format ``kind``,
    the header being ``head[at]``, personal ids pseudonymised with ``key``."""

    kind: str
    at: int
    key: bytes


@dataclass
class OpenTable:
    """A table being read: what is known before the rows, the first rows (``head``, where
    the header is looked for), then the rest through :meth:`rest`: raw rows, or, given a
    :class:`BuildPlan`, :class:`FastChunk` s built by columns."""

    file_kind: str
    encoding: str | None
    delimiter: str | None
    expected_rows: int
    head: Rows
    _rest: Any = None

    def rest(self, plan: BuildPlan | None) -> AsyncIterator[Rows | FastChunk]:
        return self._rest(plan)

    @property
    def chunks(self) -> AsyncIterator[Rows]:
        """Every row as read, head included."""

        async def every() -> AsyncIterator[Rows]:
            yield self.head
            async for chunk in self.rest(None):
                yield chunk  # type: ignore[misc]

        return every()


class _Frames(pickle.Unpickler):
    """Only plain values come back from the worker: it read a hostile file."""

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("datetime", "datetime"),
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return getattr(dt, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")


def _load(data: bytes) -> Any:  # a (kind, body) frame
    return _Frames(io.BytesIO(data)).load()


class WorkerTableReader:
    """One worker process per file; its memory limit bounds what a file can cost."""

    def __init__(self, limits: ReadLimits, memory_bytes: int) -> None:
        self.limits = limits
        self.memory_bytes = memory_bytes

    @asynccontextmanager
    async def open(self, path: Path) -> AsyncIterator[OpenTable]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "shkala_ingest.adapters.table_worker",
            str(path),
            json.dumps(dataclasses.asdict(self.limits)),
            str(self.memory_bytes),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            limit=1 << 20,
        )
        assert proc.stdout is not None
        assert proc.stdin is not None
        stdout, stdin = proc.stdout, proc.stdin

        async def frame() -> tuple[str, Any]:
            try:
                size = struct.unpack(">I", await stdout.readexactly(4))[0]
                return _load(await stdout.readexactly(size))
            except Exception:  # a torn frame, a foreign object, the pipe closed
                code = await proc.wait()
                raise self._died(code) from None

        def failed(body: dict[str, Any]) -> TableError:
            if body["reason"] == "memory":
                return self._died(None)
            return TableError(body["reason"], row=body.get("row"), column=body.get("column"))

        try:
            kind, body = await frame()
            if kind == "error":
                raise failed(body)
            if kind != "meta":
                raise TableError("the file could not be read")

            meta = body
            kind, body = await frame()
            if kind != "rows":
                raise failed(body) if kind == "error" else TableError("the file could not be read")
            head: Rows = body

            async def rest(plan: BuildPlan | None) -> AsyncIterator[Rows | FastChunk]:
                order = (
                    {"mode": "raw"}
                    if plan is None
                    else {"mode": "build", "kind": plan.kind, "at": plan.at, "key": plan.key.hex()}
                )
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    stdin.write(json.dumps(order).encode() + b"\n")
                    await stdin.drain()
                    stdin.close()
                while True:
                    k, b = await frame()
                    if k == "rows":
                        yield b
                    elif k == "built":
                        yield FastChunk.from_frame(b)
                    elif k == "end":
                        return
                    else:
                        raise failed(b)

            yield OpenTable(
                meta["file_kind"],
                meta["encoding"],
                meta["delimiter"],
                meta["expected_rows"],
                head,
                rest,
            )
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await proc.wait()

    def _died(self, code: int | None) -> TableError:
        mib = self.memory_bytes // (1 << 20)
        return TableError(
            f"the file needs more than the reader's {mib} MiB of memory to read "
            f"(exit {code}); it is too large, or a workbook claiming far more cells than it has"
        )


class InProcessTableReader:
    """Reads in this process (unit tests, the CLI): no memory fence beyond the limits."""

    def __init__(self, limits: ReadLimits, chunk_rows: int = 2000) -> None:
        self.limits = limits
        self.chunk_rows = chunk_rows

    @asynccontextmanager
    async def open(self, path: Path) -> AsyncIterator[OpenTable]:
        with open(path, "rb") as f:  # noqa: ASYNC230 - tests and the CLI only
            table = read_stream(f, self.limits)
            rows = iter(table.rows)
            head = [r for _, r in zip(range(HEADER_SCAN_ROWS), rows, strict=False)]

            async def rest(plan: BuildPlan | None) -> AsyncIterator[Rows | FastChunk]:
                if plan is not None:
                    from shkala_ingest.domain.fast_rows import built_chunks

                    for chunk in built_chunks(
                        plan.kind, plan.key, head, plan.at, rows, self.chunk_rows
                    ):
                        yield chunk
                        await asyncio.sleep(0)
                    return
                batch: Rows = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= self.chunk_rows:
                        yield batch
                        batch = []
                        await asyncio.sleep(0)
                if batch:
                    yield batch

            yield OpenTable(
                table.file_kind, table.encoding, table.delimiter, table.expected_rows, head, rest
            )
