"""The read table follows the plans topic's monitoring-period events: the newest originator
version of a school's period wins, every other plans event is ignored, and answers and
roll-ups say whether they rest on approved data (ADR 0006)."""

from __future__ import annotations

from typing import Any

from test_read_table import CAT, P, d, school, value

from shkala_contracts.events import cycle
from shkala_contracts.events.plans import TOPIC as PLANS
from shkala_indicators.service_layer.read import ReadModel
from shkala_indicators.service_layer.read_table import ReadTable

IND = "vpr_mark2_share_math"
WHO = {"actor_role": "municipality", "actor_unit": "m1"}


def period(kind: type, sid: str, version: int, year: str = P, **extra: Any) -> Any:
    return kind(
        originator_id=f"period:{sid}:{year.replace('/', '-')}",
        originator_version=version,
        region_id="r",
        municipality_id="m1",
        school_id=sid,
        period=year,
        **WHO,
        **extra,
    )


def table() -> ReadTable:
    t = ReadTable(CAT)
    t.fold([d(school("s1"), "org", 0), d(school("s2"), "org", 1)])
    t.fold([d(value("s1", IND, 1, 4, 1), "ev", 0), d(value("s2", IND, 1, 2, 1), "ev", 1)])
    return t


def test_the_newest_period_version_wins_whatever_the_order() -> None:
    t = table()
    assert t.approval_of("s1", P) == "open"  # no period event yet
    t.fold(
        [
            d(period(cycle.MonitoringPeriodApproved, "s1", 5), PLANS, 4),
            d(period(cycle.MonitoringPeriodOpened, "s1", 1), PLANS, 0),
            d(period(cycle.MonitoringPeriodSubmitted, "s1", 4), PLANS, 3),
            d(period(cycle.MonitoringPeriodReturned, "s1", 3, reason="нет данных"), PLANS, 2),
        ]
    )
    assert t.approval_of("s1", P) == "approved"
    t.fold([d(period(cycle.MonitoringPeriodApproved, "s1", 5), PLANS, 4)])  # redelivered
    t.fold([d(period(cycle.MonitoringPeriodLocked, "s1", 6), PLANS, 5)])
    assert t.approval_of("s1", P) == "locked"
    t.fold([d(period(cycle.MonitoringPeriodReopened, "s1", 7, reason="ошибка"), PLANS, 6)])
    assert t.approval_of("s1", P) == "open"
    assert t.approval_of("s1", "2024/25") == "open"  # another year is its own period
    assert t.approval_of("s2", P) == "open"


def test_other_plans_events_are_ignored() -> None:
    t = table()
    t.fold([d(period(cycle.MonitoringPeriodSubmitted, "s1", 2), PLANS, 0)])
    t.fold(
        [
            d(
                cycle.RecommendationStatusChanged(
                    originator_id="recommendation:x",
                    originator_version=9,
                    region_id="r",
                    municipality_id="m1",
                    school_id="s1",
                    status=cycle.RecommendationStatus.DONE,
                    **WHO,
                ),
                PLANS,
                1,
            ),
            d(
                cycle.ResponsibleAssigned(
                    originator_id="roster:m1",
                    originator_version=10,
                    region_id="r",
                    municipality_id="m1",
                    person_id="p1",
                    duty=cycle.Duty.COORDINATOR,
                    directions=(CAT.get(IND).direction,),
                ),
                PLANS,
                2,
            ),
        ]
    )
    assert t.periods == {("s1", P): (2, "submitted")}


def test_roll_ups_rest_on_approved_data_only_when_every_school_is_approved() -> None:
    t = table()
    t.fold([d(period(cycle.MonitoringPeriodApproved, "s1", 3), PLANS, 0)])
    rolled = t.roll_up("municipality", "m1", P, ["s1", "s2"])[IND]
    assert rolled["approval"] == {
        "schools": 2,
        "approved": 1,
        "by_state": {"open": 1, "submitted": 0, "returned": 0, "approved": 1, "locked": 0},
        "rests_on_approved": False,
    }
    t.fold([d(period(cycle.MonitoringPeriodLocked, "s2", 4), PLANS, 1)])
    rolled = t.roll_up("municipality", "m1", P, ["s1", "s2"])[IND]
    assert rolled["approval"]["rests_on_approved"] is True
    assert rolled["approval"]["by_state"]["locked"] == 1


async def test_answers_carry_each_schools_state() -> None:
    t = table()
    t.fold([d(period(cycle.MonitoringPeriodSubmitted, "s2", 2), PLANS, 0)])
    read = ReadModel(None, CAT, t)

    async def no_freshness(*_: Any) -> dict[str, Any]:
        return {}

    read.freshness = no_freshness
    table_ = await read.municipality_table("m1", P, None, False)
    assert {r["school_id"]: r["approval"] for r in table_["rows"]} == {
        "s1": "open",
        "s2": "submitted",
    }
    assert table_["approval"]["rests_on_approved"] is False
    assert table_["municipality"][IND]["approval"]["by_state"]["submitted"] == 1
    one = await read.school_indicator("s2", IND, P, None)
    assert one["approval"] == one["value"]["approval"] == "submitted"


async def test_a_kept_region_summary_follows_later_values_and_approvals() -> None:
    """The live summary is kept between reads of a quiet table; a value or a period event
    after it is in the next answer (sums written out from the two schools' rows)."""
    t = table()
    read = ReadModel(None, CAT, t)

    async def no_freshness(*_: Any) -> dict[str, Any]:
        return {}

    read.freshness = no_freshness
    first = await read.region_summary("r", P)
    assert first["region"][IND]["numerator"] == 2
    assert first["region"][IND]["denominator"] == 6
    assert first["approval"]["region"]["approved"] == 0
    t.fold([d(period(cycle.MonitoringPeriodApproved, "s1", 3), PLANS, 0)])
    approved = await read.region_summary("r", P)
    assert approved["approval"]["region"]["approved"] == 1
    assert approved["region"][IND]["approval"]["approved"] == 1
    t.fold([d(value("s2", IND, 2, 2, 2), "ev", 2)])  # s2: 1 of 2 → 2 of 2
    later = await read.region_summary("r", P)
    assert later["region"][IND]["numerator"] == 3
    assert later["region"][IND]["denominator"] == 6
    assert later["municipalities"]["m1"][IND]["numerator"] == 3


async def test_a_region_summary_of_named_indicators_only() -> None:
    t = table()
    other = "vpr_mark2_share_rus"
    t.fold([d(value("s1", other, 1, 5, 1), "ev", 3)])
    read = ReadModel(None, CAT, t)

    async def no_freshness(*_: Any) -> dict[str, Any]:
        return {}

    read.freshness = no_freshness
    whole = await read.region_summary("r", P)
    assert {IND, other} <= set(whole["region"])
    some = await read.region_summary("r", P, indicators=[other])
    assert set(some["region"]) == {other}
    assert set(some["municipalities"]["m1"]) == {other}
    assert some["list_counts"] == whole["list_counts"]
