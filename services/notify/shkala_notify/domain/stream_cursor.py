"""Where a live-stream client stands (позиция в потоке): the SSE ``id`` of every event.

An id names, for every partition of the streamed topics, the next offset the client has not
seen yet. A reconnecting dashboard sends it back as ``Last-Event-ID`` and any instance can
replay from there: the position is Kafka's, not an instance's memory, so nothing is missed
and nothing is sent twice. Format: ``c1.<layout>.<offset>.<offset>…``, offsets in base 36 in
the layout's order; ``<layout>`` is a checksum of the topic/partition list, so an id of
another deployment (other prefix or partitions) is recognised as foreign, not misread.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

Partition = tuple[str, int]
VERSION = "c1"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def layout_key(layout: Sequence[Partition]) -> str:
    text = ",".join(f"{t}:{p}" for t, p in layout)
    return _base36(zlib.crc32(text.encode()))


def encode(layout: Sequence[Partition], positions: Mapping[Partition, int]) -> str:
    offsets = ".".join(_base36(max(positions.get(tp, 0), 0)) for tp in layout)
    return f"{VERSION}.{layout_key(layout)}.{offsets}"


def decode(layout: Sequence[Partition], text: str) -> dict[Partition, int] | None:
    """The positions an id names, or None if it is not an id of this stream's layout."""
    parts = text.strip().split(".")
    if len(parts) != len(layout) + 2 or parts[0] != VERSION or parts[1] != layout_key(layout):
        return None
    try:
        offsets = [max(int(p, 36), 0) for p in parts[2:]]
    except ValueError:
        return None
    return dict(zip(layout, offsets, strict=True))
