"""Half-year periods (seed 004: 01.01 and 01.07; ``domain/half_years.py``): the dated
indicators of schools and their municipality's roll-up for a half of an academic year,
computed from the stored facts (the pages) by the catalogue's own formulas, beside the
previous half."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from shkala_indicators.domain import half_years
from shkala_indicators.domain.compute import Value, at_risk, roll_up
from shkala_indicators.domain.half_years import HalfYear
from shkala_indicators.domain.network import compare
from shkala_indicators.domain.rows import compact
from shkala_indicators.service_layer.read import ReadModel


class HalfYearReads:
    def __init__(self, read: ReadModel) -> None:
        self.read = read
        self.catalogue = read.catalogue
        self.inds = half_years.dated_indicators(read.catalogue)

    async def _facts(self, schools: list[str], year: str) -> dict[str, list[dict[str, Any]]]:
        gen = await self.read.gen()
        by_school: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in await gen.current_facts(schools, year):
            by_school[f["cell"][0]].append(compact(f["data"], f["type"]))
        return by_school

    async def values(self, schools: list[str], half: HalfYear) -> dict[str, dict[str, Value]]:
        facts = await self._facts(schools, half.academic_year)
        return {s: half_years.compute_half(self.catalogue, facts.get(s, []), half) for s in schools}

    async def schools(self, schools: list[str], half: HalfYear) -> dict[str, Any]:
        """Each school's dated indicators in the half beside the previous half, and their
        roll-up (sums of numerators and denominators)."""
        prev = half.previous()
        now, before = await self.values(schools, half), await self.values(schools, prev)
        t = self.read.table
        rows = []
        for s in schools:
            rows.append(
                {
                    "school_id": s,
                    "name": t.org.get(s, {}).get("name"),
                    "indicators": [
                        self._entry(i, now[s].get(i.id), before[s].get(i.id)) for i in self.inds
                    ],
                }
            )
        rolled = []
        for i in self.inds:
            v_now = roll_up(i, [now[s][i.id] for s in schools if i.id in now[s]])
            v_before = roll_up(i, [before[s][i.id] for s in schools if i.id in before[s]])
            rolled.append(self._entry(i, v_now, v_before))
        return {
            **half.describe(),
            "previous_period": prev.key,
            "definition_version": self.catalogue.version,
            "indicators": [i.describe() for i in self.inds],
            "not_dated": [i.id for i in self.catalogue.indicators if i not in self.inds],
            "schools": rows,
            "roll_up": rolled,
            "freshness": await self.read.freshness(),
        }

    @staticmethod
    def _entry(ind: Any, now: Value | None, before: Value | None) -> dict[str, Any]:
        return {
            **compare(ind, now, before),
            "numerator": None if now is None else now.numerator,
            "denominator": None if now is None else now.denominator,
            "at_risk": at_risk(ind, now) if now is not None else False,
        }
