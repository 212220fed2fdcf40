"""The demo's ВПР task → planned-result mapping covers every task of every protocol it
generates, each year, and its rows are valid facts of the upload format."""

from __future__ import annotations

from collections import defaultdict

from shkala_contracts.events.reference import VprTaskPlannedResult
from shkala_demo.protocols import VPR
from shkala_demo.region import Region, rows


def test_every_task_of_every_protocol_has_a_planned_result(tiny: Region) -> None:
    got = list(rows(tiny, "vpr-planned-results"))
    for r in got:
        VprTaskPlannedResult.model_validate(r)
    per_task: dict[tuple[str, str, int, str], set[str]] = defaultdict(set)
    for r in got:
        per_task[(r["academic_year"], r["subject"], r["grade"], r["task"])].add(
            r["planned_result_code"]
        )
    for year in tiny.years:
        for (subject, grade), protocol in VPR.items():
            for t in protocol.tasks:
                assert per_task[(year, subject, grade, t.number)], (year, subject, grade, t)
    assert any(len(c) > 1 for c in per_task.values())  # some tasks check two results
    keys = [(r["academic_year"], r["subject"], r["grade"], r["task"], r["planned_result_code"])
            for r in got]  # fmt: skip
    assert len(keys) == len(set(keys))  # one row per natural key
