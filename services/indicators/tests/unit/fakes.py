"""In-memory fakes of the projection's ports (unit tests of the use cases only)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from shkala_indicators.domain.cells import Decision, PartitionState
from shkala_indicators.domain.stats import Rules


class FakeStore:
    """Keeps each commit's pages as they would be stored; loading folds them like the real
    store: the facts of the pages in order, the last page's state."""

    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.commits: list[Decision] = []
        self.fail_next = False

    async def load_partition(self, rules: Rules, part: int) -> PartitionState:
        st = PartitionState(part)
        for d in self.commits:
            for org in d.org:
                if org["partition"] == part:
                    st.org[org["_id"]] = org
            for page in d.pages:
                if page.part != part:
                    continue
                for f in page.facts:
                    st.place(rules, f)
                cs = st.cells[page.cell]
                cs.seq, cs.values = page.seq, dict(page.state["values"])
                cs.lists, cs.teachers = dict(page.state["lists"]), page.state["teachers"]
                cs.municipality = page.state["municipality"]
            if part in d.checkpoints:
                st.positions.update(d.checkpoints[part])
        return st

    async def commit(self, decision: Decision, derived: dict[int, int] | None = None) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("database away")
        stored = Decision(
            org=list(decision.org),
            pages=[copy.copy(p) for p in decision.pages],
            checkpoints={k: dict(v.positions) for k, v in decision.checkpoints.items()},  # type: ignore[misc]
        )
        for p, orig in zip(stored.pages, decision.pages, strict=True):
            p.state = {  # type: ignore[assignment]
                "values": dict(orig.state.values),
                "lists": dict(orig.state.lists),
                "teachers": dict(orig.state.teachers),
                "municipality": orig.state.municipality,
            }
        self.commits.append(stored)

    def pages(self) -> list[Any]:
        return [p for d in self.commits for p in d.pages]


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def publish(self, items: Sequence[Any]) -> list[Any]:
        self.sent.extend(items)
        return []


class _Cursor:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def __aiter__(self) -> Any:
        async def gen() -> Any:
            for d in self.docs:
                yield d

        return gen()


class _Cells:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def find(self, query: dict[str, Any], *_: Any) -> _Cursor:
        return _Cursor([p for p in self.pages if all(p.get(k) == v for k, v in query.items())])


class FakePages:
    """The stored pages of the read side (``adapters.store.Generation``): one page per
    (school, period) and batch, its facts packed as the real store packs them."""

    name = "fake"

    def __init__(self) -> None:
        self.pages: list[dict[str, Any]] = []
        self.cells = _Cells(self.pages)
        self.scans = 0

    def add(self, school: str, year: str, part: int, facts: list[dict[str, Any]]) -> None:
        from shkala_indicators.adapters.store import pack

        seq = 1 + sum(1 for p in self.pages if (p["school_id"], p["year"]) == (school, year))
        self.pages.append(
            {"school_id": school, "year": year, "part": part, "seq": seq, "facts": pack(facts)}
        )

    async def pages_of(
        self, schools: Any, period: str | None, fields: Any = None
    ) -> list[dict[str, Any]]:
        self.scans += 1
        wanted = set(schools)
        return [
            p for p in self.pages
            if p["school_id"] in wanted and (period is None or p["year"] == period)
        ]  # fmt: skip

    async def checkpoints(self) -> list[dict[str, Any]]:
        return []


class FakePointer:
    def __init__(self, gen: Any) -> None:
        self.gen = gen

    async def current(self) -> Any:
        return self.gen
