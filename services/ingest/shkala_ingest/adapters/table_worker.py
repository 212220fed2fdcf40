"""The reading worker: one process per uploaded file, under a memory limit.

``python -m shkala_ingest.adapters.table_worker PATH LIMITS_JSON MEMORY_BYTES`` reads the file
with :mod:`shkala_ingest.domain.tables` and writes length-prefixed pickled frames to stdout:
``("meta", {...})``, ``("rows", head)`` (the first rows, where the header is looked for), then
it reads one JSON line from stdin, the service's plan: ``{"mode": "raw"}`` — more
``("rows", [(row, cells), ...])`` frames — or ``{"mode": "build", "kind", "at", "key"}`` —
the header is ``head[at]`` and the data rows come built by columns
(:mod:`shkala_ingest.domain.fast_rows`) as ``("built", {...})`` frames; then ``("end", None)``
or ``("error", {...})``. The pseudonym key travels on stdin, never on the command line.
A file that needs more memory than the limit kills only this process (calamine aborts on
a failed allocation); the service sees it die and rejects the file.
The pipe is the back-pressure: the worker blocks while the service is behind.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import struct
import sys
from typing import Any

CHUNK_ROWS = 2000
BUILD_ROWS = 8192


def _send(out: Any, frame: tuple[str, Any]) -> None:
    data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(struct.pack(">I", len(data)))
    out.write(data)


def _build(out: Any, plan: dict[str, Any], head: list[Any], rows: Any) -> None:
    """Data rows below ``head[at]`` built by columns, a chunk at a time."""
    from shkala_ingest.domain.fast_rows import built_chunks

    for chunk in built_chunks(plan["kind"], bytes.fromhex(plan["key"]), head, plan["at"], rows,
                              BUILD_ROWS):  # fmt: skip
        _send(out, ("built", chunk.as_frame()))


def main(argv: list[str]) -> int:
    path, limits_json, memory = argv[1], argv[2], int(argv[3])
    # one thread: the other core serves the service and the broker
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    from shkala_ingest.domain.tables import HEADER_SCAN_ROWS, ReadLimits, TableError, read_stream

    out = sys.stdout.buffer
    limits = ReadLimits(**json.loads(limits_json))
    try:
        with open(path, "rb") as f:
            table = read_stream(f, limits)
            _send(
                out,
                (
                    "meta",
                    {
                        "file_kind": table.file_kind,
                        "encoding": table.encoding,
                        "delimiter": table.delimiter,
                        "expected_rows": table.expected_rows,
                    },
                ),
            )
            rows = iter(table.rows)
            head = [r for _, r in zip(range(HEADER_SCAN_ROWS), rows, strict=False)]
            _send(out, ("rows", head))
            out.flush()
            plan = json.loads(sys.stdin.readline() or '{"mode": "raw"}')
            if plan.get("mode") == "build":
                _build(out, plan, head, rows)
            else:
                batch: list[tuple[int, list[Any]]] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= CHUNK_ROWS:
                        _send(out, ("rows", batch))
                        batch = []
                if batch:
                    _send(out, ("rows", batch))
    except TableError as exc:
        _send(out, ("error", {"reason": exc.reason, "row": exc.row, "column": exc.column}))
    except MemoryError:
        _send(out, ("error", {"reason": "memory", "row": None, "column": None}))
    else:
        _send(out, ("end", None))
    out.flush()
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv)
    except BrokenPipeError:  # the service stopped listening (the import was cancelled)
        code = 0
    sys.stdout.flush()
    os._exit(code)
