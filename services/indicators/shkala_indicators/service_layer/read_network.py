"""Resource centres (ОРЦ), network pairs (сетевые пары) and seed 002's support indicators,
read from the replicated read table (org units with their resource centre, the pairs folded
from the org-unit topic, the schools' current values and lists).

Tenant rule, as every other read: ``visible(school)`` says whether the caller may see a
school; only visible schools are listed with their values and rolled up, the others are
counted (``schools_not_shown``) or named without values (the other school of a pair).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shkala_indicators.domain import network
from shkala_indicators.domain.catalogue import Indicator
from shkala_indicators.domain.compute import Value
from shkala_indicators.service_layer.read import ReadModel, previous_period

Visible = Callable[[str], bool]


class UnknownIndicator(LookupError):
    """An indicator id the catalogue does not have."""


class UnknownUnit(LookupError):
    """No such resource centre (no school names it)."""


class NetworkReads:
    def __init__(self, read: ReadModel) -> None:
        self.read = read
        self.catalogue = read.catalogue
        self.t = read.table

    # ------------------------------------------------------------------ helpers
    def indicators(self, ids: list[str] | None) -> list[Indicator]:
        if not ids:
            return network.key_indicators(self.catalogue)
        by_id = self.catalogue.by_id()
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise UnknownIndicator(", ".join(unknown))
        return [by_id[i] for i in ids]

    def _schools(self, region: str) -> list[str]:
        return sorted(
            k for k, o in self.t.org.items() if o["kind"] == "school" and o["region_id"] == region
        )

    def _lists(self, school: str, period: str) -> set[str]:
        return {e["list"] for e in self.t.lists_of(school, period) if e["member"]}

    def _value(self, ind: str, school: str, period: str) -> Value | None:
        d = self.t.school_value(ind, school, period)
        return None if d is None else Value(d["numerator"], d["denominator"], d["value"])

    def school_dynamics(
        self, school: str, period: str, inds: list[Indicator], role: str | None = None
    ) -> dict[str, Any]:
        """A school's key values this period beside the previous academic year's, its lists
        (entered / left / stayed) and its approval state."""
        before = previous_period(period)
        org = self.t.org.get(school, {})
        out = {
            "school_id": school,
            "name": org.get("name"),
            "municipality_id": org.get("municipality_id"),
            "shown": True,
            "approval": self.t.approval_of(school, period),
            "indicators": [
                network.compare(
                    i, self._value(i.id, school, period), self._value(i.id, school, before)
                )
                for i in inds
            ],
            **network.membership(self._lists(school, period), self._lists(school, before)),
        }
        return out if role is None else {"role": role, **out}

    def _hidden(self, school: str, role: str | None = None) -> dict[str, Any]:
        org = self.t.org.get(school, {})
        out = {
            "school_id": school,
            "name": org.get("name"),
            "municipality_id": org.get("municipality_id"),
            "shown": False,
            "reason": "outside your tenant: values not shown",
        }
        return out if role is None else {"role": role, **out}

    def _roll_up(self, unit: str, period: str, schools: list[str], inds: list[Indicator]):
        before = previous_period(period)
        now = self.t.roll_up("resource_centre", unit, period, schools)
        then = self.t.roll_up("resource_centre", unit, before, schools)

        def val(d: dict[str, Any] | None) -> Value | None:
            return None if d is None else Value(d["numerator"], d["denominator"], d["value"])

        return [
            {
                **network.compare(i, val(now.get(i.id)), val(then.get(i.id))),
                "numerator": now[i.id]["numerator"] if i.id in now else None,
                "denominator": now[i.id]["denominator"] if i.id in now else None,
            }
            for i in inds
        ]

    # ------------------------------------------------------------------ resource centres
    def _centres(self, region: str) -> dict[str, list[str]]:
        by_centre: dict[str, list[str]] = {}
        for s in self._schools(region):
            c = self.t.org[s].get("resource_centre_id")
            if c:
                by_centre.setdefault(c, []).append(s)
        return by_centre

    def _members(self, centre: str, schools: list[str]) -> list[tuple[str, str]]:
        """(school, role): the host school (the centre's own id, when it is a school) first."""
        host = self.t.org.get(centre)
        out = [(centre, "host")] if host and host.get("kind") == "school" else []
        return out + [(s, "member") for s in schools if s != centre]

    async def resource_centres(self, region: str, period: str, visible: Visible) -> dict[str, Any]:
        centres = []
        for cid, schools in sorted(self._centres(region).items()):
            members = self._members(cid, schools)
            shown = [s for s, _ in members if visible(s)]
            if not shown:
                continue
            host = self.t.org.get(cid) or {}
            lists: dict[str, int] = {}
            for s in shown:
                for name in self._lists(s, period):
                    lists[name] = lists.get(name, 0) + 1
            centres.append(
                {
                    "resource_centre_id": cid,
                    "name": host.get("name"),
                    "host_school": host.get("kind") == "school",
                    "municipality_ids": sorted(
                        {self.t.org[s]["municipality_id"] for s, _ in members if s in self.t.org}
                    ),
                    "schools": len(shown),
                    "schools_not_shown": len(members) - len(shown),
                    "list_counts": lists,
                }
            )
        return {
            "period": period,
            "resource_centres": centres,
            "freshness": await self.read.freshness(),
        }

    async def resource_centre(
        self, region: str, centre: str, period: str, visible: Visible, inds: list[Indicator]
    ) -> dict[str, Any] | None:
        """None when the caller may see none of the centre's schools."""
        schools = self._centres(region).get(centre)
        if not schools:
            raise UnknownUnit(centre)
        members = self._members(centre, schools)
        shown = [(s, r) for s, r in members if visible(s)]
        if not shown:
            return None
        ids = [s for s, _ in shown]
        host = self.t.org.get(centre) or {}
        lists: dict[str, int] = {}
        for s in ids:
            for name in self._lists(s, period):
                lists[name] = lists.get(name, 0) + 1
        return {
            "resource_centre_id": centre,
            "name": host.get("name"),
            "host_school": host.get("kind") == "school",
            "period": period,
            "previous_period": previous_period(period),
            "indicators": [i.describe() for i in inds],
            "schools": [self.school_dynamics(s, period, inds, r) for s, r in shown],
            "schools_not_shown": len(members) - len(shown),
            "roll_up": self._roll_up(centre, period, ids, inds),
            "list_counts": lists,
            "approval": self.t.approval_summary(ids, period),
            "freshness": await self.read.freshness(),
        }

    # ------------------------------------------------------------------ network pairs
    async def network_pairs(
        self,
        region: str,
        period: str,
        visible: Visible,
        inds: list[Indicator],
        *,
        municipality: str | None = None,
        school: str | None = None,
    ) -> dict[str, Any]:
        """The pairs in force in the period with either school in scope (the municipality,
        the school, or the region), both schools' dynamics side by side."""

        def in_scope(s: str) -> bool:
            o = self.t.org.get(s)
            if o is None or o.get("region_id") != region:
                return False
            if school is not None:
                return s == school
            return municipality is None or o.get("municipality_id") == municipality

        rows = []
        for p in self.t.pairs.in_period(period):
            if not (in_scope(p.school) or in_scope(p.leading)):
                continue
            side = {
                role: self.school_dynamics(s, period, inds) if visible(s) else self._hidden(s)
                for role, s in (("leading", p.leading), ("school", p.school))
            }
            rows.append(
                {
                    "leading_school_id": p.leading,
                    "school_id": p.school,
                    "period": p.period,
                    "since": p.since,
                    "form": p.form,
                    **side,
                }
            )
        return {
            "period": period,
            "previous_period": previous_period(period),
            "municipality_id": municipality,
            "school_id": school,
            "indicators": [i.describe() for i in inds],
            "pairs": rows,
            "freshness": await self.read.freshness(),
        }

    # ------------------------------------------------------------------ support indicators
    def support_of(self, schools: list[str], period: str) -> list[dict[str, Any]]:
        before = previous_period(period)
        now = {s: self._lists(s, period) for s in schools}
        then = {s: self._lists(s, before) for s in schools}
        paired = {p.school for p in self.t.pairs.in_period(period)}
        return [
            network.support_value(ind, schools, now, then, paired) for ind in self.catalogue.support
        ]

    async def support(self, region: str, period: str, municipality: str | None) -> dict[str, Any]:
        """Per municipality (the one asked, or every one of the region) and, for the region,
        the region's own value."""
        munis = [municipality] if municipality else self.t.municipalities_of(region)
        out: dict[str, Any] = {
            "period": period,
            "previous_period": previous_period(period),
            "definition_version": self.catalogue.version,
            "indicators": [s.describe() for s in self.catalogue.support],
            "municipalities": {m: self.support_of(self.t.schools_of(m), period) for m in munis},
        }
        if municipality is None:
            out["region"] = self.support_of(self._schools(region), period)
        out["freshness"] = await self.read.freshness()
        return out
