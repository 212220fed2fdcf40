"""The note as DOCX (python-docx, charts as PNG images) and its tables as XLSX (openpyxl)."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.shared import Cm, Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from shkala_web.adapters.charts import bar_png
from shkala_web.domain.note import Note

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def note_docx(note: Note) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    for s in doc.sections:
        s.left_margin = s.right_margin = Cm(2)
    doc.add_heading(note.title, level=0)
    doc.add_paragraph(note.subtitle)
    for section in note.sections:
        doc.add_heading(section.heading, level=1)
        for p in section.paragraphs:
            doc.add_paragraph(p)
        for chart in section.charts:
            doc.add_picture(io.BytesIO(bar_png(chart)), width=Cm(16))
        for table in section.tables:
            doc.add_paragraph(table.title, style="Heading 3")
            if not table.rows:
                doc.add_paragraph("Нет данных.")
                continue
            t = doc.add_table(rows=1, cols=len(table.headers))
            t.style = "Table Grid"
            for cell, header in zip(t.rows[0].cells, table.headers, strict=True):
                cell.text = header
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in table.rows:
                cells = t.add_row().cells
                for cell, value in zip(cells, row, strict=False):
                    cell.text = "" if value is None else str(value)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def safe_cell(value: Any) -> tuple[Any, bool]:
    """(value, as_text): text that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value.startswith(FORMULA_LEAD):
        return value, True
    return value, False


def note_xlsx(note: Note) -> bytes:
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    used: set[str] = set()
    for table in note.tables:
        title = "".join(ch for ch in table.title if ch not in "[]:*?/\\")[:31] or "Таблица"
        base, n = title, 2
        while title in used:
            title = f"{base[:28]} {n}"
            n += 1
        used.add(title)
        ws = wb.create_sheet(title)
        ws.append(table.headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r, row in enumerate(table.rows, start=2):
            for c, value in enumerate(row, start=1):
                v, as_text = safe_cell(value)
                cell = ws.cell(row=r, column=c)
                cell.value = v
                if as_text:
                    cell.data_type = "s"
        for col in ws.columns:
            width = max((len(str(c.value or "")) for c in col), default=8)
            ws.column_dimensions[col[0].column_letter].width = min(max(width, 8), 60)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
