"""The cycle view of a direction against the in-memory store: each step from the aggregates."""

import datetime as dt

import pytest

from shkala_contracts.events.cycle import Duty
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.cycle_card import load_cycle_card
from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.model import Recommendation, Roadmap, RowSpec, SectionSpec
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.service_layer import cycle_view, periods, responsibles
from shkala_plans.service_layer.services import execute
from shkala_runtime.auth import Principal, Role

from .fakes import fake_deps

MUN = Principal(subject="h", role=Role.MUNICIPALITY, region="r", municipality="m1")
S1 = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school="s1")


async def test_steps_come_from_the_aggregates():
    deps, _ = fake_deps()
    listed = [
        ("s1", "shnor", "2024/25", "entered"),
        ("s1", "shnor", "2025/26", "left"),
        ("s2", "shnsu", "2025/26", "entered"),
    ]

    async def membership_for(schools):
        return [x for x in listed if x[0] in schools]

    deps.values.membership_for = membership_for  # type: ignore[method-assign]
    await responsibles.assign(
        deps,
        MUN,
        municipality="m1",
        person_id="c1",
        duty=Duty.COORDINATOR,
        directions=[Direction.LOW_RESULTS],
    )
    await execute(
        deps,
        Roadmap,
        "roadmap:t",
        lambda r: r.decide_create(
            region="r",
            municipality="m1",
            school=None,
            title="ДК",
            starts_on=dt.date(2025, 9, 1),
            sections=[
                SectionSpec("ШНОР", Direction.LOW_RESULTS),
                SectionSpec("Т", Direction.TALENTS),
            ],
            rows=[
                RowSpec("a", parse_deadline("до 20.04 ежегодно"), "s1", expected_result="10 %"),
                RowSpec("b", parse_deadline("постоянно"), "s2"),
            ],
        ),
        must_exist=False,
    )
    for school in ("s1", "s2"):
        await execute(
            deps,
            Recommendation,
            f"recommendation:{school}",
            lambda a, school=school: a.decide_issue(
                region="r",
                municipality="m1",
                school=school,
                direction=Direction.LOW_RESULTS,
                period="2025/26",
                text="t",
            ),
            must_exist=False,
        )
    await periods.submit(deps, S1, school="s1", period="2025/26")
    view = await cycle_view.direction_cycle(
        deps,
        MUN,
        municipality="m1",
        direction=Direction.LOW_RESULTS,
        today=dt.date(2026, 3, 1),
        card=load_cycle_card(),
    )
    steps = view["steps"]
    assert view["owners"]["coordinators"] == ["c1"]
    assert [(g["activity"], g["target"], g["next_due"]) for g in steps["goals"]["items"]] == [
        ("a", "10 %", "2026-04-20")
    ]
    assert steps["monitoring"]["periods"][0]["schools"] == {"s1": "submitted"}
    # s1 left ШНОР in 2025/26; s2 entered ШНСУ
    assert steps["analysis"]["at_risk"] == [
        {"school_id": "s2", "list": "shnsu", "since": "2025/26"}
    ]
    assert steps["effectiveness"]["card"]["key"] == "effectiveness"
    as_of_2024 = await cycle_view.direction_cycle(
        deps,
        MUN,
        municipality="m1",
        direction=Direction.LOW_RESULTS,
        period="2024/25",
    )
    assert as_of_2024["steps"]["analysis"]["at_risk"] == [
        {"school_id": "s1", "list": "shnor", "since": "2024/25"}
    ]
    mine = await cycle_view.direction_cycle(
        deps, S1, municipality="m1", direction=Direction.LOW_RESULTS, school="s1"
    )
    assert [r["school_id"] for r in mine["steps"]["analysis"]["recommendations"]] == ["s1"]
    with pytest.raises(NotAllowed):
        await cycle_view.direction_cycle(
            deps, S1, municipality="m1", direction=Direction.LOW_RESULTS, school="s2"
        )


async def test_the_short_summary_names_the_directions_rows_measures_and_verdicts():
    from shkala_plans.service_layer import measures, roadmaps
    from shkala_runtime.auth import Forbidden

    deps, _ = fake_deps()
    r = await roadmaps.create_roadmap(
        deps, MUN, region="r", municipality="m1", school=None, title="ДК"
    )
    spec = SectionSpec("ШНОР", Direction.LOW_RESULTS, "Иванова И.И.", ("МКУ ЦОО", "ОО"))
    r = await roadmaps.add_section(deps, MUN, r.id, spec, expected_version=1)
    r = await roadmaps.add_section(
        deps, MUN, r.id, SectionSpec("Таланты", Direction.TALENTS), expected_version=2
    )
    for n, section in ((1, "s1"), (2, "s2")):
        r = await roadmaps.add_row(
            deps,
            MUN,
            r.id,
            RowSpec(f"мероприятие {n}", parse_deadline("постоянно"), section),
            expected_version=r.version,
        )
    m = await measures.take_measure(
        deps,
        MUN,
        region="r",
        municipality="m1",
        title="Наставники",
        direction=Direction.LOW_RESULTS,
        target_schools=("s1",),
        indicators=[("vpr_mark2_share_math", None)],
        baseline_period="2024/25",
        evaluation_period="2025/26",
    )
    deps.values.values |= {
        ("s1", "vpr_mark2_share_math", "2024/25"): 30.0,
        ("s1", "vpr_mark2_share_math", "2025/26"): 20.0,
    }
    await measures.evaluate_on_request(deps, MUN, m.id)
    view = await cycle_view.management_cycle(
        deps, MUN, region="r", municipality="m1", direction=Direction.LOW_RESULTS
    )
    assert (view["coordinator"], view["executors"]) == ("Иванова И.И.", ["МКУ ЦОО", "ОО"])
    assert [g["activity"] for g in view["goals"]] == ["мероприятие 1"]  # not the talents row
    assert view["indicators"] == ["vpr_mark2_share_math"]
    assert view["monitoring"] == {
        "values": 2,
        "schools": ["s1"],
        "periods": ["2024/25", "2025/26"],
    }
    assert view["effectiveness"] == [{"measure_id": m.id, "verdict": "effective"}]
    with pytest.raises(Forbidden):
        await cycle_view.management_cycle(
            deps, MUN, region="r", municipality="m2", direction=Direction.LOW_RESULTS
        )
