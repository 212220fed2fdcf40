"""Spreadsheet exports that cannot run what a user typed (CSV/formula injection, OWASP).

Text a user wrote (a roadmap row, a report) ends up in XLSX and CSV files officials open in
Excel or LibreOffice. Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read there as a formula (``=HYPERLINK(…)`` becomes a live link, ``=cmd|…`` worse).
Every export of every service passes its cells through here:

- XLSX: ``protect_worksheet(ws)`` after filling an openpyxl worksheet: such text is stored as
  a string cell with Excel's quote prefix (shown as typed, stays text when edited);
- CSV: ``csv_cell(value)`` prefixes such text with an apostrophe, as Excel itself does.

Numbers stay numbers; only text is touched.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    """True for text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: object) -> object:
    """The value as a CSV cell must hold it: formula-like text gets a leading apostrophe."""
    return f"'{value}" if looks_like_formula(value) else value


def protect_cell(cell: Any) -> None:
    """Make one openpyxl cell hold formula-like text as text (openpyxl turns any string
    starting with ``=`` into a formula on assignment)."""
    value = cell.value
    if cell.data_type == "f" or looks_like_formula(value):
        if not isinstance(value, str):  # an openpyxl formula object: keep its text
            value = str(getattr(value, "text", value))
        cell.value = value
        cell.data_type = "s"
        cell.quotePrefix = True


def protect_worksheet(ws: Any) -> Any:
    """Every cell of an openpyxl worksheet through ``protect_cell``; returns ``ws``."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is not None:
                protect_cell(cell)
    return ws
