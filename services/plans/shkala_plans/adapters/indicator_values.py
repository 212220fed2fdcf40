"""What the plans service keeps of the indicators topic: school indicator values per period
and ШНОР/ШНСУ list membership per period. Idempotent: a value is replaced only by an event
with a higher originator version, so a redelivered or replayed event changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    RiskList,
    Scope,
)

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

    async def record(self, events: Sequence[IndicatorValueChanged | ListMembershipChanged]) -> None:
        value_ops, list_ops = [], []
        for e in events:
            if isinstance(e, IndicatorValueChanged):
                if e.scope is not Scope.SCHOOL or e.school_id is None:
                    continue
                key = f"{e.school_id}|{e.indicator_id}|{e.period}"
                value_ops.append(
                    UpdateOne(
                        {"_id": key, "version": {"$lt": e.originator_version}},
                        {
                            "$set": {
                                "school": e.school_id,
                                "indicator": e.indicator_id,
                                "period": e.period,
                                "value": e.new_value,
                                "version": e.originator_version,
                            }
                        },
                        upsert=True,
                    )
                )
            elif e.school_id is not None:
                key = f"{e.school_id}|{e.risk_list.value}|{e.period}"
                list_ops.append(
                    UpdateOne(
                        {"_id": key, "version": {"$lt": e.originator_version}},
                        {
                            "$set": {
                                "school": e.school_id,
                                "list": e.risk_list.value,
                                "period": e.period,
                                "change": e.change.value,
                                "version": e.originator_version,
                            }
                        },
                        upsert=True,
                    )
                )
        for coll, ops in ((self.values, value_ops), (self.membership, list_ops)):
            if not ops:
                continue
            try:
                await coll.bulk_write(ops, ordered=False)
            except BulkWriteError as exc:  # an older version than stored: the stale one loses
                others = [e for e in exc.details.get("writeErrors", []) if e.get("code") != 11000]
                if others:
                    raise

    async def values_for(
        self, schools: Iterable[str], periods: Iterable[str]
    ) -> dict[tuple[str, str, str], float]:
        cursor = self.values.find(
            {"school": {"$in": list(schools)}, "period": {"$in": list(periods)}}
        )
        return {
            (d["school"], d["indicator"], d["period"]): float(d["value"])
            async for d in cursor
            if d.get("value") is not None
        }

    async def membership_for(self, schools: Iterable[str]) -> list[tuple[str, str, str, str]]:
        cursor = self.membership.find({"school": {"$in": list(schools)}})
        return [(d["school"], d["list"], d["period"], d["change"]) async for d in cursor]


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
