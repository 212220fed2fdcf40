"""Reading officials' spreadsheets: CSV (UTF-8 or Windows-1251, ``;``/``,``/tab) and XLSX/XLS.

A table is a header row and data rows, each data row with its number as the official sees it
in the file (1-based line or sheet row), so an error can say "row 17".

Files are hostile until read: every limit (:class:`ReadLimits`) is checked before the bytes
are parsed — a workbook's unpacked size and the extent of its first sheet from the zip
directory and a streaming scan of the sheet's XML, a text file's line count and binary
content from one pass over its bytes — so a 2 KB workbook claiming a cell at XFD1048576 is
refused instead of allocating the grid. The worker process that calls these
(``adapters/table_reader.py``) is the second fence: it runs under a memory limit.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

ZIP_MAGIC = b"PK\x03\x04"  # xlsx, ods
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy xls

HEADER_SCAN_ROWS = 20
"""Exports often carry title lines above the header; it is looked for in the first rows."""

SCAN_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """What one file may hold; every limit is checked before its rows are read."""

    max_rows: int = 1_100_000
    max_columns: int = 512
    max_cells: int = 40_000_000
    max_cell_chars: int = 32_767  # Excel's own limit for one cell
    max_unpacked_bytes: int = 1 << 30
    max_zip_entries: int = 5_000


DEFAULT_LIMITS = ReadLimits()


class TableError(ValueError):
    """The file cannot be read as a table at all (or breaks a limit): where, if known."""

    def __init__(self, reason: str, row: int | None = None, column: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.row = row
        self.column = column


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


def is_spreadsheet(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) or head.startswith(OLE_MAGIC)


# --- text files ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextShape:
    encoding: str
    lines: int
    size: int


def _looks_binary(head: bytes) -> bool:
    control = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0D))
    return control > max(len(head) // 100, 8)


def scan_text(stream: IO[bytes], limits: ReadLimits = DEFAULT_LIMITS) -> TextShape:
    """One pass over the bytes: binary content, UTF-8 validity, line count — before parsing."""
    stream.seek(0)
    head = stream.read(SCAN_CHUNK)
    if b"\x00" not in head and _looks_binary(head[:65536]):
        raise TableError(
            "the file is binary, not a CSV table (save the sheet as CSV or XLSX)", row=1
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    lines = 0
    size = 0
    chunk = head
    while chunk:
        size += len(chunk)
        if b"\x00" in chunk:
            row = lines + chunk[: chunk.index(b"\x00")].count(b"\n") + 1
            raise TableError("the file contains a NUL byte: it is binary, not a CSV table", row)
        lines += chunk.count(b"\n") or chunk.count(b"\r")
        if lines > limits.max_rows + HEADER_SCAN_ROWS:
            raise TableError(f"more than {limits.max_rows} rows; split the file")
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
        chunk = stream.read(SCAN_CHUNK)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    stream.seek(0)
    if not utf8:
        encoding = "cp1251"
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    return TextShape(encoding, lines, size)


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header-ish first lines: ``;`` (Russian Excel), ``,`` or tab."""
    sample = [line for line in text[:8192].splitlines() if line.strip()][:5]
    best, best_count = ";", 0
    for delim in (";", "\t", ","):
        count = max((line.count(delim) for line in sample), default=0)
        if count > best_count:
            best, best_count = delim, count
    return best


def read_csv_stream(stream: IO[bytes], limits: ReadLimits = DEFAULT_LIMITS) -> Table:
    shape = scan_text(stream, limits)
    # undecodable cp1251 bytes (0x98) become U+FFFD: the cell then fails validation by value
    text = io.TextIOWrapper(stream, encoding=shape.encoding, errors="replace", newline="")
    delimiter = sniff_delimiter(text.read(8192))
    text.seek(0)
    # a bare CR ends a line (universal newlines): the broken row then fails by its columns
    csv.field_size_limit(limits.max_cell_chars)
    reader = csv.reader(text, delimiter=delimiter)
    width_limit = limits.max_columns

    def rows() -> Iterator[tuple[int, list[Any]]]:
        last = 0
        count = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                reason = str(exc)
                if "field larger" in reason:
                    reason = f"a cell is longer than {limits.max_cell_chars} characters"
                elif "NUL" in reason:
                    reason = "the row contains a NUL byte: the file is binary, not a CSV table"
                else:
                    reason = f"not a CSV row: {reason}"
                raise TableError(reason, row=last + 1) from None
            count += 1
            if len(cells) > width_limit:
                raise TableError(f"more than {width_limit} columns", row=last + 1)
            # a quoted cell may span lines: number the record by its first line
            yield last + 1, cells
            last = reader.line_num

    return Table(
        "csv",
        shape.encoding,
        delimiter,
        rows(),
        expected_rows=max(shape.lines - 1, 0),
        position=lambda: stream.tell() / max(shape.size, 1),
    )


# --- workbooks -------------------------------------------------------------------------

CELL_REF = re.compile(rb"<c\b[^>]*?\br=\"([A-Z]{1,4})([0-9]{1,8})\"")
ROW_REF = re.compile(rb"<row\b[^>]*?\br=\"([0-9]{1,8})\"")
DIMENSION = re.compile(rb"<dimension\b[^>]*?\bref=\"([A-Z0-9:$]+)\"")
SHEET_REL = re.compile(rb"<sheet\b[^>]*?\br:id=\"([^\"]+)\"")


def column_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        n = n * 26 + (ord(ch) - 64)
    return n


@dataclass(frozen=True, slots=True)
class SheetShape:
    rows: int
    columns: int


def _first_sheet(book: zipfile.ZipFile) -> str | None:
    names = set(book.namelist())
    try:
        wb = book.read("xl/workbook.xml")[: 1 << 20]
        rels = book.read("xl/_rels/workbook.xml.rels")[: 1 << 20]
    except KeyError:
        wb = rels = b""
    m = SHEET_REL.search(wb)
    if m:
        rid = re.escape(m.group(1))
        rel = re.search(rb"<Relationship\b[^>]*?\bId=\"" + rid + rb"\"[^>]*>", rels)
        target = rel and re.search(rb"\bTarget=\"([^\"]+)\"", rel.group(0))
        if target:
            name = target.group(1).decode().lstrip("/")
            path = name if name.startswith("xl/") else f"xl/{name}"
            if path in names:
                return path
    candidates = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    return candidates[0] if candidates else None


def _check_extent(rows: int, cols: int, limits: ReadLimits, where: str) -> None:
    if cols > limits.max_columns:
        raise TableError(
            f"the sheet {where} reaches column {cols}; at most {limits.max_columns} are read",
            row=rows or None,
        )
    if rows > limits.max_rows + HEADER_SCAN_ROWS:
        raise TableError(
            f"the sheet {where} reaches row {rows}; at most {limits.max_rows} rows are read",
            row=rows,
        )
    if rows * cols > limits.max_cells:
        raise TableError(
            f"the sheet spans {rows} rows × {cols} columns, above {limits.max_cells} cells"
        )


def check_workbook(stream: IO[bytes], limits: ReadLimits = DEFAULT_LIMITS) -> SheetShape | None:
    """The zip directory and the first sheet's XML scanned before the workbook is parsed:
    unpacked size, entry count, the sheet's declared dimension and its real extent.
    ``None`` for workbooks that are not zip (legacy XLS: the worker's memory limit guards)."""
    stream.seek(0)
    if not stream.read(4).startswith(ZIP_MAGIC):
        stream.seek(0)
        return None
    stream.seek(0)
    try:
        book = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as exc:
        raise TableError(f"not a readable spreadsheet: {exc}") from None
    with book:
        infos = book.infolist()
        if len(infos) > limits.max_zip_entries:
            raise TableError(
                f"the workbook holds {len(infos)} parts, above {limits.max_zip_entries}"
            )
        unpacked = sum(i.file_size for i in infos)
        if unpacked > limits.max_unpacked_bytes:
            raise TableError(
                f"the workbook unpacks to {unpacked // (1 << 20)} MiB, above "
                f"{limits.max_unpacked_bytes // (1 << 20)} MiB (a compressed bomb or a huge sheet)"
            )
        sheet = _first_sheet(book)
        if sheet is None:
            if "content.xml" in book.namelist():  # ODS: no pre-scan; the memory limit guards
                return None
            raise TableError("the workbook has no sheet")
        max_row = max_col = 0
        read = 0
        tail = b""
        try:
            with book.open(sheet) as part:
                while chunk := part.read(SCAN_CHUNK):
                    read += len(chunk)
                    if read > limits.max_unpacked_bytes:  # the directory may lie
                        raise TableError("the sheet unpacks beyond the size limit")
                    window = tail + chunk
                    if not max_row and not max_col and (d := DIMENSION.search(window)):
                        end = d.group(1).decode().replace("$", "").split(":")[-1]
                        ref = re.fullmatch(r"([A-Z]{1,4})([0-9]{1,8})", end)
                        if ref:
                            _check_extent(
                                int(ref[2]), column_number(ref[1]), limits, f"dimension {end}"
                            )
                    for c in CELL_REF.finditer(window):
                        max_col = max(max_col, column_number(c.group(1)))
                        max_row = max(max_row, int(c.group(2)))
                    for r in ROW_REF.finditer(window):
                        max_row = max(max_row, int(r.group(1)))
                    _check_extent(max_row, max_col, limits, "")
                    tail = chunk[-256:]
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            if isinstance(exc, TableError):
                raise
            raise TableError(f"not a readable spreadsheet: {exc}") from None
    stream.seek(0)
    return SheetShape(max_row, max_col)


def read_spreadsheet_stream(stream: IO[bytes], limits: ReadLimits = DEFAULT_LIMITS) -> Table:
    """The first sheet of an XLSX/XLS/ODS workbook, read with python-calamine."""
    from python_calamine import CalamineWorkbook

    shape = check_workbook(stream, limits)
    try:
        book = CalamineWorkbook.from_filelike(stream)
        sheet = book.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own zoo of errors
        raise TableError(f"not a readable spreadsheet: {exc}") from None
    if shape is None:
        _check_extent(sheet.height, sheet.width, limits, "")
    first_row = sheet.start[0] if sheet.start else 0
    max_chars = limits.max_cell_chars

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for i, cells in enumerate(sheet.iter_rows()):
            for j, c in enumerate(cells):
                if isinstance(c, str) and len(c) > max_chars:
                    raise TableError(
                        f"a cell is longer than {max_chars} characters",
                        row=first_row + i + 1,
                        column=_letters(j + 1),
                    )
            yield first_row + i + 1, cells

    return Table("xlsx", None, None, rows(), expected_rows=max(sheet.height - 1, 0))


def _letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def read_stream(stream: IO[bytes], limits: ReadLimits = DEFAULT_LIMITS) -> Table:
    head = stream.read(8)
    stream.seek(0)
    if not head:
        raise TableError("the file is empty")
    if is_spreadsheet(head):
        return read_spreadsheet_stream(stream, limits)
    return read_csv_stream(stream, limits)


def read_table(data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> Table:
    if not data.strip():
        raise TableError("the file is empty")
    return read_stream(io.BytesIO(data), limits)


def blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)
