"""«Как посчитано»: the read side of the explanations — an indicator value of a school with
the facts behind it, a school's entry in a list with its criteria, a rating score with its
components. The facts are the school's current facts from the store (the rule the
projection follows); the answer also shows the stored value and whether the two agree."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from shkala_indicators.domain.compute import Value, years_of
from shkala_indicators.domain.explain import explain_value
from shkala_indicators.domain.explain_lists import explain_list, explain_rating
from shkala_indicators.domain.objectivity import shift_period
from shkala_indicators.service_layer import read_objectivity
from shkala_indicators.service_layer.read import ReadModel


class UnknownList(LookupError):
    pass


def _rule_text(catalogue: Any, ind_id: str) -> dict[str, Any]:
    ind = catalogue.get(ind_id)
    d = ind.describe()
    return {
        "indicator_id": ind.id,
        "name": d["name"],
        "direction": ind.direction,
        "numerator_text": ind.numerator,
        "denominator_text": ind.denominator,
        "unit": ind.unit,
        "better": ind.better,
        "threshold": d["threshold"],
        "params": ind.params,
        "criteria": d["criteria"],
        "sources": ind.sources,
        "parameters": {k: v for k, v in catalogue.parameters.items() if _mentions(ind, k)},
    }


def _mentions(ind: Any, name: str) -> bool:
    """A catalogue parameter the indicator's definition names (text or params)."""
    return name in ind.numerator or name in ind.denominator or name in ind.params.values()


class Explanations:
    """Explanations of the values, list entries and rating scores the read side answers."""

    def __init__(self, read: ReadModel) -> None:
        self.read = read
        self.catalogue = read.catalogue

    def _depth(self) -> int:
        """How many years the catalogue's shares «за N лет» reach back (1: this one only)."""
        p = self.catalogue.parameters
        return max((years_of(i, p) for i in self.catalogue.indicators if i.kind == "mark2_share"),
                   default=1)  # fmt: skip

    async def indicator(self, school: str, indicator: str, period: str) -> dict[str, Any]:
        periods = [shift_period(period, -i) for i in range(self._depth())]
        facts = await self.read.current_facts([school], period)
        earlier = [await self.read.current_facts([school], p) for p in periods[1:]]
        e = explain_value(self.catalogue, indicator, facts, earlier, periods)
        stored = self.read.table.school_value(indicator, school, period)
        body = e.describe()
        mine = (body["numerator"], body["denominator"])
        return {
            "school_id": school,
            "period": period,
            "periods": periods,
            "definition_version": self.catalogue.version,
            "rule": _rule_text(self.catalogue, indicator),
            **body,
            "stored": (
                {
                    k: stored.get(k)
                    for k in (
                        "numerator",
                        "denominator",
                        "value",
                        "at_risk",
                        "definition_version",
                        "event_time",
                    )
                }
                if stored
                else None
            ),
            # the stored value is the projection's; a difference means it has not applied
            # the newest facts yet (see freshness)
            "matches_stored": (
                (stored["numerator"], stored["denominator"]) == mine
                if stored
                else body["value"] is None
            ),
            "freshness": await self.read.freshness(),
        }

    def _values(self, school: str, period: str) -> dict[str, Value]:
        return self.read.table.values_by_indicator(school, period)

    async def list_entry(self, list_name: str, school: str, period: str) -> dict[str, Any]:
        rule = next((r for r in self.catalogue.lists if r.name == list_name), None)
        if rule is None:
            raise UnknownList(list_name)
        t = self.read.table
        values = self._values(school, period)
        region = t.org.get(school, {}).get("region_id")
        peers = None
        if rule.rule == "lowest":
            ind = rule.indicators[0]
            peers = {
                s: self._values(s, period).get(ind)
                for s in read_objectivity.region_schools(t, region)
            }
        body = explain_list(rule, self.catalogue, values, peers, school)
        if rule.rule == "lowest":
            # the other schools are ranked, not named: only the school's own figures show
            body["peers"] = "region"
        extra: dict[str, Any] = {}
        if list_name == read_objectivity.LIST_NAME:
            # the region-relative signs and the federal list, as GET /lists judges them
            everyone = read_objectivity.region_schools(t, region)
            members = {school: body["reasons"]} if body["member"] else {}
            now, flags = read_objectivity.screened(t, self.catalogue, everyone, period, members)
            extra = {
                "flags": flags.get(school, []),
                "federal_list": school
                in read_objectivity.federal(t, self.catalogue, [school], period),
            }
            body["member"] = school in now
            body["reasons"] = now.get(school, [])
        return {
            "school_id": school,
            "period": period,
            "definition_version": self.catalogue.version,
            **body,
            **extra,
            "values": {
                k: {"numerator": v.numerator, "denominator": v.denominator, "value": v.value}
                for k, v in sorted(values.items())
                if k in {c["indicator_id"] for c in body["criteria"]}
            },
            "freshness": await self.read.freshness(),
        }

    async def rating(self, municipality: str, school: str, period: str) -> dict[str, Any]:
        rule = self.catalogue.rating
        t = self.read.table
        values: dict[str, dict[str, float | None]] = defaultdict(dict)
        docs: dict[str, dict[str, Any]] = {}
        for s in t.schools_of(municipality):
            for doc in t.school_values(s, period):
                values[s][doc["indicator_id"]] = doc["value"]
                if s == school:
                    docs[doc["indicator_id"]] = doc
        body = explain_rating(values, rule, self.catalogue.by_id(), school) if rule else None
        if body is not None:
            for c in body["components"]:
                d = docs.get(c["indicator_id"])
                c["source"] = (
                    {
                        "numerator": d["numerator"],
                        "denominator": d["denominator"],
                        "value": d["value"],
                        "definition_version": d.get("definition_version"),
                        "explain": f"/schools/{school}/indicators/{c['indicator_id']}/explain"
                        f"?period={period}",
                    }
                    if d
                    else None
                )
        return {
            "municipality_id": municipality,
            "school_id": school,
            "period": period,
            "definition_version": self.catalogue.version,
            "rule": self.catalogue.describe()["rating"],
            "rated": body is not None,
            "explanation": body,
            "freshness": await self.read.freshness(),
        }


__all__ = ["Explanations", "UnknownList"]
