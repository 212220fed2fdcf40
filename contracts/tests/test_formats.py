"""Upload formats: every column lands in its fact, every required fact field has a column."""

from __future__ import annotations

import datetime as dt

import pytest

from shkala_contracts.formats import (
    FORMATS,
    PERSONAL_IDS,
    TASK_HEADER_RE,
    format_cell,
    normalise_header,
    task_header,
)


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=lambda f: f.kind)
def test_columns_map_onto_the_fact(fmt) -> None:  # type: ignore[no-untyped-def]
    fact_fields = fmt.fact.model_fields
    covered = set(fmt.fixed)
    for col in fmt.columns:
        target = PERSONAL_IDS.get(col.field, col.field)
        assert target in fact_fields or col.field in fmt.extra_fields, col.header
        covered.add(target)
    if fmt.task_columns:
        covered.add("tasks")
    required = {n for n, f in fact_fields.items() if f.is_required()}
    assert required <= covered, f"{fmt.kind}: no column for {required - covered}"


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=lambda f: f.kind)
def test_headers_are_unique_and_found_case_insensitively(fmt) -> None:  # type: ignore[no-untyped-def]
    headers = [normalise_header(c.header) for c in fmt.columns]
    assert len(headers) == len(set(headers))
    for col in fmt.columns:
        assert fmt.column(col.header.upper()) is col


def test_task_headers_round_trip() -> None:
    m = TASK_HEADER_RE.match(task_header("9.1", 2.5))
    assert m is not None
    assert (m["task"], m["max"]) == ("9.1", "2,5")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (True, "да"),
        (False, "нет"),
        (dt.date(2026, 4, 15), "15.04.2026"),
        (4.5, "4,5"),
        (3.0, "3"),
        (None, ""),
        (("a", "b"), "a; b"),
    ],
)
def test_cells_look_like_officials_spreadsheets(value: object, cell: str) -> None:
    assert format_cell(value) == cell
