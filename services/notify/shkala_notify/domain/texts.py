"""Short Russian sentences for people (dashboards, e-mail digests), one per event kind."""

from __future__ import annotations

import datetime as dt
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
    if t.startswith("ru.shkala.plans."):
        sentence = _plans(t.removeprefix("ru.shkala.plans.").rsplit(".", 1)[0], ce, d, name_of)
        if sentence:
            return sentence
    # Anything newer: a generic but still readable sentence.
    direction = _DIRECTIONS.get(d.get("direction") or "")
    about = f" (направление: {direction})" if direction else ""
    kind = t.removeprefix("ru.shkala.").rsplit(".", 1)[0]
    return f"{who}: событие «{kind}»{about}{by_period}"


# --------------------------------------------------------------------------- plans events

_ROW_STATUS = {
    "planned": "запланировано",
    "in_progress": "выполняется",
    "done": "выполнено",
    "cancelled": "отменено",
}
_RECOMMENDATION_STATUS = {
    "issued": "выдана",
    "accepted": "принята к исполнению",
    "in_progress": "выполняется",
    "done": "выполнена",
    "withdrawn": "отозвана",
}
_MEASURE_STATUS = {
    "planned": "запланирована",
    "running": "реализуется",
    "finished": "завершена",
    "evaluated": "эффективность оценена",
}
_VERDICT = {
    "effective": "эффективна",
    "partially_effective": "частично эффективна",
    "not_effective": "неэффективна",
}
_DUTY = {"coordinator": "координатор", "executor": "ответственный исполнитель"}


def _date(value: Any) -> str:
    """dd.mm.yyyy of an ISO date or date-time; the text as given when it is neither."""
    if not value:
        return "—"
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10]).strftime("%d.%m.%Y")
    except ValueError:
        return text


def _quote(text: Any, limit: int = 160) -> str:
    s = " ".join(str(text or "").split())
    return f"«{s if len(s) <= limit else s[: limit - 1] + '…'}»"


def _row(d: Mapping[str, Any], ce: Mapping[str, Any], name_of: NameOf) -> str:
    """The row by its number and, when known, its activity (from the row's own event)."""
    activity = d.get("activity") or _title(row_key(ce, d), name_of)
    shown = f" {_quote(activity, 80)}" if activity else ""
    return f"мероприятие {d.get('number') or d.get('row_id')}{shown}"


def _title(key: str | None, name_of: NameOf) -> str | None:
    """A plan object's title as notify learned it from the object's first event; None when
    not (yet) known (``name_of`` answers the key itself then)."""
    if not key:
        return None
    found = name_of(key)
    return found if found and found != key else None


def _named(what: str, key: str | None, name_of: NameOf) -> str:
    """«мера «Наставничество…»» by its title, else by its id (never nothing)."""
    title = _title(key, name_of)
    return f"{what} {_quote(title, 80)}" if title else f"{what} {key}"


def row_key(ce: Mapping[str, Any], d: Mapping[str, Any]) -> str | None:
    """The key a roadmap row's activity is remembered under: roadmap id | row id."""
    roadmap, row = ce.get("originatorid"), d.get("row_id")
    return f"{roadmap}|{row}" if roadmap and row else None


def named_ids(ce: Mapping[str, Any]) -> set[str]:
    """The plan objects a plans event's sentence names (to look their titles up first);
    nothing for any other event (an indicator's originator is not a title to look up)."""
    if not str(ce.get("type", "")).startswith("ru.shkala.plans."):
        return set()
    d: Mapping[str, Any] = ce.get("data") or {}
    keys = {ce.get("originatorid"), d.get("measure_id"), d.get("recommendation_id")}
    titled = {k for k in keys if k and str(k).split(":", 1)[0] in PLAN_KINDS}
    row = row_key(ce, d)
    return titled | ({row} if row else set())


PLAN_KINDS = frozenset({"measure", "recommendation"})
"""The aggregates named by their titles (a roadmap's rows are, by roadmap id | row id)."""


def _direction(d: Mapping[str, Any]) -> str:
    name = _DIRECTIONS.get(d.get("direction") or "")
    return f" по направлению «{name}»" if name else ""


def _plans(kind: str, ce: Mapping[str, Any], d: Mapping[str, Any], name_of: NameOf) -> str | None:
    """A sentence per plans event: who (school or municipality), what (the row, the
    recommendation, the measure, the period) and when (the event's own date, else the day
    it happened)."""
    who = _where(ce, name_of)
    on = _date(ce.get("time"))
    school = name_of(ce["school"]) if ce.get("school") else None
    of_school = f" школы {school}" if school else ""
    year = d.get("period")
    match kind:
        case "roadmap_created":
            since = _date(d.get("starts_on"))
            return f"{who}: создана дорожная карта {_quote(d.get('title'))} с {since}"
        case "roadmap_section_added":
            title = _quote(d.get("title"))
            return f"{who}: в дорожную карту добавлен раздел {title}{_direction(d)} ({on})"
        case "roadmap_row_added":
            deadline = (d.get("deadline") or {}).get("text") or "не указан"
            number = d.get("number") or d.get("row_id")
            return (
                f"{who}: в дорожную карту добавлено мероприятие {number}"
                f" {_quote(d.get('activity'))}, срок: {deadline}"
            )
        case "roadmap_row_revised":
            return f"{who}: изменено {_row(d, ce, name_of)} дорожной карты ({on})"
        case "roadmap_row_status_changed":
            status = _ROW_STATUS.get(d.get("status") or "", d.get("status"))
            covers = f" за срок {_date(d['occurrence'])}" if d.get("occurrence") else ""
            return f"{who}: {_row(d, ce, name_of)} дорожной карты{covers} — {status} ({on})"
        case "roadmap_row_due":
            row, due = _row(d, ce, name_of), _date(d.get("due_on"))
            return f"{who}: {row} дорожной карты нужно выполнить до {due}"
        case "roadmap_row_overdue":
            row, due = _row(d, ce, name_of), _date(d.get("due_on"))
            return (
                f"{who}: просрочено {row} дорожной карты — срок {due}"
                " прошёл, о выполнении не сообщено"
            )
        case "recommendation_issued":
            return (
                f"{who}: выдана адресная рекомендация{_direction(d)} по итогам {year} учебного"
                f" года ({on}): {_quote(d.get('text'))}"
            )
        case "recommendation_status_changed":
            status = _RECOMMENDATION_STATUS.get(d.get("status") or "", d.get("status"))
            report = f": {_quote(d['report'])}" if d.get("report") else ""
            what = _named("рекомендация", ce.get("originatorid"), name_of)
            return f"{who}: {what} {status} ({on}){report}"
        case "proposal_accepted":
            return (
                f"{who}: принято предложение адресной рекомендации{_direction(d)} по итогам"
                f" {year} учебного года ({on}), выдана рекомендация: {_quote(d.get('text'))}"
            )
        case "proposal_dismissed":
            return (
                f"{who}: отклонено предложение адресной рекомендации{_direction(d)} по итогам"
                f" {year} учебного года ({on}): {_quote(d.get('reason'))}"
            )
        case "measure_taken":
            n = len(d.get("target_schools") or ())
            return (
                f"{who}: принята мера {_quote(d.get('title'))}{_direction(d)} для {n} шк.,"
                f" эффективность — {d.get('baseline_period')} → {d.get('evaluation_period')}"
                f" ({on})"
            )
        case "measure_status_changed":
            status = _MEASURE_STATUS.get(d.get("status") or "", d.get("status"))
            return f"{who}: {_named('мера', ce.get('originatorid'), name_of)} — {status} ({on})"
        case "effectiveness_evaluated":
            verdict = _VERDICT.get(d.get("verdict") or "", d.get("verdict"))
            left = len(d.get("left_lists") or ())
            lists = f"; вышли из списков ШНОР/ШНСУ: {left}" if left else ""
            return (
                f"{who}: {_named('мера', d.get('measure_id'), name_of)} {verdict}"
                f" ({d.get('baseline_period')} →"
                f" {d.get('evaluation_period')}: улучшилось {d.get('improved')}, ухудшилось"
                f" {d.get('worsened')}, без изменений {d.get('unchanged')}{lists}; {on})"
            )
        case "monitoring_period_opened":
            return f"Открыт период мониторинга {year} учебного года{of_school} ({on})"
        case "monitoring_period_submitted":
            again = " повторно" if d.get("resubmission") else ""
            return (
                f"{who}{again} представила данные мониторинга за {year} учебный год на"
                f" проверку ({on})"
            )
        case "monitoring_period_returned":
            return (
                f"Данные мониторинга{of_school} за {year} учебный год возвращены"
                f" муниципалитетом на доработку ({on}): {_quote(d.get('reason'))}"
            )
        case "monitoring_period_approved":
            return (
                f"Данные мониторинга{of_school} за {year} учебный год утверждены"
                f" муниципалитетом ({on})"
            )
        case "monitoring_period_locked":
            return (
                f"Период мониторинга {year} учебного года{of_school} закрыт регионом ({on});"
                " изменить данные можно только после его повторного открытия региональным"
                " оператором"
            )
        case "monitoring_period_reopened":
            return (
                f"Период мониторинга {year} учебного года{of_school} снова открыт регионом"
                f" ({on}): {_quote(d.get('reason'))}"
            )
        case "responsible_assigned":
            duty = _DUTY.get(d.get("duty") or "", d.get("duty"))
            dirs = ", ".join(_DIRECTIONS.get(x, x) for x in d.get("directions") or ())
            position = f" ({d['position']})" if d.get("position") else ""
            return f"{who}: назначен {duty}{position} по направлениям: {dirs} ({on})"
        case "responsible_removed":
            return f"{who}: исполнитель {d.get('person_id')} снят с направлений ({on})"
    return None
