"""What the plans routes share: the strict request body base, the dependencies they are
given (``Deps``, the templates), the version header of an answer, and the deny-by-default
gate for coordinator and executor tokens (``duty_guard``, ``duty_aware``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from shkala_plans.domain.model import Aggregate
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.templates import Template
from shkala_plans.service_layer.services import Deps
from shkala_runtime.auth import CurrentPrincipal


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def deps(request: Request) -> Deps:
    return request.app.state.plans_deps


def templates(request: Request) -> dict[str, Template]:
    return request.app.state.plans_templates


def region_of(request: Request) -> str:
    """The region this deployment serves (``SHKALA_REGION_ID``)."""
    return request.app.state.settings.region_id


DepsDep = Annotated[Deps, Depends(deps)]


def versioned(response: Response, agg: Aggregate) -> None:
    response.headers["ETag"] = f'"{agg.version}"'


# --------------------------------------------------------------------------- duty tokens

F = TypeVar("F", bound=Callable[..., object])
_DUTY_AWARE = "__shkala_duty_aware__"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def duty_aware(endpoint: F) -> F:
    """Marks a write route open to coordinator and executor tokens: the use case it calls
    checks what the caller's duty allows (``service_layer.duties``), or it changes nothing."""
    setattr(endpoint, _DUTY_AWARE, True)
    return endpoint


async def duty_guard(request: Request, who: CurrentPrincipal) -> None:
    """Deny by default: a coordinator or executor token writes only through the routes
    marked ``duty_aware``, so a new write route serves them only once its use case decides
    what their duty allows. Reads pass (tenant-checked by their use cases)."""
    if who.duty is None or request.method not in _WRITES:
        return
    if getattr(request.scope.get("endpoint"), _DUTY_AWARE, False):
        return
    route = getattr(request.scope.get("route"), "path", request.url.path)
    raise NotAllowed(
        f"a {who.duty.value} token cannot call {request.method} {route}: it changes no"
        " roadmap row, recommendation or measure of a direction"
    )
