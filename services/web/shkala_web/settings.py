"""Settings of the web workspace (environment variables, prefix ``SHKALA_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shkala_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "web"
    http_port: int = 8005

    ingest_url: str = Field(default="http://127.0.0.1:8001", description="ingest's base URL")
    indicators_url: str = Field(default="http://127.0.0.1:8002", description="indicators' URL")
    plans_url: str = Field(default="http://127.0.0.1:8003", description="plans' base URL")
    notify_url: str = Field(default="http://127.0.0.1:8004", description="notify's base URL")
    web_upstream_timeout_s: float = Field(default=30.0, description="Per call to a service")

    web_session_secret: SecretStr = Field(
        default=SecretStr("dev-only-web-session-secret-change-me"),
        description="Signs the session cookie; set it in any real deployment",
    )
    web_session_max_age_s: int = Field(default=12 * 3600, description="Session lifetime")
    web_cookie_secure: bool = Field(
        default=False, description="Send the session cookie over HTTPS only (true in deployment)"
    )
    web_dev_login: bool = Field(
        default=True,
        description="Development sign-in (pick a role and unit); false in deployment",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer, e.g. https://sso.example.ru/realms/shkala (Keycloak)",
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid profile"
    oidc_role_claim: str = Field(default="shkala_role", description="region|municipality|school")
    oidc_municipality_claim: str = "shkala_municipality"
    oidc_school_claim: str = "shkala_school"

    web_default_period: str | None = Field(
        default=None, description="Academic year the pages open with; default: newest with data"
    )
    web_due_soon_days: int = Field(default=14, description="A roadmap row is «скоро срок» within")
    web_public_min_group: int = Field(
        default=10,
        description="Public page: a value over fewer people than this is not shown",
    )
    web_assets_dir: str | None = Field(
        default=None,
        description="Where npm put echarts and htmx (default services/web/node_modules)",
    )

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)
