"""Reports: the analytical note as DOCX and its tables as XLSX, from the municipality page or by
API (``Authorization: Bearer`` with a service token works as well as the session)."""

from __future__ import annotations

import asyncio
import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shkala_web.adapters.documents import note_docx, note_xlsx
from shkala_web.domain.note import Note
from shkala_web.entrypoints.common import catalogue_cache, choose_period, settings_of
from shkala_web.entrypoints.session import CurrentUser, api_for
from shkala_web.service_layer.reports import municipality_note

router = APIRouter(tags=["reports"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _note(request: Request, user: CurrentUser, mun: str) -> tuple[Note, str]:
    api = api_for(request, user)
    cat = await catalogue_cache(request).get(api)
    period = await choose_period(request, api, user)
    note = await municipality_note(
        api, cat, mun, period, dt.date.today(), settings_of(request).web_due_soon_days
    )
    return note, period


def _filename(mun: str, period: str, ext: str) -> str:
    return f"spravka-{mun}-{period.replace('/', '-')}.{ext}"


@router.get(
    "/reports/municipalities/{mun}/note.docx",
    summary="Аналитическая справка (DOCX) муниципалитета за учебный год (?period=2025/26)",
)
async def note_as_docx(request: Request, mun: str, user: CurrentUser) -> Response:
    note, period = await _note(request, user, mun)
    body = await asyncio.to_thread(note_docx, note)  # matplotlib and python-docx are blocking
    return Response(
        body,
        media_type=DOCX,
        headers={"Content-Disposition": f'attachment; filename="{_filename(mun, period, "docx")}"'},
    )


@router.get(
    "/reports/municipalities/{mun}/tables.xlsx",
    summary="Таблицы аналитической справки (XLSX) муниципалитета за учебный год",
)
async def note_as_xlsx(request: Request, mun: str, user: CurrentUser) -> Response:
    note, period = await _note(request, user, mun)
    body = await asyncio.to_thread(note_xlsx, note)
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{_filename(mun, period, "xlsx")}"'},
    )
