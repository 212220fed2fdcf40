import datetime as dt

import pytest

from shkala_contracts.events.plans import (
    Better,
    LinkedIndicator,
    RoadmapRowDue,
    RoadmapRowOverdue,
    RowStatus,
    Verdict,
)
from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.effectiveness import evaluate
from shkala_plans.domain.model import DomainError, Measure, Roadmap, RowSpec, SectionSpec


def roadmap(*deadlines: str, starts=dt.date(2021, 1, 1)) -> Roadmap:
    r = Roadmap("roadmap:x")
    events = r.decide_create(
        region="reg",
        municipality="m1",
        school=None,
        title="t",
        starts_on=starts,
        from_year=2021,
        to_year=2025,
        sections=[SectionSpec("S")],
        rows=[
            RowSpec(activity=f"a{i}", deadline=parse_deadline(d), section_id="s1")
            for i, d in enumerate(deadlines)
        ],
    )
    return Roadmap.fold("roadmap:x", events)


def test_state_is_a_fold_and_decisions_do_not_mutate():
    r = roadmap("до 12.07.2021")
    before = r.version
    events = r.decide_change_status("r1", RowStatus.IN_PROGRESS, report="начали")
    assert r.version == before
    assert r.rows["r1"].status is RowStatus.PLANNED
    for e in events:
        r.apply(e)
    assert r.rows["r1"].status is RowStatus.IN_PROGRESS
    assert events[0].originator_version == before + 1


def test_done_needs_a_report_or_evidence():
    with pytest.raises(DomainError):
        roadmap("постоянно").decide_change_status("r1", RowStatus.DONE)


def test_due_then_overdue_each_signalled_once():
    r = roadmap("до 12.07.2021", "постоянно")
    due = r.decide_check_deadlines(dt.date(2021, 7, 1))
    assert [(type(e), e.row_id, e.due_on) for e in due] == [
        (RoadmapRowDue, "r1", dt.date(2021, 7, 12))
    ]
    for e in due:
        r.apply(e)
    assert r.decide_check_deadlines(dt.date(2021, 7, 2)) == []
    over = r.decide_check_deadlines(dt.date(2021, 7, 13))
    assert [(type(e), e.due_on) for e in over] == [(RoadmapRowOverdue, dt.date(2021, 7, 12))]
    for e in over:
        r.apply(e)
    assert r.decide_check_deadlines(dt.date(2021, 8, 1)) == []


def test_recurring_row_done_for_an_occurrence_is_not_overdue():
    r = roadmap("до 01.09 ежегодно")
    for e in r.decide_change_status(
        "r1", RowStatus.DONE, report="ok", occurrence=dt.date(2021, 9, 1)
    ):
        r.apply(e)
    assert r.decide_check_deadlines(dt.date(2021, 9, 5)) == []
    nxt = r.decide_check_deadlines(dt.date(2022, 9, 2))
    assert [(type(e), e.due_on) for e in nxt] == [(RoadmapRowOverdue, dt.date(2022, 9, 1))]


def test_effectiveness_verdicts():
    m = Measure("measure:1")
    taken = m.decide_take(
        region="reg",
        municipality="m1",
        title="t",
        direction="low_results",
        target_schools=("a", "b"),
        indicators=(LinkedIndicator(indicator_id="vpr2", better=Better.LOWER),),
        baseline_period="2023/24",
        evaluation_period="2024/25",
    )[0]
    values = {
        ("a", "vpr2", "2023/24"): 30,
        ("a", "vpr2", "2024/25"): 20,
        ("b", "vpr2", "2023/24"): 25,
        ("b", "vpr2", "2024/25"): 22,
    }
    res, complete = evaluate(taken, values, lambda s, p: p == "2023/24", trigger="t")
    assert complete
    assert res["verdict"] is Verdict.EFFECTIVE
    assert res["left_lists"] == ("a", "b")
    assert res["improved"] == 2
    worse = {k: (v + 15 if k[2] == "2024/25" else v) for k, v in values.items()}
    res, _ = evaluate(taken, worse, lambda s, p: True, trigger="t")
    assert res["verdict"] is Verdict.NOT_EFFECTIVE
    assert res["worsened"] == 2
    res, complete = evaluate(taken, {("a", "vpr2", "2023/24"): 1}, lambda s, p: False, trigger="t")
    assert res is None
    assert not complete
