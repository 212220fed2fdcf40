"""The support indicator plans can count (показатель поддержки ШНОР/ШНСУ, seed 002 п. 2):
of the schools on ШНОР or ШНСУ in a period, the share that were given a targeted
recommendation for it («… выданы адресные рекомендации»). Pure: the schools in, the share out.

The seed's other half of the same line — a diagnostic of the students with learning
difficulties — has no facts in Shkala, so it is not counted, and the published text says so.
The network-pair and list-dynamics shares are indicators' (its ``GET /support-indicators``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Any

SUPPORT_LISTS = ("ШНОР", "ШНСУ")

RECOMMENDED_SHARE: dict[str, Any] = {
    "id": "support_recommended_share",
    "name": {
        "ru": "Доля ШНОР и ШНСУ, которым выданы адресные рекомендации",
        "en": "Share of low-results / unfavourable-conditions schools given a recommendation",
    },
    "numerator": (
        "школы в списке ШНОР или ШНСУ за период, которым выдана хотя бы одна адресная"
        " рекомендация за этот период (plans: POST /recommendations или принятое предложение);"
        " диагностика обучающихся с трудностями в учёбе не учитывается — таких данных в Shkala нет"
    ),
    "denominator": "школы в списке ШНОР или ШНСУ за период (по решениям indicators о списках)",
    "unit": "percent",
    "better": "up",
    "sources": {
        "formula": (
            "seed 002_2937984b5dfd35f2.txt: задача 2 — «Доля школ ШНОР и ШНУС, в которых"
            " проведена диагностика обучающихся с трудностями в учебной деятельности … и выданы"
            " адресные рекомендации»"
        ),
        "departure": (
            "regional setting, not in the seeds: the diagnostic half is not counted (no facts);"
            " a recommendation of the period is what «выданы» counts"
        ),
    },
}


@dataclass(frozen=True)
class Share:
    numerator: int
    denominator: int
    value: float | None
    given: tuple[str, ...]
    """The schools counted (given a recommendation; reached by a measure)."""
    not_given: tuple[str, ...]


def recommended_share(listed: Set[str], recommended: Set[str]) -> Share:
    """Of the ``listed`` schools, those ``recommended`` (a recommendation of the period); also
    the share of any set of schools reached by another (``staff_measures_share``)."""
    given = sorted(listed & recommended)
    n, d = len(given), len(listed)
    return Share(
        n,
        d,
        round(n / d * 100, 6) if d else None,
        tuple(given),
        tuple(sorted(listed - recommended)),
    )


STAFFING_INDICATORS = ("understaffed", "staffing_fill_share")
"""The catalogue's staffing indicators: a measure linked to one is a staffing measure."""

STAFF_MEASURES_SHARE: dict[str, Any] = {
    "id": "support_staff_shortage_measures_share",
    "name": {
        "ru": "Меры поддержки при дефиците педагогических кадров: доля неукомплектованных школ",
        "en": "Staff-shortage measures: share of understaffed schools they reach",
    },
    "numerator": (
        "неукомплектованные школы (показатель understaffed = 1 за период), на которые"
        " направлена хотя бы одна мера этого периода (базовый период = период), связанная с"
        " кадровым показателем (understaffed, staffing_fill_share); сами меры — списком"
        " («количество мер … с указанием вида»: название меры)"
    ),
    "denominator": "неукомплектованные школы (understaffed = 1 за период)",
    "unit": "percent",
    "better": "up",
    "sources": {
        "formula": (
            "seed 002_2937984b5dfd35f2.txt: задача 3 — «Наличие мер поддержки в решении проблем"
            " с дефицитом педагогических кадров в школе … количество мер поддержки … с указанием"
            " вида»"
        ),
        "departure": (
            "regional setting, not in the seeds: the seed counts the measures; Shkala also"
            " gives the share of understaffed schools they reach"
        ),
    },
}


def staff_measures_share(
    understaffed: Set[str], measures: Iterable[Mapping[str, Any]]
) -> tuple[Share, list[dict[str, Any]]]:
    """Of the ``understaffed`` schools, those a staffing measure targets; and the measures
    (each measure: ``id``, ``title``, ``target_schools``, ``indicator_ids``)."""
    staffing = [
        {"id": m["id"], "title": m["title"], "target_schools": sorted(m["target_schools"])}
        for m in measures
        if set(m.get("indicator_ids") or ()) & set(STAFFING_INDICATORS)
    ]
    reached = {s for m in staffing for s in m["target_schools"]}
    return recommended_share(understaffed, reached), staffing


__all__ = [
    "RECOMMENDED_SHARE",
    "STAFFING_INDICATORS",
    "STAFF_MEASURES_SHARE",
    "SUPPORT_LISTS",
    "Share",
    "recommended_share",
    "staff_measures_share",
]
