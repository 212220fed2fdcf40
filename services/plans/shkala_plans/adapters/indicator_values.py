"""What the plans service keeps of the indicators topic: school indicator values per period
and ШНОР/ШНСУ list membership per period. Idempotent: a value is replaced only by an event
with a higher originator version, so a redelivered or replayed event changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    RiskList,
    Scope,
)
from shkala_runtime.mongo import bulk_update, find_each

VALUES = "plan_indicator_values"
MEMBERSHIP = "plan_list_membership"
SUPPORT_LISTS = (RiskList.LOW_RESULTS.value, RiskList.UNFAVOURABLE_CONDITIONS.value)


class IndicatorValues:
    def __init__(self, db: AsyncDatabase) -> None:
        self.values = db[VALUES]
        self.membership = db[MEMBERSHIP]

    async def setup(self) -> None:
        await self.values.create_index([("school", 1), ("period", 1)])
        await self.membership.create_index([("school", 1)])
        await self.values.create_index([("period", 1)])

    async def record(self, events: Sequence[IndicatorValueChanged | ListMembershipChanged]) -> None:
        values: dict[str, dict[str, Any]] = {}
        lists: dict[str, dict[str, Any]] = {}
        for e in events:
            if isinstance(e, IndicatorValueChanged):
                if e.scope is not Scope.SCHOOL or e.school_id is None:
                    continue
                target, key = values, f"{e.school_id}|{e.indicator_id}|{e.period}"
                doc: dict[str, Any] = {
                    "school": e.school_id,
                    "indicator": e.indicator_id,
                    "period": e.period,
                    "value": e.new_value,
                    # what a proposal cites beside the value (docs/adr/0013)
                    "numerator": e.numerator,
                    "denominator": e.denominator,
                    "definition_version": e.definition_version,
                }
            elif e.school_id is not None:
                target, key = lists, f"{e.school_id}|{e.risk_list.value}|{e.period}"
                doc = {
                    "school": e.school_id,
                    "list": e.risk_list.value,
                    "period": e.period,
                    "change": e.change.value,
                    "reasons": list(e.reasons),
                }
            else:
                continue
            if key not in target or target[key]["version"] < e.originator_version:
                target[key] = {**doc, "version": e.originator_version}
        await _keep_newest(self.values, values)
        await _keep_newest(self.membership, lists)

    async def values_for(
        self, schools: Iterable[str], periods: Iterable[str]
    ) -> dict[tuple[str, str, str], float]:
        found: list[dict[str, Any]] = []
        wanted = list(schools)
        for period in dict.fromkeys(periods):
            found += await find_each(self.values, "school", wanted, {"period": period})
        return {
            (d["school"], d["indicator"], d["period"]): float(d["value"])
            for d in found
            if d.get("value") is not None
        }

    async def membership_for(self, schools: Iterable[str]) -> list[tuple[str, str, str, str]]:
        found = await find_each(self.membership, "school", schools)
        return [(d["school"], d["list"], d["period"], d["change"]) for d in found]

    async def cited_for(
        self, period: str, schools: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """The school values of one period (all schools, or those named) with what a proposal
        cites: value, numerator, denominator, definition version (absent on values stored
        before they were kept)."""
        return [
            {k: v for k, v in d.items() if k != "_id"}
            for d in await _of_period(self.values, period, schools)
        ]

    async def lists_for(
        self, period: str, schools: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """The list records of the period (lists are decided per period: a school entered
        in an earlier year is not on this year's list unless this year says so): school,
        list, period, change, reasons."""
        return [
            {k: v for k, v in d.items() if k != "_id"}
            for d in await _of_period(self.membership, period, schools)
        ]


async def _of_period(
    coll: AsyncCollection, period: str, schools: Iterable[str] | None
) -> list[dict[str, Any]]:
    if schools is None:
        return [d async for d in coll.find({"period": period})]
    return await find_each(coll, "school", schools, {"period": period})


def listed_function(records: list[tuple[str, str, str, str]]) -> Callable[[str, str], bool]:
    """listed(school, period): on ШНОР or ШНСУ per the latest record at or before period."""

    def listed(school: str, period: str) -> bool:
        for risk_list in SUPPORT_LISTS:
            mine = sorted(
                (p, c) for s, li, p, c in records if s == school and li == risk_list and p <= period
            )
            if mine and mine[-1][1] == MembershipChange.ENTERED.value:
                return True
        return False

    return listed


async def _keep_newest(coll: AsyncCollection, docs: dict[str, dict[str, Any]]) -> None:
    """Store each document unless the stored one has the same or a higher version.

    No conditional upsert: on FerretDB 1.24 an upsert whose filter misses an existing ``_id``
    answers the duplicate key in a shape PyMongo cannot read (``KeyError: 'nModified'``),
    which jammed the consumer on every redelivery. Known ids are updated, new ones inserted.
    """
    if not docs:
        return
    stored = {
        d["_id"]: d["version"] for d in await find_each(coll, "_id", docs, None, {"version": 1})
    }
    updates = [
        UpdateOne({"_id": k, "version": {"$lt": d["version"]}}, {"$set": d})
        for k, d in docs.items()
        if k in stored and stored[k] < d["version"]
    ]
    inserts = [{"_id": k, **d} for k, d in docs.items() if k not in stored]
    if updates:
        await bulk_update(coll, updates)
    if inserts:
        try:
            await coll.insert_many(inserts, ordered=False)
        except BulkWriteError as exc:  # another writer inserted some first: newest wins
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise
            await _keep_newest(coll, {d["_id"]: docs[d["_id"]] for d in inserts})
