"""The pure helpers `make faults` judges scenarios with (bench/fault_checks.py)."""

from __future__ import annotations

import json
from typing import Any

from aiokafka import ConsumerRecord

from bench.fault_checks import (
    POISON_HEADER,
    compare_projections,
    fact_census,
    fold_plans_view,
)


def record(topic: str, value: Any, **headers: str) -> ConsumerRecord[bytes, bytes]:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    hdrs = tuple((k.replace("__", "-"), v.encode()) for k, v in headers.items())
    return ConsumerRecord(topic, 0, 0, 0, 0, None, raw, None, len(raw), 0, hdrs)


def test_census_counts_distinct_facts_corrections_and_poison() -> None:
    records = [
        record("p.facts", {}, ce_originatorid="a", ce_originatorversion="1"),
        record("p.facts", {}, ce_originatorid="a", ce_originatorversion="1"),  # republished
        record("p.facts", {}, ce_originatorid="b", ce_originatorversion="1"),
        record("p.facts", {}, ce_originatorid="b", ce_originatorversion="2"),  # correction
        record("p.facts", b"\x00", x__faults__poison="undecodable"),
    ]
    census = fact_census(records, "p.")
    assert (census.messages, census.poison, census.corrections) == (5, 1, 1)
    assert census.distinct == {"facts": 2}
    assert POISON_HEADER == "x-faults-poison"


def test_denominator_above_clean_is_duplicated_below_is_lost() -> None:
    clean = {"s1": {"values": [("i", "2025/26", 1, 10, 10.0), ("j", "2025/26", 0, 4, 0.0)]}}
    tested = {"s1": {"values": [("i", "2025/26", 2, 12, 16.7), ("j", "2025/26", 0, 3, 0.0)]}}
    cmp = compare_projections(tested, clean)
    assert (cmp.equal, cmp.duplicated, cmp.lost) == (False, 2, 1)
    assert compare_projections(clean, clean).equal


def test_plans_view_keeps_the_latest_version_of_school_values_and_lists() -> None:
    value = {"school_id": "s1", "indicator_id": "i", "period": "2025/26", "scope": "school"}
    records = [
        record(
            "t",
            {**value, "new_value": 5.0, "originator_version": 2},
            ce_type="ru.shkala.indicators.value_changed.v1",
        ),
        record(
            "t",
            {**value, "new_value": 1.0, "originator_version": 1},
            ce_type="ru.shkala.indicators.value_changed.v1",
        ),
        record(
            "t",
            {**value, "scope": "municipality", "new_value": 9.0, "originator_version": 3},
            ce_type="ru.shkala.indicators.value_changed.v1",
        ),
        record(
            "t",
            {
                "school_id": "s1",
                "risk_list": "ШНОР",
                "period": "2025/26",
                "change": "entered",
                "originator_version": 1,
            },
            ce_type="ru.shkala.indicators.list_membership_changed.v1",
        ),
    ]
    assert fold_plans_view(records) == {
        "s1|i|2025/26": (2, 5.0),
        "s1|ШНОР|2025/26": (1, "entered"),
    }
