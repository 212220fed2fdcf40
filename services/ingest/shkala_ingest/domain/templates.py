"""Blank templates and sample rows of every upload format, straight from ``formats.py``."""

from __future__ import annotations

import io
from typing import Any

from shkala_contracts.formats import PERSONAL_IDS, UploadFormat, task_header
from shkala_runtime.spreadsheets import csv_cell, protect_worksheet

SAMPLE_TASKS: tuple[tuple[str, float, str], ...] = (
    ("1", 1, "1"),
    ("2", 2, "2"),
    ("3", 1, "0"),
    ("4", 2, "1"),
)


def headers(fmt: UploadFormat) -> list[str]:
    cols = [c.header for c in fmt.columns]
    if fmt.task_columns:
        cols += [task_header(t, m) for t, m, _ in SAMPLE_TASKS]
    return cols


def sample_row(fmt: UploadFormat) -> list[str]:
    cells = [c.example for c in fmt.columns]
    if fmt.task_columns:
        cells += [p for _, _, p in SAMPLE_TASKS]
    return cells


def sample_json_row(fmt: UploadFormat) -> dict[str, Any]:
    row: dict[str, Any] = {c.field: c.example for c in fmt.columns if c.example}
    if fmt.task_columns:
        row["tasks"] = [
            {"task": t, "points": float(p), "max_points": float(m)} for t, m, p in SAMPLE_TASKS
        ]
    return row


def csv_text(fmt: UploadFormat, rows: list[list[str]] | None = None) -> str:
    """``;``-separated, as Russian Excel writes it; quoted where needed."""

    def cell(v: str) -> str:
        v = str(csv_cell(v))
        return f'"{v.replace(chr(34), chr(34) * 2)}"' if any(ch in v for ch in ';"\n') else v

    lines = [";".join(map(cell, headers(fmt)))]
    lines += [";".join(map(cell, r)) for r in rows or []]
    return "\r\n".join(lines) + "\r\n"


def csv_template(fmt: UploadFormat) -> bytes:
    """UTF-8 with BOM, so Excel opens the Cyrillic headers correctly."""
    return b"\xef\xbb\xbf" + csv_text(fmt).encode("utf-8")


def xlsx_template(fmt: UploadFormat) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = fmt.kind[:31]
    ws.append(headers(fmt))
    by_header = {c.header: c for c in fmt.columns}
    for i, cell in enumerate(ws[1], start=1):
        cell.font = Font(bold=True)
        col = by_header.get(str(cell.value))
        if col is not None:
            note = ("обязательный" if col.required else "необязательный") + (
                f"; пример: {col.example}" if col.example else ""
            )
            if col.field in PERSONAL_IDS:
                note += "; заменяется псевдонимом при загрузке"
            cell.comment = Comment(note, "Shkala")
        ws.column_dimensions[cell.column_letter].width = max(12, len(str(cell.value)) + 2)
        del i
    ws.freeze_panes = "A2"
    protect_worksheet(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
