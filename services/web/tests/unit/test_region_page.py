"""The region page shows approved-only figures beside the live ones and how many schools the
approved figures rest on (issue 17), in Russian with a decimal comma; the services replaced
by an in-memory HTTP transport that answers ``basis=approved`` differently from live."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from shkala_web.bootstrap import build_app
from shkala_web.settings import Settings

from .test_app import UNITS

CAT = {
    "indicators": [{"id": "vpr2", "name": {"ru": "Доля «2» ВПР"}, "unit": "percent"}],
    "lists": [{"list": "ШНОР", "indicators": ["vpr2"], "min_count": 1, "always": []}],
}


def value(v: float, num: float, den: float) -> dict[str, object]:
    return {"indicator_id": "vpr2", "value": v, "numerator": num, "denominator": den}


LIVE = {
    "basis": "live",
    "region": {"vpr2": value(62.5, 5, 8)},
    "municipalities": {"m1": {"vpr2": value(62.5, 5, 8)}},
    "list_counts": {"ШНОР": {"m1": 1}},
}
APPROVED = {
    "basis": "approved",
    "region": {"vpr2": value(25.0, 1, 4)},
    "municipalities": {"m1": {"vpr2": value(25.0, 1, 4)}},
    "by_municipality": {"m1": {"counted": {"schools": 1, "of": 2, "left_out": []}}},
    "counted": {"schools": 1, "of": 2, "left_out": []},
    "list_counts": {},
}


ASKED: list[list[str]] = []
"""The ``indicator`` parameters of each region summary asked for."""


def services(request: httpx.Request) -> httpx.Response:
    path, q = request.url.path, request.url.params
    if path == "/org-units":
        return httpx.Response(200, json=UNITS)
    if path == "/catalogue":
        return httpx.Response(200, json=CAT)
    if path == "/region/summary":
        ASKED.append(q.get_list("indicator"))
        if q.get("period") != "2025/26":
            return httpx.Response(200, json={"region": {}, "municipalities": {}, "list_counts": {}})
        return httpx.Response(200, json=APPROVED if q.get("basis") == "approved" else LIVE)
    return httpx.Response(404, json={"detail": path})


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = build_app(Settings(region_id="r", web_default_period="2025/26"))
    transport = httpx.MockTransport(services)
    up = app.state.upstreams
    up.clients = {n: httpx.AsyncClient(base_url=u, transport=transport) for n, u in up.urls.items()}
    with TestClient(app, follow_redirects=False) as c:
        yield c


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u00a0", " ")


def test_approved_figures_beside_live_ones_with_the_count_of_approved_schools(
    client: TestClient,
) -> None:
    assert client.get("/login/dev/region").status_code == 303
    r = client.get("/region?period=2025/26")
    assert r.status_code == 200, r.text
    page = text(r.text)
    assert "Данные утверждены муниципалитетами у 1 из 2 ОО" in page
    row = re.search(r"г\. Липовец(.*?)Регион", page)
    assert row, page
    assert "1 из 2" in row.group(1)
    assert "62,5 %" in row.group(1)  # live
    assert "утв. 25,0 %" in row.group(1)  # approved only, decimal comma
    total = re.search(r"Регион 1 из 2 (.*)", page)  # the region's own row
    assert total, page
    assert "62,5 %" in total.group(1)
    assert "утв. 25,0 %" in total.group(1)


def test_the_summaries_are_asked_for_the_pages_columns_only(client: TestClient) -> None:
    """The region summary of the whole catalogue was ~800 KB on the typical region; the page
    shows the columns the list rules look at."""
    ASKED.clear()
    client.get("/login/dev/region")
    assert client.get("/region?period=2025/26").status_code == 200
    assert len(ASKED) == 3  # live, approved, the year before
    assert all(a == ["vpr2"] for a in ASKED)
