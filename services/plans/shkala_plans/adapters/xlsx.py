"""A roadmap with its statuses as an XLSX workbook (openpyxl)."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from shkala_plans.domain.deadlines import occurrences
from shkala_plans.domain.model import Roadmap
from shkala_runtime.spreadsheets import protect_worksheet

HEADERS = (
    "№",
    "Раздел",
    "Мероприятие",
    "Срок (как в документе)",
    "Вид срока",
    "Ближайший срок",
    "Ответственные",
    "Ожидаемый результат",
    "Показатели",
    "Школы",
    "Статус",
    "Отчёт",
    "Подтверждения",
    "Просрочено",
    "Проверить срок",
)
STATUS_RU = {
    "planned": "запланировано",
    "in_progress": "выполняется",
    "done": "выполнено",
    "cancelled": "отменено",
}


def roadmap_xlsx(roadmap: Roadmap, today: dt.date) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Дорожная карта"
    ws.append([roadmap.title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"Версия {roadmap.version}, на {today.isoformat()}"])
    ws.append(list(HEADERS))
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    overdue_fill = PatternFill("solid", fgColor="F8CBAD")
    for row in roadmap.rows.values():
        section = roadmap.sections.get(row.section_id or "")
        upcoming = occurrences(row.deadline, today, today.replace(year=today.year + 2))
        ws.append(
            [
                row.number or "",
                section.title if section else "",
                row.activity,
                row.deadline.text,
                row.deadline.kind.value,
                upcoming[0] if upcoming else None,
                "; ".join(row.responsible),
                row.expected_result or "",
                ", ".join(row.indicator_ids),
                ", ".join(row.target_schools),
                STATUS_RU[row.status.value],
                "\n".join(r["report"] for r in row.reports),
                "\n".join(row.evidence),
                "да" if row.overdue_signalled and not row.closed else "",
                "да" if row.deadline.needs_review else "",
            ]
        )
        if row.overdue_signalled and not row.closed:
            for cell in ws[ws.max_row]:
                cell.fill = overdue_fill
    widths = (8, 30, 60, 25, 14, 14, 30, 40, 20, 20, 14, 40, 30, 11, 11)
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=3, column=i).column_letter].width = w
    for r in ws.iter_rows(min_row=4):
        for cell in r:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A4"
    protect_worksheet(ws)  # titles, rows and reports are user text: never formulas
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
