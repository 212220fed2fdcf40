"""An in-memory stand-in for the four services' APIs: canned answers by (service, path)."""

from __future__ import annotations

from typing import Any

from shkala_web.adapters.api import UpstreamError


class FakeReader:
    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.sent: list[tuple[str, str, str, Any]] = []

    async def get(self, service: str, path: str, **params: Any) -> Any:
        self.calls.append((service, path, params))
        key = (service, path)
        if key not in self.answers:
            raise UpstreamError(service, 404, {"detail": f"no {path}"})
        answer = self.answers[key]
        if isinstance(answer, UpstreamError):
            raise answer
        return answer(params) if callable(answer) else answer

    async def send(self, service: str, method: str, path: str, body: Any = None) -> Any:
        self.sent.append((service, method, path, body))
        return {"id": "x", **(body or {})}


def indicator(
    id_: str,
    name: str,
    unit: str,
    risk_if: str,
    threshold: float,
    trend: list[tuple[str, float, float, float, bool]],
) -> dict[str, Any]:
    """A school-card indicator with its trend [(period, value, numerator, denominator, at_risk)]."""
    series = [
        {"period": p, "value": v, "numerator": n, "denominator": d, "at_risk": r}
        for p, v, n, d, r in trend
    ]
    return {
        "id": id_,
        "direction": "low_results",
        "name": {"ru": name},
        "unit": unit,
        "better": "down" if risk_if == "above" else "up",
        "threshold": {"risk_if": risk_if, "value": threshold},
        "latest": series[-1] if series else None,
        "at_risk": bool(series and series[-1]["at_risk"]),
        "trend": series,
    }
