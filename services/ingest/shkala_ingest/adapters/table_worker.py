"""The reading worker: one process per uploaded file, under a memory limit.

``python -m shkala_ingest.adapters.table_worker PATH LIMITS_JSON MEMORY_BYTES`` reads the file
with :mod:`shkala_ingest.domain.tables` and writes length-prefixed pickled frames to stdout:
``("meta", {...})``, ``("rows", [(row, cells), ...])``…, then ``("end", None)`` or
``("error", {...})``. A file that needs more memory than the limit kills only this process
(calamine aborts on a failed allocation); the service sees it die and rejects the file.
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


def _send(out: Any, frame: tuple[str, Any]) -> None:
    data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(struct.pack(">I", len(data)))
    out.write(data)


def main(argv: list[str]) -> int:
    path, limits_json, memory = argv[1], argv[2], int(argv[3])
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    from shkala_ingest.domain.tables import ReadLimits, TableError, read_stream

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
            batch: list[tuple[int, list[Any]]] = []
            for row in table.rows:
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
