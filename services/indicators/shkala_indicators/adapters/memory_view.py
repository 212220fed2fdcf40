"""The read side over the live working set: the same queries the API sends to MongoDB,
answered from the projector's memory.

The indicators service that consumes also serves: its working set is exactly the state it
last wrote, so the API answers from it instead of waiting behind the projection's writes on
a database that scans a collection per query. Only what the working set holds is served
from memory (org units, values, lists, teacher values, freshness); history (time travel)
still goes to the database. A read-only instance (``consume=False``) reads the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection


def _matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    for field, cond in query.items():
        value = doc.get(field)
        if isinstance(cond, dict):
            for op, arg in cond.items():
                if op == "$in":
                    ok = value in arg
                elif op == "$lte":
                    ok = value is not None and value <= arg
                elif op == "$gte":
                    ok = value is not None and value >= arg
                elif op == "$ne":
                    ok = value != arg
                else:
                    raise ValueError(f"memory view does not support {op}")
                if not ok:
                    return False
        elif value != cond:
            return False
    return True


class MemoryCursor:
    def __init__(self, docs: Iterable[dict[str, Any]]) -> None:
        self._docs = list(docs)

    def sort(self, keys: list[tuple[str, int]]) -> MemoryCursor:
        for field, direction in reversed(keys):
            # None sorts first, as in MongoDB
            self._docs.sort(
                key=lambda d: (d.get(field) is not None, d.get(field)), reverse=direction < 0
            )
        return self

    def limit(self, n: int) -> MemoryCursor:
        self._docs = self._docs[:n]
        return self

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        return self._docs[:length] if length else list(self._docs)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for doc in self._docs:
            yield doc


class MemoryCollection:
    """``find``/``find_one`` over a dict of documents keyed by ``_id``."""

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self._docs = docs

    def find(self, query: dict[str, Any] | None = None, projection: Any = None) -> MemoryCursor:
        query = query or {}
        key = query.get("_id")
        if isinstance(key, str):
            doc = self._docs.get(key)
            return MemoryCursor([doc] if doc is not None and _matches(doc, query) else [])
        return MemoryCursor(d for d in list(self._docs.values()) if _matches(d, query))

    async def find_one(self, query: dict[str, Any] | None = None) -> dict[str, Any] | None:
        found = self.find(query)._docs
        return found[0] if found else None


class MemoryGeneration:
    """Looks like :class:`~shkala_indicators.adapters.store.Generation` to the read model."""

    def __init__(
        self,
        name: str,
        *,
        org: dict[str, dict[str, Any]],
        values: dict[str, dict[str, Any]],
        lists: dict[str, dict[str, Any]],
        teacher_values: dict[str, dict[str, Any]],
        history: AsyncCollection,
        freshness: dict[str, Any],
        cells: Mapping[tuple[str, str], Any],
    ) -> None:
        self.name = name
        self.cells = cells  # (school, period) -> the current facts, for analyses over facts
        self.org = MemoryCollection(org)
        self.values = MemoryCollection(values)
        self.lists = MemoryCollection(lists)
        self.teacher_values = MemoryCollection(teacher_values)
        self.history = history
        self._freshness = freshness

    async def freshness(self) -> dict[str, Any]:
        return {"generation": self.name, **self._freshness}
