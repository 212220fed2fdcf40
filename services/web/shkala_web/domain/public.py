"""What the public page may show (публичная отчётность): aggregates only, never a small group.

A value computed over fewer than ``min_group`` people (its denominator) is suppressed, and so
is a count below ``min_group``: a small group could be recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shown:
    value: float | None
    suppressed: bool
    numerator: float | None = None
    denominator: float | None = None


def value(v: dict[str, Any] | None, min_group: int, unit: str | None = None) -> Shown:
    """A flag's roll-up counts schools, not people: it is never suppressed."""
    if not v or v.get("value") is None:
        return Shown(None, False)
    if unit != "flag" and float(v.get("denominator") or 0) < min_group:
        return Shown(None, True)
    return Shown(float(v["value"]), False, v.get("numerator"), v.get("denominator"))


def count(n: int | None, min_group: int) -> Shown:
    if n is None:
        return Shown(None, False)
    if 0 < n < min_group:
        return Shown(None, True)
    return Shown(float(n), False)
