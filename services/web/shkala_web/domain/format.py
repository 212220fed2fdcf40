"""How officials write things: dates 01.09.2026, numbers with a decimal comma, Russian labels.

Pure functions, used by the page templates and by the reports alike.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

ROLE_RU = {"region": "Региональный оператор", "municipality": "Муниципалитет", "school": "Школа"}
STATUS_RU = {
    "planned": "Запланировано",
    "in_progress": "Выполняется",
    "done": "Выполнено",
    "cancelled": "Отменено",
}
DIRECTION_RU = {
    "assessment": "Оценка качества подготовки обучающихся",
    "low_results": "Работа со ШНОР и ШНСУ",
    "talents": "Выявление и поддержка способностей и талантов",
    "career": "Самоопределение и профессиональная ориентация",
    "objectivity": "Объективность процедур оценки",
    "principals": "Эффективность руководителей",
    "teacher_development": "Развитие педагогических работников",
    "methodical_work": "Методическая работа",
    "upbringing": "Воспитание и социализация",
}
LISTS = ("ШНОР", "ШНСУ", "признаки необъективности")
LIST_RU = {
    "ШНОР": "ШНОР (низкие результаты)",
    "ШНСУ": "ШНСУ (неблагоприятные условия)",
    "признаки необъективности": "Признаки необъективности",
}
VERDICT_RU = {
    "effective": "эффективна",
    "partially_effective": "частично эффективна",
    "not_effective": "неэффективна",
}
DELIVERY_RU = {"pending": "ожидает", "delivered": "доставлено", "failed": "ошибка"}


def number(value: Any, digits: int = 1) -> str:
    """12.963 → «13,0»; None → «—». Thousands separated by a narrow no-break space."""
    if value is None or value == "":
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    text = f"{int(x):,}" if x.is_integer() and digits == 0 else f"{x:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def integer(value: Any) -> str:
    return number(value, 0)


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    try:
        if "T" in text or " " in text:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def date(value: Any) -> str:
    """ISO date or datetime → «01.09.2026»."""
    d = _as_date(value)
    return d.strftime("%d.%m.%Y") if d else "—"


def datetime(value: Any) -> str:
    """ISO datetime → «01.09.2026 14:05» (UTC as stored; the pages say so)."""
    if value is None or value == "":
        return "—"
    try:
        t = (
            value
            if isinstance(value, dt.datetime)
            else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        )
    except ValueError:
        return str(value)
    return t.strftime("%d.%m.%Y %H:%M")


def month(value: str) -> str:
    """«2021-04» → «04.2021»."""
    try:
        y, m = value.split("-")[:2]
        return f"{int(m):02d}.{int(y)}"
    except ValueError:
        return value


def unit_suffix(unit: str | None) -> str:
    return {"percent": "%", "flag": "", "index": "", "count": ""}.get(unit or "", "")


def indicator_value(value: Any, unit: str | None) -> str:
    if value is None:
        return "—"
    if unit == "flag":
        return "да" if float(value) >= 0.5 else "нет"
    text = number(value, 1)
    suffix = unit_suffix(unit)
    return f"{text}\u00a0{suffix}" if suffix else text


def rollup_value(v: dict[str, Any] | None, unit: str | None) -> str:
    """A municipality's or the region's value: a flag rolls up to a count of schools."""
    if not v or v.get("value") is None:
        return "—"
    if unit == "flag":
        return f"{integer(v.get('numerator'))} из {integer(v.get('denominator'))} ОО"
    return indicator_value(v.get("value"), unit)


def threshold_text(threshold: dict[str, Any] | None, unit: str | None) -> str:
    if not threshold:
        return "—"
    sign = {"above": "риск, если выше", "below": "риск, если ниже"}.get(
        threshold.get("risk_if", ""), threshold.get("risk_if", "")
    )
    return f"{sign} {indicator_value(threshold.get('value'), unit if unit != 'flag' else None)}"


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural: 1 школа, 2 школы, 5 школ."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


_REASONS = (
    (r"^Field required", "обязательное поле не заполнено"),
    (r"^Input should be a valid integer", "должно быть целым числом"),
    (r"^Input should be a valid number", "должно быть числом (десятичная запятая)"),
    (r"^Input should be a valid (date|datetime)", "должна быть датой ДД.ММ.ГГГГ"),
    (r"^Input should be a valid boolean", "должно быть «да» или «нет»"),
    (r"^Input should be less than or equal to (\S+)", r"должно быть не больше \1"),
    (r"^Input should be greater than or equal to (\S+)", r"должно быть не меньше \1"),
    (r"^Input should be less than (\S+)", r"должно быть меньше \1"),
    (r"^Input should be greater than (\S+)", r"должно быть больше \1"),
    (r"^String should have at most (\d+) characters?", r"не длиннее \1 символов"),
    (r"^String should have at least (\d+) characters?", r"не короче \1 символов"),
)


def reason_ru(reason: str | None) -> str:
    """A row error's reason in Russian (pydantic's common messages); others as they are."""
    text = reason or ""
    for pattern, ru in _REASONS:
        if re.match(pattern, text):
            return re.sub(pattern + r".*$", ru, text, count=1, flags=re.S)
    return text


def filters() -> dict[str, Any]:
    """The Jinja2 filters of the page templates."""
    return {
        "num": number,
        "int": integer,
        "ru_date": date,
        "ru_datetime": datetime,
        "ival": lambda v, unit=None: indicator_value(v, unit),
        "rollup": lambda v, unit=None: rollup_value(v, unit),
        "reason_ru": reason_ru,
        "status_ru": lambda s: STATUS_RU.get(s, s),
        "direction_ru": lambda s: DIRECTION_RU.get(s, s or "—"),
        "list_ru": lambda s: LIST_RU.get(s, s),
        "role_ru": lambda s: ROLE_RU.get(s, s),
        "verdict_ru": lambda s: VERDICT_RU.get(s, s or "—"),
        "delivery_ru": lambda s: DELIVERY_RU.get(s, s),
    }
