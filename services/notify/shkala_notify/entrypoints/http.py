"""HTTP routes of the notify service: translate requests and delegate to the service layer."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from shkala_contracts.vocabulary import Direction, OrgId
from shkala_notify.adapters.store import Store
from shkala_notify.adapters.targets import TargetGuard
from shkala_notify.domain.subscriptions import Filters
from shkala_notify.service_layer import subscriptions as uc
from shkala_notify.service_layer.live import LiveHub
from shkala_notify.service_layer.names import OrgNames
from shkala_runtime.auth import CurrentPrincipal

router = APIRouter()


@dataclass
class Components:
    store: Store
    guard: TargetGuard
    names: OrgNames
    hub: LiveHub
    sse_ping_s: float
    secret_overlap_s: float = 24 * 3600


def _components(request: Request) -> Components:
    components: Components = request.app.state.notify
    return components


Deps = Annotated[Components, Depends(_components)]


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_types: list[Annotated[str, Field(max_length=200)]] = Field(
        default=[],
        max_length=100,
        description="CloudEvents types; `ru.shkala.indicators.*` for a whole family; empty = all",
    )
    municipalities: list[OrgId] = Field(default=[], max_length=500)
    schools: list[OrgId] = Field(default=[], max_length=5000)
    directions: list[Direction] = Field(default=[], max_length=9)
    indicators: list[Annotated[str, Field(max_length=80)]] = Field(default=[], max_length=500)

    def to_domain(self) -> Filters:
        return Filters(
            tuple(self.event_types),
            tuple(self.municipalities),
            tuple(self.schools),
            tuple(d.value for d in self.directions),
            tuple(self.indicators),
        )


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, examples=["https://hooks.example.ru/shkala"])
    filters: FiltersIn = FiltersIn()
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="Standard Webhooks secret `whsec_<base64>`; generated when absent",
    )
    description: str | None = Field(default=None, max_length=500)


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000)
    filters: FiltersIn | None = None
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(default=None, description="false disables, true re-enables")


class OwnerOut(BaseModel):
    region: str
    municipality: str | None = None
    school: str | None = None


class SubscriptionOut(BaseModel):
    id: str
    url: str
    description: str | None
    owner: OwnerOut
    filters: dict[str, list[str]]
    status: Literal["active", "disabled"]
    version: int
    failing_since: dt.datetime | None
    last_error: str | None
    disabled_at: dt.datetime | None
    disabled_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, doc: dict[str, Any]) -> SubscriptionOut:
        return cls.model_validate({**doc, "id": doc["_id"]}, from_attributes=False)


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="Shown once here and at GET …/secret")


class PreviousSecretOut(BaseModel):
    expires_at: dt.datetime = Field(description="Until then it signs beside the current one")
    rotated_at: dt.datetime | None = None


class SecretOut(BaseModel):
    secret: str
    previous: list[PreviousSecretOut] = Field(
        default=[], description="Earlier secrets still inside their overlap window"
    )

    @classmethod
    def of(cls, sub: dict[str, Any]) -> SecretOut:
        now = dt.datetime.now(dt.UTC)
        previous = [
            PreviousSecretOut.model_validate(p)
            for p in sub.get("previous_secrets") or []
            if p["expires_at"].replace(tzinfo=dt.UTC) > now
        ]
        return cls(secret=sub["secret"], previous=previous)


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(
        default=None, max_length=200, description="The new `whsec_…` secret; generated if absent"
    )
    overlap_s: float | None = Field(
        default=None,
        ge=0,
        le=30 * 24 * 3600,
        description="How long the previous secret keeps signing too (default "
        "`SHKALA_WEBHOOK_SECRET_OVERLAP_S`, 24 h)",
    )


class AttemptOut(BaseModel):
    at: dt.datetime
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: str
    event_id: str = Field(description="CloudEvents id = webhook-id")
    event_type: str
    text: str | None = None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    log: list[AttemptOut] = []

    @classmethod
    def of(cls, doc: dict[str, Any]) -> DeliveryOut:
        return cls.model_validate({**doc, "id": doc["_id"]})


@router.post("/subscriptions", status_code=201, tags=["subscriptions"])
async def create_subscription(
    body: SubscriptionIn, principal: CurrentPrincipal, c: Deps
) -> SubscriptionCreated:
    """Register a webhook endpoint; the target is checked against SSRF rules (422 if refused)."""
    doc = await uc.create(
        c.store,
        c.guard,
        c.names,
        principal,
        url=body.url,
        filters=body.filters.to_domain(),
        secret=body.secret,
        description=body.description,
    )
    return SubscriptionCreated.model_validate({**doc, "id": doc["_id"]})


@router.get("/subscriptions", tags=["subscriptions"])
async def list_subscriptions(principal: CurrentPrincipal, c: Deps) -> list[SubscriptionOut]:
    docs = await c.store.list_subscriptions(uc.owner_query(principal))
    return [SubscriptionOut.of(d) for d in docs]


@router.get("/subscriptions/{sub_id}", tags=["subscriptions"])
async def get_subscription(sub_id: str, principal: CurrentPrincipal, c: Deps) -> SubscriptionOut:
    return SubscriptionOut.of(await uc.get(c.store, principal, sub_id))


@router.get("/subscriptions/{sub_id}/secret", tags=["subscriptions"])
async def get_secret(sub_id: str, principal: CurrentPrincipal, c: Deps) -> SecretOut:
    return SecretOut.of(await uc.get(c.store, principal, sub_id))


@router.post("/subscriptions/{sub_id}/secret/rotate", tags=["subscriptions"])
async def rotate_secret(
    sub_id: str, principal: CurrentPrincipal, c: Deps, body: RotateIn | None = None
) -> SecretOut:
    """Replace the signing secret; the previous one keeps signing beside it (two `v1,`
    signatures in `webhook-signature`) until the overlap window ends."""
    body = body or RotateIn()
    overlap = body.overlap_s if body.overlap_s is not None else c.secret_overlap_s
    doc = await uc.rotate_secret(
        c.store, principal, sub_id, secret=body.secret, overlap=dt.timedelta(seconds=overlap)
    )
    return SecretOut.of(doc)


@router.patch("/subscriptions/{sub_id}", tags=["subscriptions"])
async def patch_subscription(
    sub_id: str, body: SubscriptionPatch, principal: CurrentPrincipal, c: Deps
) -> SubscriptionOut:
    doc = await uc.update(
        c.store,
        c.guard,
        c.names,
        principal,
        sub_id,
        url=body.url,
        filters=body.filters.to_domain() if body.filters else None,
        description=body.description,
        enabled=body.enabled,
    )
    return SubscriptionOut.of(doc)


@router.delete("/subscriptions/{sub_id}", status_code=204, tags=["subscriptions"])
async def delete_subscription(sub_id: str, principal: CurrentPrincipal, c: Deps) -> Response:
    await uc.delete(c.store, principal, sub_id)
    return Response(status_code=204)


@router.get("/subscriptions/{sub_id}/deliveries", tags=["deliveries"])
async def list_deliveries(
    sub_id: str,
    principal: CurrentPrincipal,
    c: Deps,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: dt.datetime | None = None,
) -> list[DeliveryOut]:
    """The delivery log, newest first: every attempt with its status code or error."""
    docs = await uc.deliveries(
        c.store, principal, sub_id, status=status, limit=limit, before=before
    )
    return [DeliveryOut.of(d) for d in docs]


@router.post(
    "/subscriptions/{sub_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    tags=["deliveries"],
)
async def redeliver(
    sub_id: str, delivery_id: str, principal: CurrentPrincipal, c: Deps
) -> DeliveryOut:
    """Send again, unchanged (same webhook-id and body), with a fresh retry schedule."""
    return DeliveryOut.of(await uc.redeliver(c.store, principal, sub_id, delivery_id))


@router.get(
    "/events/stream",
    tags=["live"],
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`event: <type>`, `id: <cursor>`, `data: <CloudEvent with text>`; "
            "a bare `id:` now and then while nothing matches",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def stream(
    principal: CurrentPrincipal,
    c: Deps,
    event_types: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI query default
    municipalities: Annotated[list[str], Query()] = [],  # noqa: B006
    schools: Annotated[list[str], Query()] = [],  # noqa: B006
    directions: Annotated[list[Direction], Query()] = [],  # noqa: B006
    indicators: Annotated[list[str], Query()] = [],  # noqa: B006
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=2000,
            description="The `id` of the last event received: the stream resumes after it, "
            "with nothing missed (browsers send it when they reconnect)",
        ),
    ] = None,
) -> EventSourceResponse:
    """Server-Sent Events: the CloudEvents (with a Russian `text`) the caller may see, live.

    Each event's `id` is a position in the log, valid on every instance: reconnecting with
    `Last-Event-ID` first replays what happened meanwhile. A client too slow to keep up is
    disconnected (not thinned) so that it resumes from its last id."""
    filters = Filters(
        tuple(event_types),
        tuple(municipalities),
        tuple(schools),
        tuple(d.value for d in directions),
        tuple(indicators),
    )
    await uc.validate_filters(principal, filters, c.names)
    owner = uc.owner_of_principal(principal)
    resume_from = c.hub.resume_point(last_event_id)
    listening = c.hub.listen(owner, filters)
    listener = await listening.__aenter__()

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            yield ServerSentEvent(comment="subscribed")
            if last_event_id and resume_from is None:
                yield ServerSentEvent(comment="Last-Event-ID not of this stream: live from now")
            async for cursor, ce in c.hub.session(listener, resume_from):
                if ce is None:
                    yield ServerSentEvent(id=cursor)
                else:
                    yield ServerSentEvent(
                        data=json.dumps(ce, ensure_ascii=False), event=ce["type"], id=cursor
                    )
        finally:
            await listening.__aexit__(None, None, None)

    return EventSourceResponse(events(), ping=int(c.sse_ping_s))
