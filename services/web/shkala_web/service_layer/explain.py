"""«Как посчитано» page: one indicator value of a school with the facts behind it, from the
indicators service's explanation (its tenant rules apply: a school sees only itself)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shkala_web.domain.explain import explanation_page
from shkala_web.service_layer.pages import Reader


async def explain_page(api: Reader, school: str, indicator: str, period: str) -> dict[str, Any]:
    body = await api.get(
        "indicators",
        f"/schools/{quote(school, safe='')}/indicators/{quote(indicator, safe='')}/explain",
        period=period,
    )
    return explanation_page(body) | {"freshness": body.get("freshness")}
