"""A fact as the computation reads it: the payload without the ids its cell already names."""

from __future__ import annotations

import sys
from typing import Any

_ID_FIELDS = ("region_id", "municipality_id", "school_id", "academic_year")


def compact(payload: dict[str, Any], event_type: str) -> dict[str, Any]:
    """Short strings interned: a region holds a million facts naming the same few values."""
    row: dict[str, Any] = {"type": sys.intern(event_type)}
    for k, v in payload.items():
        if k in _ID_FIELDS:
            continue
        row[sys.intern(k)] = sys.intern(v) if isinstance(v, str) and len(v) <= 64 else v
    return row
