"""Write a region as the files officials upload: one CSV or XLSX per upload format.

Headers are the formats' Russian column headers (``Column.header``); ВПР protocols add one
``Задание N (макс M)`` column per distinct (task, maximum) across all protocols, so a row
leaves the tasks of other protocols empty. Values are rendered by ``format_cell`` (dd.mm.yyyy,
да/нет, decimal comma). CSV is Windows-1251 with ``;`` by default, as officials export.
Rows are streamed: nothing is held in memory beyond the region itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shkala_contracts.formats import FORMATS, UploadFormat, format_cell, task_header
from shkala_demo.facts import KINDS, Row, native_rows
from shkala_demo.protocols import all_vpr_task_columns
from shkala_demo.world import Region

Progress = Callable[[str, int], None]
"""Called with (kind, rows written so far) every ``PROGRESS_EVERY`` rows."""
PROGRESS_EVERY = 100_000
XLSX_MAX_ROWS = 1_048_576


@dataclass(frozen=True, slots=True)
class Written:
    kind: str
    path: Path
    rows: int


_DATES: dict[dt.date, str] = {}


def _cell(value: Any) -> str:
    """``format_cell`` with fast paths for the common types (a million rows go through it)."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is bool:
        return "да" if value else "нет"
    if kind is dt.date:
        text = _DATES.get(value)
        if text is None:
            text = _DATES[value] = format_cell(value)
        return text
    return format_cell(value)


def header(fmt: UploadFormat) -> list[str]:
    heads = [c.header for c in fmt.columns]
    if fmt.task_columns:
        heads += [task_header(task, max_points) for task, max_points in all_vpr_task_columns()]
    return heads


def table(region: Region, kind: str) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and the rows (Python values, None for an empty cell) of one file."""
    fmt = FORMATS[kind]
    fields = [c.field for c in fmt.columns]
    task_index = {
        pair: len(fields) + i
        for i, pair in enumerate(all_vpr_task_columns() if fmt.task_columns else [])
    }
    width = len(fields) + len(task_index)

    def cells(row: Row) -> list[Any]:
        out: list[Any] = [row.get(f) for f in fields]
        if task_index:
            out += [None] * (width - len(fields))
            for number, points, max_points in row.get("tasks", ()):
                out[task_index[(number, max_points)]] = points
        return out

    return header(fmt), map(cells, native_rows(region, kind))


def _count(kind: str, items: Iterable[list[Any]], progress: Progress | None) -> Iterator[list[Any]]:
    for n, item in enumerate(items, start=1):
        if progress and n % PROGRESS_EVERY == 0:
            progress(kind, n)
        yield item


def write_csv(
    region: Region,
    kind: str,
    path: Path,
    *,
    encoding: str = "cp1251",
    delimiter: str = ";",
    progress: Progress | None = None,
) -> int:
    head, body = table(region, kind)
    n = 0
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(head)
        for cells in _count(kind, body, progress):
            writer.writerow([_cell(v) for v in cells])
            n += 1
    return n


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_FIXED_TIME = dt.datetime(2026, 1, 1)


def _xlsx_value(value: Any) -> Any:
    """Numbers stay numbers; dates, да/нет and lists as officials show them."""
    if value is None:
        return None
    if type(value) in (int, float):
        return value
    return format_cell(value)


def write_xlsx(region: Region, kind: str, path: Path, *, progress: Progress | None = None) -> int:
    from openpyxl import Workbook

    fmt = FORMATS[kind]
    head, body = table(region, kind)
    wb = Workbook(write_only=True)
    wb.properties.creator = "shkala-demo"
    wb.properties.created = _FIXED_TIME
    title = _SHEET_BAD.sub(" ", fmt.title)[:31].strip()
    sheets = 1
    ws = wb.create_sheet(title)
    ws.append(head)
    in_sheet = 1
    n = 0
    for cells in _count(kind, body, progress):
        if in_sheet == XLSX_MAX_ROWS:  # a sheet is full: go on in the next one, header again
            sheets += 1
            ws = wb.create_sheet(f"{title[:26]} ({sheets})")
            ws.append(head)
            in_sheet = 1
        ws.append([_xlsx_value(v) for v in cells])
        in_sheet += 1
        n += 1
    wb.save(path)
    return n


def write_region(
    region: Region,
    out_dir: str | Path,
    fmt: Literal["csv", "xlsx"] = "csv",
    *,
    encoding: str = "cp1251",
    delimiter: str = ";",
    kinds: Iterable[str] = KINDS,
    progress: Progress | None = None,
    on_written: Callable[[Written], None] | None = None,
) -> list[Written]:
    """Write one file per format kind: ``<kind>.csv`` or ``<kind>.xlsx``, into ``out_dir``."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"format must be csv or xlsx, not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in kinds:
        path = out / f"{kind}.{fmt}"
        if fmt == "csv":
            n = write_csv(
                region, kind, path, encoding=encoding, delimiter=delimiter, progress=progress
            )
        else:
            n = write_xlsx(region, kind, path, progress=progress)
        w = Written(kind, path, n)
        written.append(w)
        if on_written:
            on_written(w)
    return written
