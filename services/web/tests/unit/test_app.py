"""The web app at its edge, the services replaced by an in-memory HTTP transport: sign-in,
session cookie, CSRF, the 403 page, the report API's authentication, OIDC configuration."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shkala_runtime.auth import Role, issue_token
from shkala_web.adapters.oidc import ClaimsError, make_oauth, principal_from_claims
from shkala_web.bootstrap import build_app
from shkala_web.settings import Settings

UNITS = {
    "units": [
        {"id": "r", "kind": "region", "name": "Область"},
        {"id": "m1", "kind": "municipality", "name": "г. Липовец", "region_id": "r"},
        {
            "id": "s1",
            "kind": "school",
            "name": "СОШ № 1",
            "municipality_id": "m1",
            "region_id": "r",
        },
        {
            "id": "s2",
            "kind": "school",
            "name": "СОШ № 2",
            "municipality_id": "m1",
            "region_id": "r",
        },
    ]
}


def fake_services(request: httpx.Request) -> httpx.Response:
    """Just enough of indicators: the registry, and a school card only for its own school."""
    path = request.url.path
    token = request.headers.get("authorization", "")
    if path == "/org-units":
        return httpx.Response(200, json=UNITS)
    if path == "/catalogue":
        return httpx.Response(200, json={"indicators": [], "lists": []})
    if path == "/schools/s2" and "s1" in _claims(token).get("school", ""):
        return httpx.Response(
            403, json={"status": 403, "detail": "a school token for s1 cannot access s2"}
        )
    if path.endswith("/vpr-tasks"):
        return httpx.Response(200, json={"tasks": [], "deficits": [], "threshold": 50})
    if path.startswith("/schools/"):
        return httpx.Response(
            200, json={"school": {"school_id": "s1"}, "indicators": [], "lists": []}
        )
    return httpx.Response(404, json={"detail": path})


def _claims(header: str) -> dict[str, Any]:
    import base64

    if not header.startswith("Bearer "):
        return {}
    payload = header[7:].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = Settings(region_id="r", web_default_period="2025/26")
    app = build_app(settings)
    transport = httpx.MockTransport(fake_services)
    up = app.state.upstreams
    up.clients = {n: httpx.AsyncClient(base_url=u, transport=transport) for n, u in up.urls.items()}
    with TestClient(app, follow_redirects=False) as c:
        yield c


def csrf_of(client: TestClient, path: str = "/login") -> str:
    html = client.get(path).text
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has a CSRF field"
    return found.group(1)


def test_the_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    r = client.get("/login")
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "г. Липовец" in r.text
    assert "СОШ № 2" in r.text


def test_forms_that_change_something_need_the_csrf_token(client: TestClient) -> None:
    r = client.post("/login/dev", data={"role": "region"})
    assert r.status_code == 403
    assert "CSRF" in r.text
    token = csrf_of(client)
    r = client.post(
        "/login/dev", data={"role": "municipality", "municipality": "m1", "csrf": token}
    )
    assert (r.status_code, r.headers["location"]) == (303, "/mo/m1")
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    fresh = csrf_of(client, "/login")
    assert fresh != token  # signing in starts a new session: a new token
    assert client.post("/logout", data={"csrf": fresh}).status_code == 303
    assert client.get("/roadmaps").headers["location"].startswith("/login")


def test_an_unknown_unit_cannot_sign_in(client: TestClient) -> None:
    r = client.post("/login/dev", data={"role": "school", "school": "s9", "csrf": csrf_of(client)})
    assert r.status_code == 422


def test_a_school_user_gets_a_403_page_for_another_school(client: TestClient) -> None:
    assert client.get("/login/dev/school?school=s1").headers["location"] == "/schools/s1"
    r = client.get("/schools/s2")
    assert r.status_code == 403
    assert "Нет доступа" in r.text


def test_the_report_api_needs_a_session_or_a_bearer_token(client: TestClient) -> None:
    r = client.get("/reports/municipalities/m1/note.docx")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    bad = client.get("/reports/municipalities/m1/note.docx", headers={"Authorization": "Bearer x"})
    assert bad.status_code == 401


def test_oidc_is_configured_from_settings_and_claims_map_to_a_role() -> None:
    assert make_oauth(Settings()) is None
    s = Settings(
        region_id="r",
        oidc_issuer="https://sso.example.ru/realms/shkala",
        oidc_client_id="shkala-web",
        oidc_client_secret="x",
    )
    oauth = make_oauth(s)
    assert oauth is not None
    assert oauth.sso.client_kwargs["code_challenge_method"] == "S256"
    assert oauth.sso._server_metadata_url == (
        "https://sso.example.ru/realms/shkala/.well-known/openid-configuration"
    )
    p = principal_from_claims(
        s, {"sub": "u1", "shkala_role": "municipality", "shkala_municipality": "m1"}
    )
    assert (p.role, p.municipality, p.region) == (Role.MUNICIPALITY, "m1", "r")
    with pytest.raises(ClaimsError):
        principal_from_claims(
            s, {"sub": "u1", "shkala_role": "school", "shkala_municipality": "m1"}
        )
    with pytest.raises(ClaimsError):
        principal_from_claims(s, {"sub": "u1"})


def test_a_deployment_refuses_the_development_session_key() -> None:
    with pytest.raises(SystemExit):
        build_app(Settings(web_dev_login=False))
    build_app(Settings(web_dev_login=False, web_session_secret="k" * 40))


def test_dev_token_is_the_services_token() -> None:
    token = issue_token(Settings(region_id="r"), Role.REGION)
    assert _claims("Bearer " + token)["role"] == "region"


def test_uploads_pass_through_and_later_reads_wait_for_their_log_positions() -> None:
    seen: list[httpx.Request] = []

    def services(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/imports/school-context":
            assert b"sch-1;2025/26" in request.content  # the file went to ingest as it was
            return httpx.Response(
                202,
                json={
                    "import_id": "i1",
                    "status": "completed",
                    "progress": {
                        "rows_read": 1,
                        "rows_validated": 1,
                        "rows_published": 1,
                        "rows_unchanged": 0,
                    },
                    "log_positions": [{"topic": "f", "partition": 1, "offset": 41}],
                },
            )
        return fake_services(request)

    app = build_app(Settings(region_id="r", web_default_period="2025/26"))
    up = app.state.upstreams
    transport = httpx.MockTransport(services)
    up.clients = {n: httpx.AsyncClient(base_url=u, transport=transport) for n, u in up.urls.items()}
    with TestClient(app, follow_redirects=False) as c:
        c.get("/login/dev/school?school=s1")
        token = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/uploads").text)
        assert token
        files = {"file": ("c.csv", b"sch-1;2025/26\n", "text/csv")}
        refused = c.post("/uploads/school-context", files=files)
        assert refused.status_code == 403  # no CSRF header
        r = c.post("/uploads/school-context", files=files, headers={"X-CSRF-Token": token.group(1)})
        assert r.status_code == 200
        assert 'id="published">1<' in r.text
        seen.clear()
        c.get("/schools/s1")
        card = next(q for q in seen if q.url.path == "/schools/s1")
        assert card.url.params.get_list("after") == ["f:1:41"]
        assert card.url.params["wait_ms"] == "2000"


def test_the_live_feed_relays_notify_with_the_users_token() -> None:
    def services(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/events/stream":
            assert _claims(request.headers["authorization"])["municipality"] == "m1"
            assert request.url.params["municipalities"] == "m1"
            body = b'event: ru.shkala.indicators.value_changed.v1\nid: e1\ndata: {"id": "e1"}\n\n'
            return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
        return fake_services(request)

    app = build_app(Settings(region_id="r", web_default_period="2025/26"))
    up = app.state.upstreams
    transport = httpx.MockTransport(services)
    up.clients = {n: httpx.AsyncClient(base_url=u, transport=transport) for n, u in up.urls.items()}
    with TestClient(app, follow_redirects=False) as c:
        c.get("/login/dev/municipality?municipality=m1")
        r = c.get("/live?municipalities=m1")
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "event: ru.shkala.indicators.value_changed.v1" in r.text


def test_log_positions_in_ingest_answer_shape_become_valid_after_positions() -> None:
    """Ingest answers ``{"<topic>": {"<partition>": offset}}`` (one transaction's last
    offsets); each becomes ``topic:partition:offset``, the form indicators' ``after`` takes:
    a malformed one made every later indicators read of the session a 422."""
    from shkala_web.entrypoints.data import _positions

    nested = {"log_positions": {"p.shkala.facts.school_context.v1": {"0": 5, "1": 7}}}
    assert _positions(nested) == [
        "p.shkala.facts.school_context.v1:0:5",
        "p.shkala.facts.school_context.v1:1:7",
    ]
    assert _positions({"log_positions": {"t.v1|2": 9}}) == ["t.v1:2:9"]
    assert _positions({"log_positions": [{"topic": "f", "partition": 1, "offset": 41}]}) == [
        "f:1:41"
    ]
    assert _positions({"log_positions": ["t:x:1", {"topic": "t"}, 3]}) == []
