"""Bearer JWT authentication and tenant authorisation, shared by every service.

A school sees only itself, a municipality only its schools, the region everything.
Development tokens come from ``shkala token`` (HS256 with the configured secret).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from shkala_contracts import Tenant
from shkala_runtime.problems import Problem
from shkala_runtime.settings import ServiceSettings


class Role(StrEnum):
    SCHOOL = "school"
    MUNICIPALITY = "municipality"
    REGION = "region"
    # Municipal staff with a duty in some directions (seed 002): their tenant is their
    # municipality's (a Principal keeps role=MUNICIPALITY and says the duty in ``duty``), so
    # every tenant check treats them as the municipality; plans narrows their writes.
    COORDINATOR = "coordinator"
    EXECUTOR = "executor"


DUTIES = (Role.COORDINATOR, Role.EXECUTOR)


class Principal(BaseModel):
    """Who calls: a role bound to a tenant (region, and municipality/school for narrower roles)."""

    model_config = ConfigDict(frozen=True)

    subject: str
    role: Role
    region: str
    municipality: str | None = None
    school: str | None = None
    duty: Role | None = None
    """coordinator or executor: a municipal official's part in ``directions``."""
    directions: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _duty_is_municipal_staff(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("role") in DUTIES:
            data = {**data, "duty": Role(data["role"]), "role": Role.MUNICIPALITY}
        return data

    def can_access(self, tenant: Tenant) -> bool:
        if tenant.region != self.region:
            return False
        if self.role is Role.REGION:
            return True
        if self.role is Role.MUNICIPALITY:
            return tenant.municipality == self.municipality
        return tenant.school is not None and tenant.school == self.school

    def require(self, tenant: Tenant) -> None:
        if not self.can_access(tenant):
            raise Problem(
                403,
                "Forbidden",
                f"a {self.role.value} token for "
                f"{self.school or self.municipality or self.region} cannot access "
                f"{tenant.school or tenant.municipality or tenant.region}",
                type="forbidden",
            )


def issue_token(
    settings: ServiceSettings,
    role: Role | str,
    *,
    region: str | None = None,
    municipality: str | None = None,
    school: str | None = None,
    subject: str = "dev",
    directions: tuple[str, ...] = (),
    ttl: dt.timedelta = dt.timedelta(hours=12),
) -> str:
    role = Role(role)
    if role is Role.MUNICIPALITY and not municipality:
        raise ValueError("a municipality token needs --municipality")
    if role in DUTIES and not (municipality and directions):
        raise ValueError(f"a {role.value} token needs --municipality and --directions")
    if role is Role.SCHOOL and not (school and municipality):
        raise ValueError("a school token needs --school and --municipality")
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": subject,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl,
        "role": role.value,
        "region": region or settings.region_id,
        "municipality": municipality,
        "school": school,
        "directions": list(directions) or None,
    }
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None},
        settings.jwt_secret.get_secret_value(),
        algorithm="HS256",
    )


def decode_token(settings: ServiceSettings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "role"]},
        )
        return Principal(
            subject=claims["sub"],
            role=claims["role"],
            region=claims["region"],
            municipality=claims.get("municipality"),
            school=claims.get("school"),
            directions=tuple(claims.get("directions") or ()),
        )
    except (jwt.PyJWTError, KeyError, ValidationError) as exc:
        raise Problem(
            401, "Unauthorized", f"bearer token rejected: {exc}", type="unauthorized"
        ) from exc


_bearer = HTTPBearer(auto_error=False, description="JWT from `shkala token`")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Problem(
            401, "Unauthorized", "send Authorization: Bearer <token>", type="unauthorized"
        )
    settings: ServiceSettings = request.app.state.settings
    return decode_token(settings, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
