"""Seed 002's support indicators (показатели поддержки ШНОР/ШНСУ) that are not per school:
each is a share of a municipality's or the region's schools, computed on read from the risk
lists and the network pairs (``domain/network.py``). Declared in the catalogue's
``support_indicators:`` section with their numerator and denominator texts and the source of
each, like every other entry of ``GET /catalogue``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("network_pair_share", "list_positive_dynamics", "list_negative_dynamics")
"""The formulas Shkala knows (``kind`` of an entry)."""


@dataclass(frozen=True)
class SupportIndicator:
    """A share of a unit's schools (the unit: municipality or region)."""

    id: str
    kind: str
    name_ru: str
    name_en: str
    numerator: str
    denominator: str
    lists: tuple[str, ...]
    """The risk lists it reads (ШНОР for the pairs; ШНОР and ШНСУ for the dynamics)."""
    better: str
    unit: str = "percent"
    sources: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "scope": ["municipality", "region"],
            "name": {"ru": self.name_ru, "en": self.name_en},
            "numerator": self.numerator,
            "denominator": self.denominator,
            "unit": self.unit,
            "better": self.better,
            "lists": list(self.lists),
            "sources": self.sources,
        }


def parse(
    items: list[dict[str, Any]],
    list_names: set[str],
    source: Callable[[str, Any], str],
    error: type[Exception],
) -> tuple[SupportIndicator, ...]:
    """The ``support_indicators:`` entries, checked: a known kind, known lists, the source
    of the formula and the denominator named (``source`` is the catalogue's own check)."""
    out = []
    for item in items:
        sid = item["id"]
        if item["kind"] not in KINDS:
            raise error(f"support indicator {sid}: unknown kind {item['kind']!r}; known {KINDS}")
        lists = tuple(item.get("lists") or ())
        unknown = [n for n in lists if n not in list_names]
        if not lists or unknown:
            raise error(f"support indicator {sid}: lists {unknown or '[]'} not in the catalogue")
        sources = dict(item.get("sources") or {})
        for what in ("formula", "denominator"):
            sources[what] = source(f"{sid}.sources.{what}", sources.get(what))
        out.append(
            SupportIndicator(
                id=sid,
                kind=item["kind"],
                name_ru=item["name"]["ru"],
                name_en=item["name"]["en"],
                numerator=item["numerator"],
                denominator=item["denominator"],
                lists=lists,
                better=item["better"],
                unit=item.get("unit", "percent"),
                sources=sources,
            )
        )
    return tuple(out)
