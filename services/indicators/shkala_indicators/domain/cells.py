"""The projection's state per partition and the decision a batch makes on it.

State is kept per Kafka partition index (every topic is keyed by school id with the same
partition count, so a school's registration and all its facts share one index, and a
consumer group with the range assignor gives one instance all topics' partition *i*). Per
(school, period) — a *cell* — it holds the sufficient statistics (:mod:`stats`), the values,
list memberships and teacher values last decided, and the version counters of the derived
events. :func:`decide` turns a batch into what to store and publish; it updates the state in
place, and the caller drops the state when committing the decision fails (so memory never runs
ahead of what is stored).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from shkala_contracts import Tenant
from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    ObjectivityFlagRaised,
    RiskList,
    Scope,
    ThresholdCrossing,
)
from shkala_indicators.domain.compute import Value, at_risk, list_membership
from shkala_indicators.domain.seed_formulas import next_period, previous_period
from shkala_indicators.domain.stats import CellStats, Contribution, Rules, compute_teacher_values
from shkala_indicators.domain.stats import compute_values as compute_cell

CellKey = tuple[str, str]  # (school, period)
TopicPartition = tuple[str, int]
OBJECTIVITY_PROCEDURE = {
    "vpr_lowered_share": "ВПР",
    "vpr_raised_share": "ВПР",
    "vpr_confirmed_share": "ВПР",
    "medalists_not_confirming_share": "ЕГЭ",
}


@dataclass(frozen=True, slots=True)
class Incoming:
    """One delivered fact or org unit, as the domain sees it (no Kafka types)."""

    oid: str
    version: int
    topic: str
    partition: int
    offset: int
    time: dt.datetime
    type: str
    row: dict[str, Any] | None  # a fact's compact payload; None for an org unit
    cell: CellKey | None = None
    org: dict[str, Any] | None = None  # an org unit's document
    payload: dict[str, Any] | None = None  # the fact as published (stored in its page)

    @property
    def rank(self) -> tuple[int, int]:
        return (self.version, self.offset)


@dataclass(slots=True)
class Placed:
    """Where a fact's current version sits and what it contributed (to subtract it)."""

    version: int
    offset: int
    cell: CellKey
    contribution: Contribution


@dataclass
class CellState:
    stats: CellStats = field(default_factory=CellStats)
    values: dict[str, tuple[float, float, float | None, int]] = field(default_factory=dict)
    lists: dict[str, tuple[bool, tuple[str, ...], int]] = field(default_factory=dict)
    teachers: dict[str, dict[str, Any]] = field(default_factory=dict)
    seq: int = 0  # pages written for this cell
    event_time: dt.datetime | None = None
    municipality: str | None = None  # the municipality its values were decided under
    positions: dict[TopicPartition, int] = field(default_factory=dict)  # of its facts


@dataclass
class PartitionState:
    index: int
    org: dict[str, dict[str, Any]] = field(default_factory=dict)
    placed: dict[str, Placed] = field(default_factory=dict)
    cells: dict[CellKey, CellState] = field(default_factory=lambda: defaultdict(CellState))
    periods: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    last_event_time: dt.datetime | None = None

    def place(self, rules: Rules, f: Incoming) -> tuple[bool, CellKey | None]:
        """Make ``f`` current unless a newer version is: (whether it did, the cell it left)."""
        assert f.row is not None
        assert f.cell is not None
        old = self.placed.get(f.oid)
        if old is not None and f.rank <= (old.version, old.offset):
            return False, None
        line = rules.absence_lessons
        left = None
        if old is not None:
            self.cells[old.cell].stats.apply(old.contribution, -1, f.oid, None, line)
            left = old.cell if old.cell != f.cell else None
        if f.cell not in self.cells:
            self.cells[f.cell] = CellState()
        c = rules.contribution(f.row)
        self.cells[f.cell].stats.apply(c, 1, f.oid, f.row, line)
        self.placed[f.oid] = Placed(f.version, f.offset, f.cell, c)
        self.periods[f.cell[0]].add(f.cell[1])
        cell = self.cells[f.cell]
        tp = (f.topic, f.partition)
        cell.positions[tp] = max(cell.positions.get(tp, -1), f.offset)
        if cell.event_time is None or f.time > cell.event_time:
            cell.event_time = f.time
        return True, left

    def saw(self, f: Incoming) -> None:
        key = (f.topic, f.partition)
        self.positions[key] = max(self.positions.get(key, -1), f.offset)
        if self.last_event_time is None or f.time > self.last_event_time:
            self.last_event_time = f.time

    def is_school(self, school: str) -> bool:
        return self.org.get(school, {}).get("kind") == "school"


@dataclass
class PageOut:
    """A cell's new page: the facts this batch made current and the cell's state after it."""

    part: int
    cell: CellKey
    seq: int
    facts: list[Incoming]
    state: CellState


@dataclass
class Decision:
    org: list[dict[str, Any]] = field(default_factory=list)
    pages: list[PageOut] = field(default_factory=list)
    teachers: dict[CellKey, dict[str, dict[str, Any]]] = field(default_factory=dict)
    events: list[tuple[DomainEvent, Tenant]] = field(default_factory=list)
    checkpoints: dict[int, PartitionState] = field(default_factory=dict)
    touched: int = 0


def decide(rules: Rules, states: dict[int, PartitionState], batch: list[Incoming]) -> Decision:
    """Apply a batch to the partitions' states; returns what to store and publish.

    A redelivered fact (not newer than the current version) changes nothing; a correction
    subtracts the version it replaces. Only cells whose values, lists or facts changed get a
    page; events only for values and memberships that actually changed.
    """
    out = Decision()
    fresh: dict[tuple[int, CellKey], list[Incoming]] = defaultdict(list)
    affected: set[tuple[int, CellKey]] = set()
    registered: set[tuple[int, str]] = set()
    for f in batch:
        st = states[f.partition]
        st.saw(f)
        out.checkpoints[f.partition] = st
        if f.org is not None:
            old = st.org.get(f.oid)
            if old is not None and f.rank <= (old["v"], old["offset"]):
                continue
            st.org[f.oid] = f.org
            out.org.append(f.org)
            if f.org["kind"] == "school" and (
                old is None or old.get("municipality_id") != f.org["municipality_id"]
            ):
                registered.add((f.partition, f.oid))
            continue
        if f.cell is None:
            continue  # seen only (its position is checkpointed): a network pair
        placed, left = st.place(rules, f)
        if not placed:
            continue  # a redelivery or an older version: nothing changes
        fresh[(f.partition, f.cell)].append(f)
        affected.add((f.partition, f.cell))
        if left is not None:
            affected.add((f.partition, left))
    for part, school in registered:
        affected |= {(part, (school, p)) for p in states[part].periods.get(school, ())}
    if rules.years > 1:  # a share «за 2 года» of the following years moves with this one
        for part, (school, period) in list(affected):
            known = states[part].periods.get(school, ())
            p = period
            for _ in range(rules.years - 1):
                p = next_period(p)
                if p in known:
                    affected.add((part, (school, p)))
    for part, cell in sorted(affected):
        st = states[part]
        cs = st.cells[cell]
        changed = _decide_cell(rules, st, cell, cs, out) if st.is_school(cell[0]) else False
        if changed or fresh.get((part, cell)):
            cs.seq += 1
            out.pages.append(PageOut(part, cell, cs.seq, fresh.get((part, cell), []), cs))
    out.touched = len(affected)
    return out


def _decide_cell(
    rules: Rules, st: PartitionState, cell: CellKey, cs: CellState, out: Decision
) -> bool:
    school, period = cell
    o = st.org[school]
    region, municipality = o["region_id"], o["municipality_id"]
    tenant = Tenant(region=region, municipality=municipality, school=school)
    earlier = []
    p = period
    for _ in range(rules.years - 1):
        p = previous_period(p)
        earlier.append(st.cells[(school, p)].stats if (school, p) in st.cells else None)
    values = compute_cell(rules, cs.stats, earlier)
    moved = cs.municipality != municipality
    cs.municipality = municipality
    changed = moved
    by_id = rules.catalogue.by_id()
    for ind in rules.catalogue.indicators:
        new = values.get(ind.id)
        old = cs.values.get(ind.id)
        if _same(old, new):
            continue
        version = (old[3] if old else 0) + 1
        if new is None:
            cs.values[ind.id] = (0.0, 0.0, None, version)
        else:
            cs.values[ind.id] = (new.numerator, new.denominator, new.value, version)
        changed = True
        out.events.extend(
            _value_events(rules, ind.id, school, period, old, new, version, tenant, by_id)
        )
    for rule in rules.catalogue.lists:
        if rule.rule == "lowest":
            # relative to the region's schools: one partition cannot rank them; the read
            # table decides these lists on read (no membership events for them yet)
            continue
        member, reasons = list_membership(rule, rules.catalogue, values)
        was = cs.lists.get(rule.name)
        if was is not None and (was[0], was[1]) == (member, reasons):
            continue
        if was is None and not member:
            cs.lists[rule.name] = (False, reasons, 1)
            changed = True
            continue
        version = max((was[2] if was else 0) + (1 if bool(was and was[0]) != member else 0), 1)
        cs.lists[rule.name] = (member, reasons, version)
        changed = True
        if bool(was and was[0]) != member:
            key = f"{rule.name}|{school}|{period}"
            out.events.append(
                (
                    ListMembershipChanged(
                        originator_id=f"list:{key}",
                        originator_version=version,
                        region_id=region,
                        municipality_id=municipality,
                        school_id=school,
                        risk_list=RiskList(rule.name),
                        period=period,
                        change=MembershipChange.ENTERED if member else MembershipChange.LEFT,
                        definition_version=rules.catalogue.version,
                        reasons=reasons,
                    ),
                    tenant,
                )
            )
    teachers = {
        f"{ind}|{teacher}|{school}|{period}": {
            "indicator_id": ind,
            "teacher": teacher,
            "school_id": school,
            "municipality_id": municipality,
            "period": period,
            "numerator": v.numerator,
            "denominator": v.denominator,
            "value": v.value,
            "definition_version": rules.catalogue.version,
        }
        for (ind, teacher), v in compute_teacher_values(rules, cs.stats).items()
    }
    if teachers != cs.teachers:
        cs.teachers = teachers
        out.teachers[cell] = teachers
        changed = True
    return changed


def _same(old: tuple[float, float, float | None, int] | None, new: Value | None) -> bool:
    if old is None:
        return new is None
    if new is None:
        return old[2] is None and old[1] == 0
    return (old[0], old[1], old[2]) == (new.numerator, new.denominator, new.value)


def _value_events(
    rules: Rules,
    ind_id: str,
    school: str,
    period: str,
    old: tuple[float, float, float | None, int] | None,
    new: Value | None,
    version: int,
    tenant: Tenant,
    by_id: dict[str, Any],
) -> list[tuple[DomainEvent, Tenant]]:
    ind = by_id[ind_id]
    old_value = old[2] if old else None
    was = ind.threshold is not None and old is not None and ind.threshold.at_risk(old_value)
    now = at_risk(ind, new)
    crossing = None
    if was != now:
        crossing = ThresholdCrossing.INTO_RISK if now else ThresholdCrossing.OUT_OF_RISK
    key = f"{ind_id}|school|{school}|{period}"
    out: list[tuple[DomainEvent, Tenant]] = [
        (
            IndicatorValueChanged(
                originator_id=f"indicator:{key}",
                originator_version=version,
                region_id=tenant.region,
                municipality_id=tenant.municipality,
                school_id=school,
                indicator_id=ind_id,
                direction=ind.direction,
                scope=Scope.SCHOOL,
                period=period,
                definition_version=rules.catalogue.version,
                old_value=old_value,
                new_value=new.value if new else None,
                numerator=new.numerator if new else 0.0,
                denominator=new.denominator if new else 0.0,
                threshold_crossed=crossing,
            ),
            tenant,
        )
    ]
    if (
        crossing is ThresholdCrossing.INTO_RISK
        and ind.direction == "objectivity"
        and ind.threshold is not None
        and new is not None
        and new.value is not None
    ):
        out.append(
            (
                ObjectivityFlagRaised(
                    originator_id=f"objectivity:{key}",
                    originator_version=version,
                    region_id=tenant.region,
                    municipality_id=tenant.municipality,
                    school_id=school,
                    indicator_id=ind_id,
                    period=period,
                    procedure=OBJECTIVITY_PROCEDURE.get(ind_id, "ВПР"),
                    value=new.value,
                    threshold=ind.threshold.value,
                    definition_version=rules.catalogue.version,
                ),
                tenant,
            )
        )
    return out


__all__ = ["CellKey", "CellState", "Decision", "Incoming", "PartitionState", "decide"]
