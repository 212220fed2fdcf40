"""The withdrawal use case against in-memory fakes: refusals publish nothing."""

from __future__ import annotations

from typing import Any

import pytest

from shkala_contracts.formats import FORMATS
from shkala_ingest.domain.errors import ImportRejected
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.domain.rows import RowBuilder
from shkala_ingest.service_layer.withdrawals import WITHDRAWN, withdraw
from shkala_runtime.auth import Principal, Role

from .fakes import FakePublisher, FakeStore

PS = Pseudonymiser(b"k" * 32)
SCHOOLS = {
    "sch-1": {"region_id": "demo", "municipality_id": "mo-1", "school_id": "sch-1"},
    "sch-2": {"region_id": "demo", "municipality_id": "mo-2", "school_id": "sch-2"},
}
ROW = {"school_id": "sch-1", "subject": "математика", "academic_year": "2025/26",
       "grade": "5", "student_id": "S-1"}  # fmt: skip


def submitted(store: FakeStore, row: dict[str, Any]) -> str:
    item = {**row, "mark": 4}
    fact = RowBuilder(FORMATS["vpr"], PS).from_json(1, item).fact
    assert fact is not None
    oid = fact.originator_id()
    store.streams.setdefault(row["school_id"], {})[oid] = ("h", 1)
    return oid


async def run(store: FakeStore, pub: FakePublisher, principal: Principal, rows: list[Any]) -> Any:
    return await withdraw(
        kind="vpr", principal=principal, rows=rows, reason=None, store=store,
        publisher=pub, pseudonymiser=PS, source="/t", topic_name=lambda t: t,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_a_known_fact_is_withdrawn_as_its_next_version() -> None:
    store, pub = FakeStore(SCHOOLS), FakePublisher()
    oid = submitted(store, ROW)
    principal = Principal(subject="t", role=Role.MUNICIPALITY, region="demo", municipality="mo-1")
    answer = await run(store, pub, principal, [ROW])
    assert answer["withdrawn"] == 1
    (record,) = pub.committed
    headers = dict(record.headers)
    assert headers["ce_originatorid"] == oid.encode()
    assert headers["ce_originatorversion"] == b"2"
    assert store.streams["sch-1"][oid] == (WITHDRAWN, 2)


async def test_unknown_foreign_and_malformed_rows_refuse_the_whole_request() -> None:
    store, pub = FakeStore(SCHOOLS), FakePublisher()
    submitted(store, ROW)
    principal = Principal(subject="t", role=Role.MUNICIPALITY, region="demo", municipality="mo-1")
    rows = [ROW, ROW | {"school_id": "sch-2"}, ROW | {"grade": "двенадцатый"}, {"x": 1}]
    with pytest.raises(ImportRejected) as err:
        await run(store, pub, principal, rows)
    assert err.value.code == "forbidden-rows"
    by_row = {}
    for e in err.value.extensions["errors"]:
        by_row.setdefault(e["row"], []).append(e["column"])
    assert set(by_row) == {2, 3, 4}
    assert "grade" in by_row[3]
    assert pub.committed == []
