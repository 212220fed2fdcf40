"""OpenID Connect sign-in (Keycloak or any compliant provider) through Authlib.

The provider authenticates the person; their role and unit come from claims of the ID token
(``shkala_role``, ``shkala_municipality``, ``shkala_school`` by default: Keycloak user
attributes mapped into the token by a client scope). The workspace then issues the bearer
token the services verify, so the services keep one token format.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.starlette_client import OAuth

from shkala_runtime.auth import Principal, Role
from shkala_web.settings import Settings


def make_oauth(settings: Settings) -> OAuth | None:
    if not settings.oidc_enabled:
        return None
    oauth = OAuth()
    issuer = (settings.oidc_issuer or "").rstrip("/")
    oauth.register(
        name="sso",
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=(
            settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
        ),
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"},
    )
    return oauth


class ClaimsError(ValueError):
    pass


def principal_from_claims(settings: Settings, claims: dict[str, Any]) -> Principal:
    """The person's role and unit from the provider's claims; refuse what does not fit."""
    role = claims.get(settings.oidc_role_claim)
    if isinstance(role, list):
        role = role[0] if role else None
    try:
        r = Role(str(role))
    except ValueError as exc:
        raise ClaimsError(
            f"в учётной записи нет роли ({settings.oidc_role_claim}: region|municipality|school)"
        ) from exc
    mun = claims.get(settings.oidc_municipality_claim)
    school = claims.get(settings.oidc_school_claim)
    if r is Role.MUNICIPALITY and not mun:
        raise ClaimsError(f"для роли муниципалитета нужен {settings.oidc_municipality_claim}")
    if r is Role.SCHOOL and not (mun and school):
        raise ClaimsError(
            f"для роли школы нужны {settings.oidc_municipality_claim} "
            f"и {settings.oidc_school_claim}"
        )
    return Principal(
        subject=str(claims.get("sub") or "oidc"),
        role=r,
        region=settings.region_id,
        municipality=str(mun) if mun and r is not Role.REGION else None,
        school=str(school) if school and r is Role.SCHOOL else None,
    )
