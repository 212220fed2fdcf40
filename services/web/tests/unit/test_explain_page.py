"""«Как посчитано» in the workspace, the indicators service replaced by an in-memory HTTP
transport: the card links each value to its page, and the page shows the rule, the
numerator and denominator and every fact by natural key and pseudonym, in Russian."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shkala_web.bootstrap import build_app
from shkala_web.domain.explain import explanation_page
from shkala_web.settings import Settings

UNITS = {
    "units": [
        {"id": "r", "kind": "region", "name": "Область"},
        {"id": "m1", "kind": "municipality", "name": "г. Липовец", "region_id": "r"},
        {"id": "s1", "kind": "school", "name": "СОШ № 1", "municipality_id": "m1",
         "region_id": "r"},
    ]
}  # fmt: skip
P = "2025/26"


def result(student: str, mark: int, num: int) -> dict[str, Any]:
    return {
        "what": "результат",
        "key": {"fact": "результат оценочной процедуры", "year": P, "procedure": "ВПР",
                "subject": "математика", "grade": 5, "class_label": "5А", "student": student},
        "values": {"mark": mark},
        "numerator": num,
        "denominator": 1,
    }  # fmt: skip


EXPLAINED = {
    "school_id": "s1",
    "period": P,
    "periods": [P],
    "definition_version": "2026.1",
    "rule": {
        "indicator_id": "vpr_mark2_share_math",
        "name": {"ru": "Доля отметок «2» ВПР за год, математика (5, 8 кл.)"},
        "numerator_text": "результаты ВПР по математике с отметкой «2»",
        "denominator_text": "результаты ВПР по математике (написавшие работу)",
        "unit": "percent",
        "threshold": {"risk_if": "above", "value": 20.0},
        "parameters": {"vpr_grades": [5, 8]},
        "sources": {"formula": "regional setting, not in the seeds"},
    },
    "indicator_id": "vpr_mark2_share_math",
    "kind": "mark2_share",
    "value": 50.0,
    "numerator": 1.0,
    "denominator": 2.0,
    "at_risk": True,
    "itemised": True,
    "note": "",
    "how": "",
    "statistic": None,
    "in_numerator": [result("p" + "a" * 24, 2, 1)],
    "in_denominator_only": [result("p" + "b" * 24, 4, 0)],
    "considered_not_counted": [],
    "stored": {"numerator": 1.0, "denominator": 2.0, "value": 50.0},
    "matches_stored": True,
    "freshness": {},
}
CARD = {
    "school": {"school_id": "s1", "name": "СОШ № 1", "municipality_id": "m1"},
    "indicators": [
        {
            "id": "vpr_mark2_share_math",
            "direction": "low_results",
            "name": {"ru": "Доля «2»"},
            "unit": "percent",
            "better": "down",
            "threshold": {"risk_if": "above", "value": 20.0},
            "trend": [{"period": P, "value": 50.0, "numerator": 1, "denominator": 2,
                       "at_risk": True}],
        }
    ],
    "lists": [],
}  # fmt: skip


def fake_services(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/org-units":
        return httpx.Response(200, json=UNITS)
    if path == "/catalogue":
        return httpx.Response(200, json={"indicators": CARD["indicators"], "lists": []})
    if path == "/schools/s1/indicators/vpr_mark2_share_math/explain":
        assert request.url.params["period"] == P
        return httpx.Response(200, json=EXPLAINED)
    if path.endswith("/explain"):
        return httpx.Response(404, json={"status": 404, "detail": f"no {path}"})
    if path.endswith("/vpr-tasks"):
        return httpx.Response(200, json={"tasks": [], "deficits": [], "threshold": 50})
    if path == "/schools/s1":
        return httpx.Response(200, json=CARD)
    return httpx.Response(404, json={"detail": path})


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = build_app(Settings(region_id="r", web_default_period=P))
    transport = httpx.MockTransport(fake_services)
    up = app.state.upstreams
    up.clients = {n: httpx.AsyncClient(base_url=u, transport=transport) for n, u in up.urls.items()}
    with TestClient(app, follow_redirects=False) as c:
        c.get("/login/dev/school?school=s1")
        yield c


def test_the_card_links_each_value_to_how_it_is_counted(client: TestClient) -> None:
    html = client.get(f"/schools/s1?period={P}").text
    assert f'href="/schools/s1/indicators/vpr_mark2_share_math/explain?period={P}"' in html


def test_the_page_shows_rule_figures_and_facts_by_pseudonym(client: TestClient) -> None:
    r = client.get(f"/schools/s1/indicators/vpr_mark2_share_math/explain?period={P}")
    assert r.status_code == 200, r.text
    html = r.text
    assert "Как посчитано" in html
    assert "результаты ВПР по математике с отметкой «2»" in html
    assert "версия определений 2026.1" in html
    assert "Учтено в числителе" in html
    assert "Учтено только в знаменателе" in html
    assert "Обучающийся (псевдоним)" in html
    assert "p" + "a" * 24 in html
    assert "p" + "b" * 24 in html
    assert "5А" in html
    assert "риск, если выше 20" in html


def test_an_unknown_indicator_is_an_error_page_not_a_crash(client: TestClient) -> None:
    r = client.get(f"/schools/s1/indicators/nope/explain?period={P}")
    assert r.status_code == 404


def test_a_value_not_itemised_says_so() -> None:
    body = EXPLAINED | {
        "itemised": False,
        "note": "для вида показателя 'x' нет разбора по фактам",
        "in_numerator": [],
        "in_denominator_only": [],
    }
    page = explanation_page(body)
    assert page["itemised"] is False
    assert page["parts"] == []
    assert "нет разбора" in page["note"]


def test_cells_in_russian() -> None:
    page = explanation_page(EXPLAINED)
    [num, den] = page["parts"]
    assert num["headers"] == ["Учебный год", "Процедура", "Предмет", "Параллель", "Класс",
                              "Обучающийся (псевдоним)", "Отметка"]  # fmt: skip
    assert num["rows"][0]["cells"][-1] == "2"
    assert den["count"] == 1
