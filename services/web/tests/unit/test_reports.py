"""The analytical note: its content from the services' answers, DOCX with charts, XLSX tables
with formula-leading text kept as text."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from docx import Document
from openpyxl import load_workbook

from shkala_web.adapters.documents import note_docx, note_xlsx
from shkala_web.domain.note import Note, Section, Table
from shkala_web.service_layer.reports import municipality_note

from .fakes import FakeReader

CAT = {
    "indicators": [
        {
            "id": "vpr2",
            "name": {"ru": "Доля «2» ВПР"},
            "unit": "percent",
            "better": "down",
            "direction": "low_results",
            "threshold": {"risk_if": "above", "value": 20.0},
        },
    ],
    "lists": [{"list": "ШНОР", "indicators": ["vpr2"], "min_count": 1, "always": []}],
}


def answers() -> dict[tuple[str, str], Any]:
    empty_list = {
        "members": [],
        "dynamics": {"entered": [], "left": [], "stayed": []},
        "previous_period": "2024/25",
    }
    return {
        ("indicators", "/municipalities/mo-1/table"): {
            "rows": [
                {
                    "school_id": "s1",
                    "name": "МБОУ «СОШ № 2»",
                    "values": {"vpr2": 45.0},
                    "at_risk": ["vpr2"],
                    "lists": ["ШНОР"],
                },
                {
                    "school_id": "s2",
                    "name": "Лицей",
                    "values": {"vpr2": 5.0},
                    "at_risk": [],
                    "lists": [],
                },
            ],
            "municipality": {"vpr2": {"value": 25.0}},
        },
        ("indicators", "/municipalities/mo-1/rating"): {"rows": [], "unrated": [], "rule": None},
        ("indicators", "/org-units"): {
            "units": [
                {"id": "mo-1", "kind": "municipality", "name": "г. Липовец"},
                {"id": "s1", "kind": "school", "name": "МБОУ «СОШ № 2»", "municipality_id": "mo-1"},
                {"id": "s2", "kind": "school", "name": "Лицей", "municipality_id": "mo-1"},
            ]
        },
        ("indicators", "/lists/ШНОР"): {
            "members": [{"school_id": "s1", "reasons": ["vpr2"]}],
            "dynamics": {"entered": ["s1"], "left": [], "stayed": []},
            "previous_period": "2024/25",
        },
        ("indicators", "/lists/ШНСУ"): empty_list,
        ("indicators", "/lists/признаки необъективности"): empty_list,
        ("indicators", "/municipalities/mo-1/vpr-tasks"): {
            "threshold": 50,
            "tasks": [
                {
                    "subject": "математика",
                    "grade": 5,
                    "task": "3",
                    "rate": 31.0,
                    "students": 20,
                    "deficit": True,
                }
            ],
            "deficits": [
                {
                    "subject": "математика",
                    "grade": 5,
                    "task": "3",
                    "rate": 31.0,
                    "students": 20,
                    "deficit": True,
                }
            ],
        },
        ("plans", "/roadmaps"): [{"id": "rm1"}],
        ("plans", "/roadmaps/rm1"): {
            "title": "Дорожная карта",
            "rows": [
                {
                    "row_id": "r1",
                    "number": "1",
                    "activity": "Утвердить план",
                    "deadline": {"text": "до 01.02.2026", "dates": ["2026-02-01"]},
                    "responsible": ["отдел образования"],
                    "status": "planned",
                    "overdue": [],
                },
            ],
        },
        ("plans", "/measures"): [],
    }


async def test_the_note_says_what_the_services_answered() -> None:
    api = FakeReader(answers())
    note = await municipality_note(api, CAT, "mo-1", "2025/26", dt.date(2026, 3, 1), 14)
    text = "\n".join(
        [note.title, *(p for s in note.sections for p in s.paragraphs)]
        + [str(c) for t in note.tables for r in t.rows for c in r]
    )
    assert "г. Липовец" in note.title
    assert "ШНОР (низкие результаты): 1 школа в 2025/26" in text
    assert "МБОУ «СОШ № 2» (s1)" in text
    assert "45,0\u00a0% (риск)" in text  # beyond the threshold, marked
    assert "Утвердить план" in text  # overdue since 01.02.2026
    overdue = next(t for t in note.tables if t.title == "Просроченные мероприятия")
    assert overdue.rows[0][3] == "01.02.2026"

    doc = Document(io.BytesIO(note_docx(note)))
    body = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells
    )
    assert "МБОУ «СОШ № 2»" in body
    assert len(doc.inline_shapes) >= 2  # indicator and deficit charts as images


def test_xlsx_keeps_formula_leading_text_as_text() -> None:
    hostile = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "обычный"]
    note = Note("t", "s", [Section("h", tables=[Table("Таблица", ["a"], [[v] for v in hostile])])])
    ws = load_workbook(io.BytesIO(note_xlsx(note)))["Таблица"]
    cells = [ws.cell(row=i + 2, column=1) for i in range(len(hostile))]
    assert [c.value for c in cells] == hostile
    assert all(c.data_type == "s" for c in cells)
