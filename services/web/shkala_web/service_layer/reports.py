"""Gather what the analytical note says about a municipality and period, then build it."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from shkala_web.domain.note import Note, build_note
from shkala_web.service_layer.pages import Catalogue, Reader, measures_of, municipality_page


async def municipality_note(
    api: Reader, cat: dict[str, Any], mun: str, period: str, today: dt.date, soon_days: int
) -> Note:
    page = await municipality_page(api, cat, mun, period, None, "asc", None)
    vpr, listed = await asyncio.gather(
        api.get("indicators", f"/municipalities/{mun}/vpr-tasks", period=period),
        api.get("plans", "/roadmaps", municipality_id=mun),
    )
    roadmaps = await asyncio.gather(*(api.get("plans", f"/roadmaps/{r['id']}") for r in listed))
    measures = await measures_of(api, mun)
    return build_note(
        municipality=page["municipality"],
        period=period,
        today=today,
        catalogue=Catalogue.by_id(cat),
        columns=page["columns"],
        rows=page["rows"],
        total=page["total"],
        lists=page["lists"],
        names=page["names"],
        vpr=vpr,
        roadmaps=list(roadmaps),
        measures=measures,
        soon_days=soon_days,
    )
