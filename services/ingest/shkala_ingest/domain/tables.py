"""Reading officials' spreadsheets: CSV (UTF-8 or Windows-1251, ``;``/``,``/tab) and XLSX/XLS.

A table is a header row and data rows, each data row with its number as the official sees it
in the file (1-based line or sheet row), so an error can say "row 17".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ZIP_MAGIC = b"PK\x03\x04"  # xlsx, ods
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy xls

HEADER_SCAN_ROWS = 20
"""Exports often carry title lines above the header; it is looked for in the first rows."""


class TableError(ValueError):
    """The file cannot be read as a table at all."""


@dataclass
class Table:
    """Rows of one sheet: ``rows`` yields ``(row_number, cells)``; ``expected_rows`` is an
    estimate known before reading (for progress)."""

    file_kind: str
    encoding: str | None
    delimiter: str | None
    rows: Iterator[tuple[int, list[Any]]]
    expected_rows: int
    position: Any = None
    """Callable giving the fraction of the file read so far (CSV), or None."""


def is_spreadsheet(data: bytes) -> bool:
    return data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC)


def decode_text(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) if it decodes, else Windows-1251 (what Excel saves)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace"), "cp1251"


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header-ish first lines: ``;`` (Russian Excel), ``,`` or tab."""
    sample = [line for line in text[:8192].splitlines() if line.strip()][:5]
    best, best_count = ";", 0
    for delim in (";", "\t", ","):
        count = max((line.count(delim) for line in sample), default=0)
        if count > best_count:
            best, best_count = delim, count
    return best


def read_csv(data: bytes) -> Table:
    text, encoding = decode_text(data)
    delimiter = sniff_delimiter(text)
    buf = io.StringIO(text)
    total = max(len(text), 1)
    reader = csv.reader(buf, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        last = 0
        for cells in reader:
            # a quoted cell may span lines: number the record by its first line
            yield last + 1, cells
            last = reader.line_num

    return Table(
        "csv",
        encoding,
        delimiter,
        rows(),
        expected_rows=max(text.count("\n") + (0 if text.endswith("\n") else 1) - 1, 0),
        position=lambda: buf.tell() / total,
    )


def read_spreadsheet(data: bytes) -> Table:
    """The first sheet of an XLSX/XLS/ODS workbook, read with python-calamine."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own zoo of errors
        raise TableError(f"not a readable spreadsheet: {exc}") from exc
    first_row = sheet.start[0] if sheet.start else 0

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for i, cells in enumerate(sheet.iter_rows()):
            yield first_row + i + 1, cells

    return Table("xlsx", None, None, rows(), expected_rows=max(sheet.height - 1, 0))


def read_table(data: bytes) -> Table:
    if not data.strip():
        raise TableError("the file is empty")
    return read_spreadsheet(data) if is_spreadsheet(data) else read_csv(data)


def blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)
