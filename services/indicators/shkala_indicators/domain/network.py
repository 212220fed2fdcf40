"""Resource centres and network pairs (seed 004 §4: окружные ресурсные центры, ОРЦ;
межшкольное партнёрство «ведущая школа — ШНОР»; seed 002's network cooperation and list
dynamics). Pure: the read side hands in the schools' values and list memberships.

- a **resource centre** (ресурсный центр) groups the schools whose registration names it
  (``SchoolRegistered.resource_centre_id``); its roll-up sums its schools' numerators and
  denominators like a municipality's;
- a **network pair** (сетевая пара) is a leading school (ведущая школа) supporting a school
  for one academic year (``NetworkPairFormed``); the newest version of a pair's stream wins;
- **dynamics**: a value this period beside the previous academic year's, and which way is
  better (the catalogue's ``better``); list membership entered / left / stayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shkala_indicators.domain.catalogue import Catalogue, Indicator
from shkala_indicators.domain.compute import Value
from shkala_indicators.domain.support import SupportIndicator


@dataclass(frozen=True)
class NetworkPair:
    """Сетевая пара: ``leading`` (ведущая школа) supports ``school`` in ``period``."""

    school: str
    leading: str
    period: str
    active: bool
    since: str | None = None
    form: str | None = None


class Pairs:
    """Every pair stream's newest version (a redelivered or older event changes nothing)."""

    def __init__(self) -> None:
        self._streams: dict[str, tuple[tuple[int, int, int], NetworkPair]] = {}

    def fold(self, stream: str, rank: tuple[int, int, int], payload: Mapping[str, Any]) -> bool:
        """``rank``: (originator version, partition, offset). True when the pair changed."""
        known = self._streams.get(stream)
        if known is not None and rank <= known[0]:
            return False
        since = payload.get("since")
        self._streams[stream] = (
            rank,
            NetworkPair(
                school=str(payload["school_id"]),
                leading=str(payload["leading_school_id"]),
                period=str(payload["academic_year"]),
                active=bool(payload.get("active", True)),
                since=None if since is None else str(since),
                form=payload.get("form"),
            ),
        )
        return True

    def in_period(self, period: str) -> list[NetworkPair]:
        """The pairs in force in an academic year, by (leading, school)."""
        found = [p for _, p in self._streams.values() if p.period == period and p.active]
        return sorted(found, key=lambda p: (p.leading, p.school))


def key_indicators(catalogue: Catalogue) -> list[Indicator]:
    """The indicators the risk lists are decided by, in catalogue order: what a pair or a
    resource centre shows of each school unless the caller names others."""
    named = {i for r in catalogue.lists for i in (*r.indicators, *r.always)}
    return [i for i in catalogue.indicators if i.id in named]


def compare(ind: Indicator, now: Value | None, before: Value | None) -> dict[str, Any]:
    """One indicator this period beside the previous one: the change and whether it is for
    the better (``improved``), the worse (``worsened``) or neither (``same``)."""
    v_now = None if now is None else now.value
    v_before = None if before is None else before.value
    out: dict[str, Any] = {
        "indicator_id": ind.id,
        "value": v_now,
        "previous": v_before,
        "change": None,
        "trend": None,
    }
    if v_now is None or v_before is None:
        return out
    change = round(v_now - v_before, 6)
    out["change"] = change
    up = change > 0 if ind.better == "up" else change < 0
    out["trend"] = "same" if change == 0 else "improved" if up else "worsened"
    return out


def membership(now: Iterable[str], before: Iterable[str]) -> dict[str, list[str]]:
    """A school's lists: this period's, and which it entered, left or stayed in."""
    n, b = set(now), set(before)
    return {
        "lists": sorted(n),
        "previous_lists": sorted(b),
        "entered": sorted(n - b),
        "left": sorted(b - n),
        "stayed": sorted(n & b),
    }


def support_value(
    ind: SupportIndicator,
    schools: Iterable[str],
    lists_now: Mapping[str, set[str]],
    lists_before: Mapping[str, set[str]],
    paired: set[str],
) -> dict[str, Any]:
    """A support indicator over a unit's schools: ``lists_now`` / ``lists_before`` are each
    school's list memberships in the period and the previous academic year, ``paired`` the
    schools supported by a pair in force in the period. Numerator, denominator, value (%)
    and the schools counted, so that a figure can be checked school by school."""
    watched = set(ind.lists)
    num: list[str] = []
    den: list[str] = []
    for s in sorted(set(schools)):
        now = lists_now.get(s, set()) & watched
        before = lists_before.get(s, set()) & watched
        if ind.kind == "network_pair_share":
            if now:
                den.append(s)
                if s in paired:
                    num.append(s)
            continue
        if not (now or before):
            continue
        den.append(s)
        entered, left = now - before, before - now
        if (ind.kind == "list_positive_dynamics" and left and not entered) or (
            ind.kind == "list_negative_dynamics" and entered and not left
        ):
            num.append(s)
    v = Value.of(len(num), len(den), 100.0)
    return {
        "indicator_id": ind.id,
        "numerator": v.numerator,
        "denominator": v.denominator,
        "value": v.value,
        "schools_counted": num,
        "schools_in_denominator": den,
    }
