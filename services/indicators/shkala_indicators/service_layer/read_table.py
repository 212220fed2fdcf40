"""The replicated read table: every instance folds the org-unit topic and the derived-events
topic into memory, so any instance answers any tenant's card, table, list, roll-up or rating
without asking the instance that owns the school (the heavy per-school state stays
partitioned; see ADR 0007).

The table holds the current value of every school indicator (the newest originator version
of its ``IndicatorValueChanged`` wins, so a redelivered or republished event changes
nothing) and the org units (the newest registration wins). Everything spanning schools is
computed from it on read: roll-ups sum numerators and denominators, list membership follows
from a school's values by the catalogue's rules, the rating ranks a municipality's schools.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from shkala_contracts.events.cycle import (
    MonitoringPeriodApproved,
    MonitoringPeriodLocked,
    MonitoringPeriodOpened,
    MonitoringPeriodReopened,
    MonitoringPeriodReturned,
    MonitoringPeriodSubmitted,
    PeriodState,
)
from shkala_contracts.events.indicators import IndicatorValueChanged, Scope
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    NetworkPairFormed,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_contracts.events.reference import VprTaskPlannedResult
from shkala_indicators.domain.catalogue import Catalogue
from shkala_indicators.domain.compute import Value, at_risk, list_membership, relative_members
from shkala_indicators.domain.deficits import PlannedResultMap
from shkala_indicators.domain.network import Pairs
from shkala_runtime.consuming import Delivered

ValueKey = tuple[str, str, str]  # (indicator, school, period)
T = TypeVar("T")

# the plans service's monitoring-period events and the state each one leaves (ADR 0006)
PERIOD_STATES: dict[type, PeriodState] = {
    MonitoringPeriodOpened: PeriodState.OPEN,
    MonitoringPeriodSubmitted: PeriodState.SUBMITTED,
    MonitoringPeriodReturned: PeriodState.RETURNED,
    MonitoringPeriodApproved: PeriodState.APPROVED,
    MonitoringPeriodLocked: PeriodState.LOCKED,
    MonitoringPeriodReopened: PeriodState.OPEN,
}
APPROVED_STATES = frozenset({PeriodState.APPROVED.value, PeriodState.LOCKED.value})


class ReadTable:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.by_id = catalogue.by_id()
        self.org: dict[str, dict[str, Any]] = {}
        self._org_rank: dict[str, tuple[int, int, int]] = {}
        self.values: dict[ValueKey, dict[str, Any]] = {}
        self.by_school: dict[str, set[ValueKey]] = defaultdict(set)
        self.positions: dict[tuple[str, int], int] = {}  # topic-partition -> last offset read
        self.updated_at: dt.datetime | None = None
        self._lists: dict[tuple[str, str], list[dict[str, Any]]] = {}  # until a value changes
        # relative lists (rule lowest, seed 002's ШНСУ): members per (list, region, period),
        # until a value of the ranked indicator or an org unit changes
        self._ranked = {r.indicators[0] for r in catalogue.lists if r.rule == "lowest"}
        self._lowest: dict[tuple[str, str | None, str], set[str]] = {}
        # what a read computes across a region's schools (the objectivity screening ranks
        # every school against the region, the region's roll-ups): kept until any value, org
        # unit or monitoring period changes, so a quiet table answers it once, not once a page
        self._derived: dict[Hashable, Any] = {}
        # (school, period) -> (originator version, state) of its monitoring period
        self.periods: dict[tuple[str, str], tuple[int, str]] = {}
        # (school, period) -> every period event seen: (originator version, time, state);
        # the state at a past moment and the moment of approval come from it (ADR 0010)
        self.period_log: dict[tuple[str, str], dict[int, tuple[dt.datetime, str]]] = {}
        # network pairs (leading school → supported school, per academic year; read_network)
        self.pairs = Pairs()
        self.planned_results = PlannedResultMap()  # ВПР task → planned results (upload)

    # ------------------------------------------------------------------ folding
    def fold(self, batch: list[Delivered]) -> None:
        for d in batch:
            pos = d.position
            key = (pos.topic, pos.partition)
            self.positions[key] = max(self.positions.get(key, -1), pos.offset)
            e = d.event
            if isinstance(e, RegionRegistered | MunicipalityRegistered | SchoolRegistered):
                self._org(d)
            elif isinstance(e, IndicatorValueChanged) and e.scope is Scope.SCHOOL and e.school_id:
                self._value(e, d.envelope.time)
            elif type(e) in PERIOD_STATES:
                self.period_event(e, d.envelope.time)
            elif isinstance(e, NetworkPairFormed):
                rank = (d.envelope.originator_version, pos.partition, pos.offset)
                self.pairs.fold(d.envelope.originator_id, rank, e.model_dump(mode="json"))
            elif isinstance(e, VprTaskPlannedResult):  # reference data (domain/deficits.py)
                rank = (d.envelope.originator_version, d.position.partition, d.position.offset)
                self.planned_results.fold(d.envelope.originator_id, rank, e.model_dump())
        if batch:
            self.updated_at = dt.datetime.now(dt.UTC)

    def _org(self, d: Delivered) -> None:
        e: Any = d.event
        unit = getattr(e, "school_id", None) or getattr(e, "municipality_id", None) or e.region_id
        rank = (d.envelope.originator_version, d.position.partition, d.position.offset)
        if unit in self._org_rank and rank <= self._org_rank[unit]:
            return
        self._org_rank[unit] = rank
        self._lists.clear()
        self._derived.clear()
        self._lowest.clear()
        kind = (
            "school"
            if isinstance(e, SchoolRegistered)
            else "municipality"
            if isinstance(e, MunicipalityRegistered)
            else "region"
        )
        self.org[unit] = {
            "_id": unit,
            "kind": kind,
            "region_id": e.region_id,
            "municipality_id": getattr(e, "municipality_id", None),
            "name": e.name,
        }
        if isinstance(e, SchoolRegistered):  # the groupings across the tree (read_network)
            self.org[unit]["resource_centre_id"] = e.resource_centre_id
            self.org[unit]["network_leader_id"] = e.network_leader_id

    def _value(self, e: IndicatorValueChanged, time: dt.datetime) -> None:
        self.value_changed(e.model_dump(), time)

    def value_changed(self, e: dict[str, Any], time: dt.datetime) -> None:
        """Fold one school ``IndicatorValueChanged`` given as its JSON fields."""
        key = (e["indicator_id"], e["school_id"] or "", e["period"])
        version = e["originator_version"]
        known = self.values.get(key)
        if known is not None and version <= known["version"]:
            return
        self._lists.pop((key[1], key[2]), None)
        self._derived.clear()
        if key[0] in self._ranked:  # every school's rank in the period may have moved
            self._lists = {k: v for k, v in self._lists.items() if k[1] != key[2]}
            self._lowest = {k: v for k, v in self._lowest.items() if k[2] != key[2]}
        if e["new_value"] is None and not e["denominator"]:
            # the value is gone (its facts were corrected away); remember the version only
            self.values[key] = {"version": version, "gone": True}
            self.by_school[key[1]].discard(key)
            return
        ind = self.by_id.get(e["indicator_id"])
        v = Value(e["numerator"], e["denominator"], e["new_value"])
        self.values[key] = {
            "indicator_id": e["indicator_id"],
            "direction": e["direction"],
            "scope": "school",
            "unit_id": e["school_id"],
            "school_id": e["school_id"],
            "period": e["period"],
            "numerator": e["numerator"],
            "denominator": e["denominator"],
            "value": e["new_value"],
            "at_risk": at_risk(ind, v) if ind else False,
            "definition_version": e["definition_version"],
            "event_time": time,
            "updated_at": time,
            "version": version,
        }
        if ind is not None and ind.targets is not None:  # seed 003: the year's target, met?
            self.values[key]["target"] = ind.target(e["period"], e["new_value"])
        self.by_school[key[1]].add(key)

    def period_event(self, e: Any, time: dt.datetime | None = None) -> None:
        """Fold one monitoring-period event: the newest originator version of the school's
        period wins (a redelivered or late older event changes nothing)."""
        state = PERIOD_STATES.get(type(e))
        if state is None or not e.school_id:
            return
        key = (e.school_id, e.period)
        if time is not None:
            self.period_log.setdefault(key, {})[e.originator_version] = (_utc(time), state.value)
        known = self.periods.get(key)
        if known is not None and e.originator_version <= known[0]:
            return
        self.periods[key] = (e.originator_version, state.value)
        self._derived.clear()  # roll-ups carry their schools' approval states

    # ------------------------------------------------------------------ queries
    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, remembered under ``key`` until the table next changes."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    def approval_of(self, school: str, period: str) -> str:
        """The school's monitoring-period state (``open`` when plans said nothing yet)."""
        known = self.periods.get((school, period))
        return known[1] if known else PeriodState.OPEN.value

    def approval_at(self, school: str, period: str, at: dt.datetime | None) -> str:
        """The state at a past moment (``at=None``: now): the newest version recorded by
        then."""
        if at is None:
            return self.approval_of(school, period)
        log = self.period_log.get((school, period), {})
        seen = [v for v, (t, _) in log.items() if t <= at]
        return log[max(seen)][1] if seen else PeriodState.OPEN.value

    def approved_since(
        self, school: str, period: str, at: dt.datetime | None = None
    ) -> dt.datetime | None:
        """When the data the school's period rests on was approved: the time of the
        approval in force (the latest approval before the lock; the lock itself when no
        approval was seen), or ``None`` when the period is not approved (at ``at``)."""
        if self.approval_at(school, period, at) not in APPROVED_STATES:
            return None
        log = self.period_log.get((school, period), {})
        versions = sorted(v for v, (t, _) in log.items() if at is None or t <= at)
        current = max(versions) if versions else None
        since = None
        for v in reversed(versions):
            t, state = log[v]
            if state == PeriodState.APPROVED.value:
                return t
            if state == PeriodState.LOCKED.value:
                since = t
            elif v != current:
                break  # an earlier open/submitted/returned: no approval behind the lock
        return since

    def approval_summary(
        self, schools: list[str], period: str, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        """How many of the schools behind a roll-up stand in each state; it rests on
        approved data only when every one of them is approved or locked."""
        by_state = dict.fromkeys((s.value for s in PeriodState), 0)
        for s in schools:
            by_state[self.approval_at(s, period, at)] += 1
        approved = by_state[PeriodState.APPROVED.value] + by_state[PeriodState.LOCKED.value]
        return {
            "schools": len(schools),
            "approved": approved,
            "by_state": by_state,
            "rests_on_approved": bool(schools) and approved == len(schools),
        }

    def stamp(self, school: str, period: str) -> tuple[tuple[str, int], ...]:
        """What the school's live values in a period are made of (their versions): changes
        whenever one of them does (a cache key for what is computed from its facts)."""
        return tuple(
            sorted(
                (k[0], self.values[k]["version"])
                for k in self.by_school.get(school, ())
                if k[2] == period
            )
        )

    def schools_of(self, municipality: str) -> list[str]:
        return sorted(
            k
            for k, o in self.org.items()
            if o["kind"] == "school" and o["municipality_id"] == municipality
        )

    def municipalities_of(self, region: str) -> list[str]:
        return sorted(
            {
                o["municipality_id"]
                for o in self.org.values()
                if o["kind"] == "school" and o["region_id"] == region
            }
        )

    def school_values(self, school: str, period: str | None = None) -> list[dict[str, Any]]:
        docs = [self.values[k] for k in self.by_school.get(school, ())]
        return [d for d in docs if period is None or d["period"] == period]

    def school_value(self, indicator: str, school: str, period: str) -> dict[str, Any] | None:
        d = self.values.get((indicator, school, period))
        return None if d is None or d.get("gone") else d

    def values_by_indicator(self, school: str, period: str) -> dict[str, Value]:
        return {
            d["indicator_id"]: Value(d["numerator"], d["denominator"], d["value"])
            for d in self.school_values(school, period)
        }

    def lists_of(self, school: str, period: str) -> list[dict[str, Any]]:
        """The school's list memberships in a period, by the catalogue's rules."""
        cached = self._lists.get((school, period))
        if cached is not None:
            return cached
        values = self.values_by_indicator(school, period)
        if not values:
            return []
        out: list[dict[str, Any]] = []
        for rule in self.catalogue.lists:
            lowest = self.lowest_of(rule, school, period) if rule.rule == "lowest" else None
            member, reasons = list_membership(rule, self.catalogue, values, lowest, school)
            out.append(
                {
                    "list": rule.name,
                    "period": period,
                    "member": member,
                    "reasons": list(reasons),
                    "definition_version": self.catalogue.version,
                }
            )
        self._lists[(school, period)] = out
        return out

    def lowest_of(self, rule: Any, school: str, period: str) -> set[str]:
        """The region's schools a relative list takes in a period (domain rule)."""
        region = self.org.get(school, {}).get("region_id")
        key = (rule.name, region, period)
        found = self._lowest.get(key)
        if found is None:
            ind = rule.indicators[0]
            peers = {}
            for s, o in self.org.items():
                if o["kind"] == "school" and o["region_id"] == region:
                    d = self.school_value(ind, s, period)
                    if d is not None:
                        peers[s] = Value(d["numerator"], d["denominator"], d["value"])
            found = self._lowest[key] = relative_members(rule, peers)
        return found

    def periods_of(self, school: str) -> list[str]:
        return sorted({k[2] for k in self.by_school.get(school, ())})

    def members(self, risk_list: str, period: str, schools: list[str]) -> dict[str, list[str]]:
        out = {}
        for s in schools:
            for entry in self.lists_of(s, period):
                if entry["list"] == risk_list and entry["member"]:
                    out[s] = entry["reasons"]
        return out

    def roll_up(self, scope: str, unit: str, period: str, schools: list[str]) -> dict[str, Any]:
        """Municipality or region values: sums of the schools' numerators and denominators."""
        out: dict[str, Any] = {}
        region = self.org.get(unit, {}).get("region_id") if scope == "municipality" else unit
        values = self.values
        approval = self.approval_summary(schools, period)
        for ind in self.catalogue.indicators:
            num = den = 0.0
            found = False
            for s in schools:  # sums of numerators and denominators (domain.compute.roll_up)
                d = values.get((ind.id, s, period))
                if d is not None and not d.get("gone") and d["denominator"]:
                    num += d["numerator"]
                    den += d["denominator"]
                    found = True
            if not found:
                continue
            v = Value.of(num, den, ind.scale)
            out[ind.id] = {
                "indicator_id": ind.id,
                "direction": ind.direction,
                "scope": scope,
                "unit_id": unit,
                "region_id": region,
                "municipality_id": unit if scope == "municipality" else None,
                "period": period,
                "numerator": v.numerator,
                "denominator": v.denominator,
                "value": v.value,
                "at_risk": at_risk(ind, v),
                "definition_version": self.catalogue.version,
                "event_time": None,
                "updated_at": self.updated_at,
                "approval": approval,
            }
            if ind.targets is not None:  # seed 003: the year's target, met?
                out[ind.id]["target"] = ind.target(period, v.value)
        return out


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


__all__ = ["APPROVED_STATES", "ReadTable"]
