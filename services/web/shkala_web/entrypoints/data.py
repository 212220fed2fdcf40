"""Uploads (through ingest), notifications (notify's subscriptions and deliveries) and the live
feed: notify's Server-Sent Events passed through with the user's token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from shkala_web.adapters.api import UpstreamError
from shkala_web.entrypoints.common import render
from shkala_web.entrypoints.session import CurrentUser, api_for, csrf_form, csrf_header

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

MAX_UPLOAD = 200 * 1024 * 1024


@router.get("/uploads")
async def uploads(request: Request, user: CurrentUser) -> Response:
    api = api_for(request, user)
    formats = await api.get("ingest", "/formats")
    kind = request.query_params.get("kind") or (formats[0]["kind"] if formats else None)
    chosen = next((f for f in formats if f["kind"] == kind), None)
    return render(request, "uploads.html", user, formats=formats, chosen=chosen)


@router.get("/uploads/{kind}/template.{ext}")
async def template(request: Request, kind: str, ext: str, user: CurrentUser) -> Response:
    if ext not in ("csv", "xlsx"):
        return Response(status_code=404)
    api = api_for(request, user)
    r = await api.request("ingest", "GET", f"/formats/{kind}/template.{ext}")
    if r.status_code >= 400:
        raise UpstreamError("ingest", r.status_code, r.json())
    return Response(
        r.content,
        media_type=r.headers.get("content-type"),
        headers={"Content-Disposition": f'attachment; filename="{kind}.{ext}"'},
    )


def _positions(answer: dict[str, Any]) -> list[str]:
    """``log_positions`` of an import answer (when ingest gives them) as
    ``topic:partition:offset``. Ingest answers ``{"<topic>": {"<partition>": <offset>}}``
    (one Kafka transaction's last offsets); a flat ``{"<topic>|<partition>": <offset>}`` and
    a list of ``{topic, partition, offset}`` are read too. Anything else is skipped: a
    malformed position would make every later indicators read a 422."""
    found = answer.get("log_positions") or []
    out = []
    if isinstance(found, dict):
        flat = []
        for k, v in found.items():
            if isinstance(v, dict):  # {"<topic>": {"<partition>": offset}}
                flat += [{"topic": k, "partition": p, "offset": o} for p, o in v.items()]
            elif "|" in k:  # {"<topic>|<partition>": offset}
                topic, _, part = k.rpartition("|")
                flat.append({"topic": topic, "partition": part, "offset": v})
        found = flat
    for p in found:
        if isinstance(p, dict) and {"topic", "partition", "offset"} <= set(p):
            position = f"{p['topic']}:{p['partition']}:{p['offset']}"
        elif isinstance(p, str):
            position = p
        else:
            continue
        topic, _, rest = position.rpartition(":")
        topic, _, part = topic.rpartition(":")
        if topic and part.isdigit() and rest.isdigit():
            out.append(position)
    return out[:50]


@router.post("/uploads/{kind}", dependencies=[Depends(csrf_header)])
async def upload(request: Request, kind: str, file: UploadFile, user: CurrentUser) -> Response:
    """Pass the file to ingest; answer the result as a fragment (row errors or counts)."""
    api = api_for(request, user)
    data = await file.read(MAX_UPLOAD + 1)
    r = await api.request(
        "ingest",
        "POST",
        f"/imports/{kind}",
        files={"file": (file.filename or f"{kind}.csv", data, file.content_type or "text/csv")},
        timeout=600.0,
    )
    try:
        body = r.json()
    except ValueError:
        body = {"detail": r.text[:500]}
    if r.status_code < 400:
        if positions := _positions(body):
            request.session["after"] = positions
        return render(request, "_upload_result.html", user, ok=True, a=body, filename=file.filename)
    return render(
        request,
        "_upload_result.html",
        user,
        ok=False,
        p=body,
        filename=file.filename,
        status=r.status_code,
    )


@router.get("/notifications")
async def notifications(request: Request, user: CurrentUser) -> Response:
    api = api_for(request, user)
    subs = await api.get("notify", "/subscriptions")
    chosen = request.query_params.get("sub") or (subs[0]["id"] if subs else None)
    deliveries = (
        await api.get("notify", f"/subscriptions/{chosen}/deliveries", limit=50) if chosen else []
    )
    return render(
        request, "notifications.html", user, subs=subs, chosen=chosen, deliveries=deliveries
    )


@router.post("/notifications/subscriptions", dependencies=[Depends(csrf_form)])
async def subscribe(
    request: Request,
    user: CurrentUser,
    url: Annotated[str, Form()],
    event_types: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    api = api_for(request, user)
    types = [t.strip() for t in event_types.replace("\n", ",").split(",") if t.strip()]
    body = {"url": url, "filters": {"event_types": types}, "description": description or None}
    try:
        created = await api.send("notify", "POST", "/subscriptions", body)
    except UpstreamError as exc:
        if exc.status not in (400, 422):
            raise
        subs = await api.get("notify", "/subscriptions")
        return render(
            request,
            "notifications.html",
            user,
            subs=subs,
            chosen=None,
            deliveries=[],
            error=exc.problem,
            status=422,
        )
    return RedirectResponse(f"/notifications?sub={created['id']}", status_code=303)


@router.get("/live")
async def live(request: Request, user: CurrentUser) -> Response:
    """notify's live stream for this user, unchanged (the browser's EventSource reads it)."""
    api = api_for(request, user)
    params: list[tuple[str, str | int | float | bool | None]] = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k in ("event_types", "municipalities", "schools", "directions", "indicators")
    ]
    headers = {}
    if last := request.headers.get("last-event-id"):
        headers["Last-Event-ID"] = last

    async def relay() -> AsyncIterator[bytes]:
        try:
            async with api.stream("notify", "/events/stream", params, headers) as upstream:
                if upstream.status_code != 200:
                    yield b"event: error\ndata: {}\n\n"
                    return
                async for chunk in upstream.aiter_bytes():
                    yield chunk
        except Exception as exc:  # the feed ends; EventSource reconnects by itself
            log.info("live feed from notify ended: %s: %s", type(exc).__name__, exc)
            yield b": upstream closed\n\n"

    return StreamingResponse(
        relay(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
