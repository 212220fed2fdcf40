"""What plans keeps of the indicators topic survives redelivery on the real database: the same
events again, and an older version after a newer one, change nothing and raise nothing (on
FerretDB a conditional upsert against an existing id used to jam the consumer)."""

from __future__ import annotations

from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    RiskList,
    Scope,
)
from shkala_plans.adapters.indicator_values import IndicatorValues
from shkala_runtime.mongo import database, make_client
from shkala_runtime.settings import ServiceSettings


def value(school: str, v: float, version: int) -> IndicatorValueChanged:
    return IndicatorValueChanged(
        originator_id=f"indicator:vpr_mark2_share_math|school|{school}|2025/26",
        originator_version=version,
        region_id="r",
        municipality_id="m",
        school_id=school,
        indicator_id="vpr_mark2_share_math",
        direction="low_results",
        scope=Scope.SCHOOL,
        period="2025/26",
        definition_version="2026.1",
        old_value=None,
        new_value=v,
        numerator=v,
        denominator=100,
    )


def entered(school: str, version: int, change: MembershipChange) -> ListMembershipChanged:
    return ListMembershipChanged(
        originator_id=f"list:ШНОР|{school}|2025/26",
        originator_version=version,
        region_id="r",
        municipality_id="m",
        school_id=school,
        risk_list=RiskList.LOW_RESULTS,
        period="2025/26",
        change=change,
        definition_version="2026.1",
        reasons=("vpr_mark2_share_math",),
    )


async def test_redelivered_and_older_events_change_nothing(test_settings: ServiceSettings) -> None:
    client = make_client(test_settings)
    try:
        store = IndicatorValues(database(client, test_settings))
        first = [
            value("a", 30.0, 1),
            value("b", 10.0, 1),
            entered("a", 1, MembershipChange.ENTERED),
        ]
        await store.record(first)
        newer = [value("a", 12.0, 2), entered("a", 2, MembershipChange.LEFT)]
        await store.record(newer)
        # redelivery of everything, in the original order, twice; then a batch mixing both
        await store.record(first)
        await store.record(first + newer)
        await store.record([value("a", 12.0, 2), value("a", 30.0, 1), value("c", 5.0, 1)])
        got = await store.values_for(["a", "b", "c"], ["2025/26"])
        assert got == {
            ("a", "vpr_mark2_share_math", "2025/26"): 12.0,
            ("b", "vpr_mark2_share_math", "2025/26"): 10.0,
            ("c", "vpr_mark2_share_math", "2025/26"): 5.0,
        }
        assert await store.membership_for(["a"]) == [("a", "ШНОР", "2025/26", "left")]
    finally:
        await client.close()
