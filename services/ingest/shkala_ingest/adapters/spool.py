"""Uploads land in a file, not in memory: the reading worker opens it by path, and the
service's memory stays flat in the file's size. The content digest is taken on the way."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"upload above {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class Spooled:
    path: Path
    size: int
    digest: str
    """sha256 of the bytes, hex."""

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


async def spool(chunks: AsyncIterator[bytes], limit: int, directory: str | None) -> Spooled:
    """Write the upload to a private temp file; raises :class:`TooLarge` past ``limit``."""
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".bin", dir=directory)
    h = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(limit)
                h.update(chunk)
                f.write(chunk)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    return Spooled(Path(name), size, h.hexdigest())


def spool_bytes(data: bytes, directory: str | None = None) -> Spooled:
    """The same for bytes already in hand (the CLI, tests)."""
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".bin", dir=directory)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return Spooled(Path(name), len(data), hashlib.sha256(data).hexdigest())
