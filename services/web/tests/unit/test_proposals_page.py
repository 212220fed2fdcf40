"""The measures page shows plans' proposals of targeted recommendations with accept / dismiss
forms (CSRF-protected); the forms reach plans with the user's token and what was typed; a
school user sees no proposals (the municipality decides them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shkala_web.bootstrap import build_app
from shkala_web.settings import Settings

from .test_app import UNITS, _claims

PID = "proposal:s1~2025-26~abcdef012345"
PROPOSAL = {
    "id": PID,
    "school_id": "s1",
    "municipality_id": "m1",
    "period": "2025/26",
    "direction": "low_results",
    "level": "school",
    "problem": {
        "kind": "indicator",
        "key": "vpr_mark2_share_math",
        "ru": "показатель в зоне риска",
    },
    "risk_groups": ["ШНОР"],
    "indicator_id": "vpr_mark2_share_math",
    "measure": {"key": "vpr-element-analysis", "source": "seed 000_bfba15c98f14acb8.txt: п. 5.3"},
    "text": "Провести поэлементный анализ результатов ВПР. Основание: 31 из 100.",
    "cited": [],
    "status": "pending",
    "version": 0,
}


def _measure(mid: str, mun: str, title: str) -> dict[str, Any]:
    return {
        "id": mid, "version": 1, "municipality_id": mun, "title": title,
        "direction": "low_results", "target_schools": ["s1"], "indicators": [],
        "baseline_period": "2024/25", "evaluation_period": "2025/26", "evaluation": None,
    }  # fmt: skip


MEASURES = [
    _measure("measure:a", "m1", "Наставничество в Липовце"),
    _measure("measure:b", "m2", "Методический десант в другом округе"),
]


@pytest.fixture
def site() -> Iterator[tuple[TestClient, list[tuple[str, str, Any, dict[str, Any]]]]]:
    calls: list[tuple[str, str, Any, dict[str, Any]]] = []

    def services(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        calls.append((request.method, path, body, _claims(request.headers["authorization"])))
        if path == "/org-units":
            return httpx.Response(200, json=UNITS)
        if path == "/catalogue":
            return httpx.Response(200, json={"indicators": [], "lists": []})
        if path == "/measures" and request.method == "GET":
            # plans answers within the token's tenant, narrowed by municipality_id when asked
            mun = request.url.params.get("municipality_id")
            who = _claims(request.headers["authorization"])
            scope = mun or who.get("municipality")
            shown = [m for m in MEASURES if scope in (None, m["municipality_id"])]
            full = request.url.params.get("full") == "true"
            return httpx.Response(200, json=shown if full else [{"id": m["id"]} for m in shown])
        if path == "/recommendations":
            return httpx.Response(200, json=[])
        if path == "/proposals":
            return httpx.Response(200, json={"proposals": [PROPOSAL], "incomplete": []})
        if path.startswith("/proposals/") and request.method == "POST":
            return httpx.Response(201, json={"status": "accepted"})
        return httpx.Response(404, json={"detail": path})

    app = build_app(Settings(region_id="r", web_default_period="2025/26"))
    up = app.state.upstreams
    transport = httpx.MockTransport(services)
    up.clients = {n: httpx.AsyncClient(base_url=u, transport=transport) for n, u in up.urls.items()}
    with TestClient(app, follow_redirects=False) as c:
        yield c, calls


def sign_in(c: TestClient, **who: str) -> str:
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login/dev", data={**who, "csrf": token.group(1)})
    assert r.status_code == 303, r.text
    fresh = re.search(r'name="csrf" value="([^"]+)"', c.get("/measures").text)
    assert fresh
    return fresh.group(1)


def test_the_measures_page_lists_pending_proposals_with_accept_and_dismiss_forms(site) -> None:
    c, calls = site
    csrf = sign_in(c, role="municipality", municipality="m1")
    page = c.get("/measures").text
    assert "Провести поэлементный анализ результатов ВПР. Основание: 31 из 100." in page
    assert "seed 000_bfba15c98f14acb8.txt: п. 5.3" in page
    assert f'action="/proposals/{PID}/accept"' in page
    assert f'action="/proposals/{PID}/dismiss"' in page
    asked = [x for x in calls if x[1] == "/proposals"]
    assert asked

    r = c.post(f"/proposals/{PID}/accept", data={"text": "Правка", "deadline": "до 01.03.2026"})
    assert r.status_code == 403  # no CSRF token
    r = c.post(
        f"/proposals/{PID}/accept",
        data={"csrf": csrf, "text": "Правка", "deadline": "до 01.03.2026", "school": "s1"},
    )
    assert (r.status_code, r.headers["location"]) == (
        303,
        "/measures?school=s1&accepted=1#proposals",
    )
    method, path, body, claims = calls[-1]
    assert (method, path) == ("POST", f"/proposals/{PID}/accept")
    assert body == {"text": "Правка", "deadline": "до 01.03.2026"}
    assert claims["municipality"] == "m1"

    r = c.post(f"/proposals/{PID}/dismiss", data={"csrf": csrf, "reason": "Уже в плане"})
    assert r.status_code == 303
    assert calls[-1][1:3] == (f"/proposals/{PID}/dismiss", {"reason": "Уже в плане"})


def test_a_school_user_sees_no_proposals(site) -> None:
    c, calls = site
    sign_in(c, role="school", school="s1")
    page = c.get("/measures").text
    assert "Провести поэлементный анализ" not in page
    assert not [x for x in calls if x[1] == "/proposals"]


def test_the_region_sees_every_measure_of_the_region_a_municipality_its_own(site) -> None:
    c, calls = site
    sign_in(c, role="region")
    page = c.get("/measures").text
    assert "Наставничество в Липовце" in page
    assert "Методический десант в другом округе" in page
    asked = [x for x in calls if x[1] == "/measures"]
    assert len(asked) == 2  # sign_in's page and this one: one answer each, not one per municipality
    c.post("/logout", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1)})
    sign_in(c, role="municipality", municipality="m1")
    page = c.get("/measures").text
    assert "Наставничество в Липовце" in page
    assert "Методический десант" not in page
