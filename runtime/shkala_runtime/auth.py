"""Bearer JWT authentication and tenant authorisation, shared by every service.

A school sees only itself, a municipality only its schools, the region everything.
Development tokens come from ``shkala token`` (HS256 with the configured secret).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

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


ClaimId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
]


class Forbidden(Problem):
    """A principal may not act on a unit it named (403, ``urn:shkala:problem:forbidden``)."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(403, "Forbidden", detail, type="forbidden", **extensions)


class Principal(BaseModel):
    """Who calls: a role bound to a tenant (region, and municipality/school for narrower roles).

    A municipality principal always names its municipality, a school principal its school and
    that school's municipality; claims narrower than the role (a region token naming a
    school) are dropped, so a principal's scope is its role's and nothing else.
    """

    model_config = ConfigDict(frozen=True, strict=True)

    subject: str
    role: Role
    region: ClaimId
    municipality: ClaimId | None = None
    school: ClaimId | None = None
    duty: Role | None = None
    """coordinator or executor: a municipal official's part in ``directions``."""
    directions: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _scope_of_role(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if data.get("role") in DUTIES:
                # municipal staff with a duty: the municipality's tenant, the duty kept apart
                data = {**data, "duty": Role(data["role"]), "role": Role.MUNICIPALITY}
            role = data.get("role")
            if role in (Role.REGION, Role.REGION.value):
                data = {**data, "municipality": None, "school": None}
            elif role in (Role.MUNICIPALITY, Role.MUNICIPALITY.value):
                data = {**data, "school": None}
            if isinstance(role, str) and role in {r.value for r in Role}:
                data = {**data, "role": Role(role)}
        return data

    @model_validator(mode="after")
    def _claims_of_role(self) -> Principal:
        if self.role is Role.MUNICIPALITY and not self.municipality:
            raise ValueError("a municipality token must name its municipality")
        if self.role is Role.SCHOOL and not (self.school and self.municipality):
            raise ValueError("a school token must name its school and its municipality")
        return self

    @property
    def scope(self) -> str:
        """The unit the principal speaks for, as people read it: ``school sch1``."""
        return f"{self.role.value} {self.school or self.municipality or self.region}"

    def can_access(self, tenant: Tenant) -> bool:
        return refusal(self, (tenant,)) is None

    def require(self, tenant: Tenant) -> None:
        authorize(self, (tenant,))


def unit_name(unit: Tenant) -> str:
    if unit.school:
        return f"school {unit.school}"
    if unit.municipality:
        return f"municipality {unit.municipality}"
    return f"region {unit.region}"


def refusal(
    principal: Principal,
    units: Iterable[Tenant],
    *,
    roles: Collection[Role] | None = None,
    action: str = "access",
) -> str | None:
    """The one decision "may this principal act on these units": ``None`` when it may, else
    why not (the first unit refused). Every read and every write of every service asks it.

    A unit is a ``Tenant``: ``(region)`` the region itself, ``(region, m)`` a municipality,
    ``(region, m, s)`` a school in municipality ``m`` as the registry knows it. The region
    acts on everything in its region; a municipality on itself and its schools; a school on
    itself only. ``roles`` narrows who may act at all (renaming a municipality: the region).
    """
    if roles is not None and principal.role not in roles:
        allowed = " or ".join(sorted(r.value for r in roles))
        return f"only a {allowed} token may {action}; this is a {principal.scope} token"
    for unit in units:
        if unit.region != principal.region:
            ok = False
        elif principal.role is Role.REGION:
            ok = True
        elif principal.role is Role.MUNICIPALITY:
            ok = unit.municipality == principal.municipality
        else:
            ok = (
                unit.school is not None
                and unit.school == principal.school
                and unit.municipality in (None, principal.municipality)
            )
        if not ok:
            return f"a {principal.scope} token cannot {action} {unit_name(unit)}"
    return None


def authorize(
    principal: Principal,
    units: Iterable[Tenant],
    *,
    roles: Collection[Role] | None = None,
    action: str = "access",
) -> None:
    """Raise ``Forbidden`` unless ``refusal`` allows every unit."""
    if why := refusal(principal, units, roles=roles, action=action):
        raise Forbidden(why)


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
            options={"require": ["exp", "sub", "role", "region"]},
        )
        return Principal(
            subject=claims["sub"],
            role=claims["role"],
            region=claims["region"],
            municipality=claims.get("municipality"),
            school=claims.get("school"),
            directions=tuple(claims.get("directions") or ()),
        )
    except ValidationError as exc:
        # the claims are signed but do not make a principal (unknown role, a municipality
        # token without its municipality…): refused whoever signed them
        reasons = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'claims'}: {e['msg']}" for e in exc.errors()
        )
        raise Problem(
            401, "Unauthorized", f"bearer token rejected: {reasons}", type="unauthorized"
        ) from exc
    except (jwt.PyJWTError, KeyError, TypeError) as exc:
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
