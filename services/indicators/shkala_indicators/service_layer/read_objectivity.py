"""The «признаки необъективности» list as read: the catalogue's rule, the region-relative
signs of :mod:`domain.objectivity`, and the federal (Рособрнадзор) list beside them.

Shkala's own screening = the list rule over the school's values, plus the region-relative
flags (ВПР not backed by the cohort's later ОГЭ; excess mass just above a mark boundary);
the federal list is shown beside it, never mixed in: each member says ``federal_list``, and
``federal_list_not_screened`` names the federal-list schools Shkala's screening did not flag.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Protocol, TypeVar

from shkala_indicators.domain import objectivity
from shkala_indicators.domain.catalogue import Catalogue
from shkala_indicators.domain.compute import Value

LIST_NAME = objectivity.LIST_NAME
T = TypeVar("T")


class Table(Protocol):
    org: dict[str, dict[str, Any]]

    def values_by_indicator(self, school: str, period: str) -> dict[str, Value]: ...

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T: ...


def _federal_indicator(catalogue: Catalogue) -> str | None:
    return next((i.id for i in catalogue.indicators if i.kind == "federal_list"), None)


def screened(
    table: Table,
    catalogue: Catalogue,
    region_schools: list[str],
    period: str,
    members: dict[str, list[str]],
) -> tuple[dict[str, list[str]], dict[str, list[dict[str, Any]]]]:
    """Members by the rule plus the region-relative flags: (reasons by school, flags)."""

    def region_values(p: str) -> dict[str, dict[str, Value]]:
        return {s: table.values_by_indicator(s, p) for s in region_schools}

    flags = table.derived(
        ("objectivity-screen", catalogue.version, tuple(region_schools), period),
        lambda: objectivity.screen(catalogue, region_values, period),
    )
    out = {s: list(r) for s, r in members.items()}
    for school, fired in flags.items():
        reasons = out.setdefault(school, [])
        reasons += [f.rule for f in fired if f.rule not in reasons]
    return out, {s: [f.describe() for f in fired] for s, fired in flags.items()}


def federal(table: Table, catalogue: Catalogue, schools: list[str], period: str) -> set[str]:
    ind = _federal_indicator(catalogue)
    if ind is None:
        return set()
    return objectivity.federal_listed(
        {s: table.values_by_indicator(s, period) for s in schools}, ind
    )


def region_of(table: Table, schools: list[str]) -> str | None:
    return next((table.org[s]["region_id"] for s in schools if s in table.org), None)


def region_schools(table: Table, region: str | None) -> list[str]:
    return sorted(
        k for k, o in table.org.items() if o.get("kind") == "school" and o["region_id"] == region
    )


def objectivity_list(
    table: Table,
    catalogue: Catalogue,
    schools: list[str],
    period: str,
    previous: str,
    now: dict[str, list[str]],
    before: dict[str, list[str]],
    region: str | None,
) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, Any]]:
    """The list's members now and before with the screening added, and the extra fields:
    per school ``flags`` and ``federal_list``, and ``federal_list_not_screened``."""
    everyone = region_schools(table, region or region_of(table, schools))
    scope = set(schools)
    now, flags = screened(table, catalogue, everyone, period, now)
    before, _ = screened(table, catalogue, everyone, previous, before)
    now = {s: r for s, r in now.items() if s in scope}
    before = {s: r for s, r in before.items() if s in scope}
    listed = federal(table, catalogue, schools, period)
    extra = {
        "flags": {s: f for s, f in flags.items() if s in scope},
        "federal": listed,
        "federal_list_not_screened": sorted(listed - set(now)),
    }
    return now, before, extra


__all__ = ["LIST_NAME", "objectivity_list"]
