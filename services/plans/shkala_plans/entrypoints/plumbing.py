"""What the plans routes share: the strict request body base, the dependencies they are
given (``Deps``, the templates) and the version header of an answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from shkala_plans.domain.model import Aggregate
from shkala_plans.domain.templates import Template
from shkala_plans.service_layer.services import Deps


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
