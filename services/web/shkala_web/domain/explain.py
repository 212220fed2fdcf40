"""«Как посчитано»: an indicator explanation (the indicators service's ``…/explain``) laid
out for the page in Russian — one table per part (in the numerator, in the denominator
only, considered but not counted), its columns the natural-key fields and deciding values
the items carry. Pure: no framework imports. Students and teachers appear as the
pseudonyms the explanation gives; nothing else about a person is shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

KEY_RU = {
    "fact": "Факт",
    "year": "Учебный год",
    "procedure": "Процедура",
    "subject": "Предмет",
    "grade": "Параллель",
    "class_label": "Класс",
    "student": "Обучающийся (псевдоним)",
    "teacher": "Педагог (псевдоним)",
    "mentor": "Наставник (псевдоним)",
    "mentee": "Наставляемый (псевдоним)",
    "olympiad_stage": "Этап",
    "as_of": "На дату",
    "position": "Должность",
    "period_start": "С",
    "period_end": "По",
    "reason": "Причина",
    "course": "Курс",
    "completed_on": "Завершён",
    "indicator": "Показатель",
}
VALUE_RU = {
    "mark": "Отметка",
    "journal_mark": "Отметка по журналу",
    "compare": "Сравнение",
    "test_score": "Тестовый балл",
    "best_test_score": "Лучший тестовый балл",
    "lowest_test_score": "Наименьший тестовый балл",
    "primary_score": "Первичный балл",
    "boundary": "Граница отметки",
    "band": "Окно, баллов",
    "at_or_above": "На границе или выше",
    "results": "Результаты",
    "high_scorer": "Высокобалльник",
    "below_minimum": "Ниже минимального порога",
    "not_confirming": "Не подтвердил",
    "observed": "С общественным наблюдением",
    "lessons_missed": "Пропущено уроков",
    "periods": "Периоды",
    "posts": "Ставок по штату",
    "filled": "Занято ставок",
    "vacancies": "Вакансий",
    "students_total": "Обучающихся всего",
    "graduates_9": "Выпускников 9 кл.",
    "graduates_11": "Выпускников 11 кл.",
    "accreditation": "Аккредитация",
    "value": "Значение",
    "at_least": "Срабатывает от",
    "weight": "Вес",
    "fired": "Сработал",
    "listed": "В перечне",
    "document": "Документ",
    "facts": "Факты",
    "ege_high_score": "Порог высокобалльника",
    "medalist_confirm_score": "Порог подтверждения",
    "systematic_absence_lessons": "Порог систематических пропусков",
}
COMPARE_RU = {"lowered": "понизил", "confirmed": "подтвердил", "raised": "повысил"}
PARTS = (
    ("in_numerator", "Учтено в числителе (и в знаменателе, если указано)"),
    ("in_denominator_only", "Учтено только в знаменателе"),
    ("considered_not_counted", "Рассмотрено, но не учтено"),
)


def label(name: str) -> str:
    if name in KEY_RU:
        return KEY_RU[name]
    if name in VALUE_RU:
        return VALUE_RU[name]
    if name.startswith("enrolled_grade_"):
        return f"Обучающихся в {name.rsplit('_', 1)[1]} кл."
    return name


def text(value: Any, name: str = "") -> str:
    """A value as a cell shows it: yes/no, numbers without a trailing .0, lists joined."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if name == "compare":
        return COMPARE_RU.get(value, str(value))
    if isinstance(value, dict):
        return ", ".join(f"{label(k)}: {text(v, k)}" for k, v in value.items() if v is not None)
    if isinstance(value, list | tuple):
        return "; ".join(text(v) for v in value)
    return str(value)


def _columns(items: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for i in items:
        for k in i["key"]:
            if k != "fact":
                seen.setdefault(k, None)
    return list(seen)


def table(items: list[dict[str, Any]]) -> dict[str, Any]:
    """One part as a table: what, the key fields, the deciding values, the two parts."""
    keys = _columns(items)
    values: dict[str, None] = {}
    for i in items:
        for k in i["values"]:
            values.setdefault(k, None)
    rows = [
        {
            "what": i["what"],
            "fact": i["key"].get("fact", ""),
            "cells": [text(i["key"].get(k), k) for k in keys]
            + [text(i["values"].get(k), k) for k in values],
            "numerator": i["numerator"],
            "denominator": i["denominator"],
        }
        for i in items
    ]
    return {"headers": [label(k) for k in (*keys, *values)], "rows": rows}


def explanation_page(body: dict[str, Any]) -> dict[str, Any]:
    """The page's data from an explanation answer."""
    parts = [
        {"id": part, "title": title, "count": len(body.get(part) or []), **table(body[part])}
        for part, title in PARTS
        if body.get(part)
    ]
    stat = body.get("statistic")
    return {
        "school_id": body["school_id"],
        "period": body["period"],
        "definition_version": body["definition_version"],
        "rule": body["rule"],
        "value": body["value"],
        "numerator": body["numerator"],
        "denominator": body["denominator"],
        "at_risk": body["at_risk"],
        "itemised": body["itemised"],
        "note": body.get("note") or "",
        "how": body.get("how") or "",
        "statistic": (
            {k: text(v, k) for k, v in stat.items() if k != "table"} | {"table": stat.get("table")}
            if stat
            else None
        ),
        "parts": parts,
        "matches_stored": body.get("matches_stored", True),
        "parameters": [(k, text(v)) for k, v in (body["rule"].get("parameters") or {}).items()],
        "sources": [(k, v) for k, v in (body["rule"].get("sources") or {}).items()],
    }
