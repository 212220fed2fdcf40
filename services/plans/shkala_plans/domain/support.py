"""The support indicator plans can count (показатель поддержки ШНОР/ШНСУ, seed 002 п. 2):
of the schools on ШНОР or ШНСУ in a period, the share that were given a targeted
recommendation for it («… выданы адресные рекомендации»). Pure: the schools in, the share out.

The seed's other half of the same line — a diagnostic of the students with learning
difficulties — has no facts in Shkala, so it is not counted, and the published text says so.
The network-pair and list-dynamics shares are indicators' (its ``GET /support-indicators``)."""

from __future__ import annotations

from collections.abc import Set
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
    """The listed schools given a recommendation."""
    not_given: tuple[str, ...]


def recommended_share(listed: Set[str], recommended: Set[str]) -> Share:
    """Of the ``listed`` schools, those ``recommended`` (a recommendation of the period)."""
    given = sorted(listed & recommended)
    n, d = len(given), len(listed)
    return Share(
        n,
        d,
        round(n / d * 100, 6) if d else None,
        tuple(given),
        tuple(sorted(listed - recommended)),
    )


__all__ = ["RECOMMENDED_SHARE", "SUPPORT_LISTS", "Share", "recommended_share"]
