"""Reading and converting cells, pseudonyms, templates: no infrastructure."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from shkala_contracts.formats import FORMATS
from shkala_ingest.domain import templates
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.domain.rows import RowBuilder, match_headers, parse_date, score_header
from shkala_ingest.domain.tables import read_table, sniff_delimiter

PS = Pseudonymiser(b"k" * 32)


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=lambda f: f.kind)
def test_every_formats_sample_row_builds_its_fact(fmt) -> None:  # type: ignore[no-untyped-def]
    table = read_table(templates.csv_text(fmt, [templates.sample_row(fmt)]).encode("cp1251"))
    (_, header), (row, cells) = list(table.rows)
    layout, missing = match_headers(fmt, header)
    assert missing == []
    built = RowBuilder(fmt, PS).from_cells(row, cells, layout)
    assert built.errors == []
    assert isinstance(built.fact, fmt.fact)
    json_built = RowBuilder(fmt, PS).from_json(1, templates.sample_json_row(fmt))
    assert json_built.errors == []
    assert json_built.fact == built.fact


def test_pseudonyms_are_keyed_and_shaped_like_the_contract() -> None:
    a = PS.pseudonym("student_id", "123456")
    assert re.fullmatch(r"p[0-9a-f]{24}", a)
    assert a == PS.pseudonym("student_id", "123456")
    assert a != Pseudonymiser(b"j" * 32).pseudonym("student_id", "123456")
    assert PS.pseudonym("teacher_id", "T-1") == PS.pseudonym("mentor_id", "T-1")
    assert PS.pseudonym("teacher_id", "1") != PS.pseudonym("student_id", "1")


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [("a;b;c\n1;2,5;3\n", ";"), ("a,b,c\n1,2,3\n", ","), ("a\tb\n1\t2\n", "\t")],
)
def test_delimiter_is_sniffed(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_windows_1251_and_utf8_bom_are_detected() -> None:
    assert read_table("Код ОО;Предмет\n".encode("cp1251")).encoding == "cp1251"
    assert read_table("\ufeffКод ОО;Предмет\n".encode()).encoding == "utf-8-sig"


def test_dates_and_values_as_officials_type_them() -> None:
    assert parse_date("15.04.2026") == dt.date(2026, 4, 15)
    assert parse_date("15.04.26") == dt.date(2026, 4, 15)
    assert parse_date("2026-04-15") == dt.date(2026, 4, 15)
    assert parse_date("31.02.2026") is None


def test_row_errors_name_header_value_and_redact_ids() -> None:
    fmt = FORMATS["vpr"]
    header = ["Код ОО", "Учебный год", "Предмет", "Параллель", "Код участника", "Отметка",
              "Дата", "Задание 1 (макс 1)"]  # fmt: skip
    layout, _ = match_headers(fmt, header)
    cells = ["sch-1", "2025/26", "математика", "12", "", "4,5", "01.01.2030", "2"]
    built = RowBuilder(fmt, PS).from_cells(7, cells, layout)
    by_col = {e.column: e for e in built.errors}
    assert set(by_col) == {"Параллель", "Код участника", "Отметка", "Задание 1 (макс 1)"}
    assert by_col["Параллель"].value == "12"
    assert by_col["Код участника"].reason == "required"
    assert all(e.row == 7 for e in built.errors)
    cells = ["sch-1", "2025/26", "математика", "5", "S-1", "4", "01.01.2030", "1"]
    built = RowBuilder(fmt, PS).from_cells(8, cells, layout)
    assert [e.column for e in built.errors] == ["Дата"]
    assert "academic year" in built.errors[0].reason


def test_header_row_is_found_below_title_lines() -> None:
    fmt = FORMATS["attendance"]
    assert score_header(fmt, ["Отчёт о пропусках"]) == 0
    assert score_header(fmt, ["КОД ОО", "учебный  год", "Причина"]) == 3


def test_xlsx_template_opens_with_the_headers() -> None:
    import io

    from python_calamine import CalamineWorkbook

    data = templates.xlsx_template(FORMATS["vpr"])
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert rows[0] == templates.headers(FORMATS["vpr"])


def test_vocabulary_values_match_whatever_their_case() -> None:
    fmt = FORMATS["attendance"]
    row = templates.sample_row(fmt)
    header = templates.headers(fmt)
    layout, _ = match_headers(fmt, header)
    at = header.index("Причина")
    for typed in ("Неуважительная", "НЕУВАЖИТЕЛЬНАЯ", " неуважительная "):
        cells = list(row)
        cells[at] = typed
        built = RowBuilder(fmt, PS).from_cells(2, cells, layout)
        assert built.errors == [], built.errors
        assert built.fact.reason.value == "неуважительная"  # type: ignore[union-attr]
    cells = list(row)
    cells[at] = "прогул"
    errors = RowBuilder(fmt, PS).from_cells(2, cells, layout).errors
    assert [(e.column, e.value) for e in errors] == [("Причина", "прогул")]


def test_a_rule_across_fields_names_the_column_it_is_about() -> None:
    fmt = FORMATS["gia"]
    row = dict(zip(templates.headers(fmt), templates.sample_row(fmt), strict=False))
    row["Экзамен"], row["Тестовый балл"] = "ЕГЭ", ""
    header = list(row)
    layout, _ = match_headers(fmt, header)
    built = RowBuilder(fmt, PS).from_cells(4, list(row.values()), layout)
    assert [(e.column, e.reason) for e in built.errors] == [
        ("Тестовый балл", "ЕГЭ needs test_score (0-100)")
    ]
