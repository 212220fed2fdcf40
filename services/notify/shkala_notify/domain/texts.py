"""Short Russian sentences for people (dashboards, e-mail digests), one per event kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

NameOf = Callable[[str], str]

_DIRECTIONS = {
    "assessment": "оценка качества подготовки обучающихся",
    "low_results": "работа со ШНОР и ШНСУ",
    "talents": "выявление и поддержка талантов",
    "career": "самоопределение и профориентация",
    "objectivity": "объективность процедур оценки",
    "principals": "эффективность руководителей",
    "teacher_development": "ДПО педагогических работников",
    "methodical_work": "методическая работа",
    "upbringing": "воспитание и социализация",
}


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}".replace(".", ",")
    return str(value)


def _where(ce: Mapping[str, Any], name_of: NameOf) -> str:
    if school := ce.get("school"):
        return f"Школа {name_of(school)}"
    if mun := ce.get("municipality"):
        return f"Муниципалитет {name_of(mun)}"
    return f"Регион {name_of(ce.get('region') or '')}"


def describe(ce: Mapping[str, Any], name_of: NameOf = lambda x: x) -> str:
    """One sentence for a CloudEvent (structured form: attributes + ``data``)."""
    d: Mapping[str, Any] = ce.get("data") or {}
    who = _where(ce, name_of)
    t = ce.get("type", "")
    period = d.get("period")
    by_period = f" по итогам {period} учебного года" if period else ""
    if t == "ru.shkala.indicators.list_membership_changed.v1":
        verb = "вошла в список" if d.get("change") == "entered" else "вышла из списка"
        if not ce.get("school"):
            verb = "вошёл в список" if d.get("change") == "entered" else "вышел из списка"
        return f"{who} {verb} {d.get('risk_list')}{by_period}"
    if t == "ru.shkala.indicators.value_changed.v1":
        crossing = {
            "into_risk": ": значение перешло в зону риска",
            "out_of_risk": ": значение вышло из зоны риска",
        }.get(d.get("threshold_crossed") or "", "")
        return (
            f"{who}: показатель {d.get('indicator_id')} за {period} учебный год изменился "
            f"с {_fmt(d.get('old_value'))} до {_fmt(d.get('new_value'))}{crossing}"
        )
    if t == "ru.shkala.indicators.objectivity_flag_raised.v1":
        subject = f" по предмету «{d['subject']}»" if d.get("subject") else ""
        return (
            f"{who}: признак необъективности результатов {d.get('procedure')}{subject} "
            f"за {period} учебный год (показатель {d.get('indicator_id')}: "
            f"{_fmt(d.get('value'))} при пороге {_fmt(d.get('threshold'))})"
        )
    if t == "ru.shkala.notify.endpoint_disabled.v1":
        return (
            f"Адрес доставки {d.get('target_host')} подписки {d.get('subscription_id')} "
            f"отключён: {d.get('reason')}"
        )
    if t == "ru.shkala.notify.endpoint_enabled.v1":
        return (
            f"Адрес доставки {d.get('target_host')} подписки {d.get('subscription_id')} "
            "снова включён"
        )
    # Plans events and anything newer: a generic but still readable sentence.
    direction = _DIRECTIONS.get(d.get("direction") or "")
    about = f" (направление: {direction})" if direction else ""
    kind = t.removeprefix("ru.shkala.").rsplit(".", 1)[0]
    return f"{who}: событие «{kind}»{about}{by_period}"
