"""The cycle view of a direction against the in-memory store: each step from the aggregates."""

import datetime as dt

import pytest

from shkala_contracts.events.cycle import Duty
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.cycle_card import load_cycle_card
from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.model import (
    FieldRefused,
    NotFound,
    Recommendation,
    Roadmap,
    RowSpec,
    SectionSpec,
)
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.proposals import Definition, TaskDeficit
from shkala_plans.service_layer import cycle_view, periods, responsibles
from shkala_plans.service_layer.services import execute
from shkala_runtime.auth import Principal, Role

from .fakes import FakeVprTasks, fake_deps

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


# --------------------------------------------------------------------------- complete view
# A municipality of four schools (seed 002 step 3: «мониторинг по установленным муниципальным
# показателям» — every school of the municipality, not only those that reported).
FOUR = {"m1": ("s1", "s2", "s3", "s4"), "m2": ("s9",)}
Y = "2025/26"


def _school(s: str) -> Principal:
    return Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school=s)


def _task(task: str, rate: float, result: str | None = None) -> TaskDeficit:
    return TaskDeficit(
        subject="математика",
        grade=5,
        task=task,
        rate=rate,
        threshold=50.0,
        points=rate / 100,
        max_points=1.0,
        planned_result=result,
    )


async def _municipality_with_a_cycle(vpr: FakeVprTasks | None = None):
    """m1's low-results direction: one roadmap row naming the ГИА indicator, a recommendation
    to s2 with a target value, a measure on s2, s2 entered ШНОР this year; periods: s1
    approved, s2 submitted, s3 returned, s4 nothing."""
    deps, store = fake_deps(FOUR)
    deps.today = lambda: dt.date(2026, 3, 1)  # the service's clock, not the machine's
    deps.vpr_tasks = vpr if vpr is not None else FakeVprTasks()  # no deficits anywhere
    deps.catalogue.defined = {  # type: ignore[attr-defined]
        "gia_below_min_share": Definition(
            id="gia_below_min_share",
            name_ru="Доля не преодолевших минимум ГИА",
            direction=Direction.LOW_RESULTS,
            risk_if="above",
            threshold=10.0,
            unit="percent",
            targets=(("2024/25", 4.0), ("2025/26", 3.0)),
            target_expected="down",
        ),
        "talents_share": Definition(
            id="talents_share", name_ru="Доля победителей", direction=Direction.TALENTS
        ),
    }
    deps.values.membership = [("s2", "shnor", Y, "entered")]  # type: ignore[attr-defined]
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
            sections=[SectionSpec("ШНОР", Direction.LOW_RESULTS)],
            rows=[
                RowSpec(
                    "Снизить долю не преодолевших минимум",
                    parse_deadline("до 20.04 ежегодно"),
                    "s1",
                    expected_result="не выше 3 %",
                    indicator_ids=("gia_below_min_share",),
                ),
            ],
        ),
        must_exist=False,
    )
    await execute(
        deps,
        Recommendation,
        "recommendation:s2",
        lambda a: a.decide_issue(
            region="r",
            municipality="m1",
            school="s2",
            direction=Direction.LOW_RESULTS,
            period=Y,
            indicator_id="gia_below_min_share",
            indicator_value=12.0,
            target_value=5.0,
            text="Индивидуальные занятия",
        ),
        must_exist=False,
    )
    from shkala_plans.service_layer import measures

    await measures.take_measure(
        deps,
        MUN,
        region="r",
        municipality="m1",
        title="Наставничество",
        direction=Direction.LOW_RESULTS,
        target_schools=("s2",),
        indicators=[("vpr_mark2_share_math", None)],
        baseline_period="2024/25",
        evaluation_period=Y,
    )
    for s in ("s1", "s2", "s3"):
        await periods.submit(deps, _school(s), school=s, period=Y)
    await periods.approve(deps, MUN, school="s1", period=Y)
    await periods.return_period(deps, MUN, school="s3", period=Y, reason="нет данных по 9 кл.")
    return deps, store


async def test_goals_carry_target_values_and_dates():
    deps, _ = await _municipality_with_a_cycle()
    view = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS
    )
    assert view["as_of_period"] == Y  # 1 March 2026 (deps.today) is in the 2025/26 year
    (goal,) = view["steps"]["goals"]["items"]
    assert goal["next_due"] == "2026-04-20"  # «до 20.04 ежегодно», the next after 1.03.2026
    assert goal["due_in_period"] == ["2026-04-20"]  # one 20 April in 1.09.2025–31.08.2026
    assert goal["measurable"] is True
    assert [(t["source"], t["school_id"], t["value"]) for t in goal["target_values"]] == [
        ("catalogue", None, 3.0),  # the catalogue's 2025/26 figure, not 2024/25's 4
        ("recommendation", "s2", 5.0),
    ]
    (section,) = view["steps"]["goals"]["sections"]
    assert section["indicator_ids"] == ["gia_below_min_share"]
    assert view["incomplete"] == []


async def test_indicators_of_the_direction_with_their_targets():
    deps, _ = await _municipality_with_a_cycle()
    items = {
        i["indicator_id"]: i
        for i in (
            await cycle_view.direction_cycle(
                deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS
            )
        )["steps"]["indicators"]["items"]
    }
    # the direction's catalogue indicator and the measure's; not the talents one
    assert sorted(items) == ["gia_below_min_share", "vpr_mark2_share_math"]
    gia = items["gia_below_min_share"]
    assert gia["from"] == ["catalogue", "recommendation", "roadmap"]
    assert gia["name"] == "Доля не преодолевших минимум ГИА"
    assert gia["threshold"] == {"risk_if": "above", "value": 10.0}
    assert gia["target"] == {"period": Y, "value": 3.0, "expected": "down"}
    assert [(r["school_id"], r["indicator_value"], r["target_value"]) for r in
            gia["recommended_targets"]] == [("s2", 12.0, 5.0)]  # fmt: skip
    vpr = items["vpr_mark2_share_math"]
    assert vpr["in_catalogue"] is False  # this fake catalogue defines no such id
    assert [(m["title"], m["better"], m["baseline_period"]) for m in vpr["measure_targets"]] == [
        ("Наставничество", "lower", "2024/25")
    ]


async def test_monitoring_coverage_counts_every_school_of_the_municipality():
    deps, _ = await _municipality_with_a_cycle()
    view = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS
    )
    (cov,) = view["steps"]["monitoring"]["periods"]
    assert cov["of"] == 4
    assert cov["counts"] == {"approved": 1, "submitted": 1, "returned": 1, "not_submitted": 1}
    assert cov["approved_schools"] == ["s1"]
    assert cov["awaiting_approval"] == ["s2"]
    assert cov["returned_schools"] == ["s3"]
    assert cov["not_submitted"] == ["s4"]  # never submitted: no period record at all
    assert "утверждено 1 из 4 школ" in cov["summary_ru"]
    # the earlier fields stay as they were
    assert cov["schools"] == {"s1": "approved", "s2": "submitted", "s3": "returned"}
    assert cov["approved"] == 1
    # a year nobody reported yet: all four not submitted
    later = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS, period="2026/27"
    )
    (cov,) = later["steps"]["monitoring"]["periods"]
    assert (cov["period"], cov["of"], cov["not_submitted"]) == (
        "2026/27",
        4,
        ["s1", "s2", "s3", "s4"],
    )


async def test_analysis_shows_the_weakest_vpr_tasks_of_schools_at_risk():
    rates = {"1": 48.0, "2": 12.5, "3": 30.0, "4": 5.0, "5": 44.0, "6": 20.0, "7": 35.0}
    vpr = FakeVprTasks(rows={"s2": [_task(t, r, f"умение {t}") for t, r in rates.items()]})
    deps, _ = await _municipality_with_a_cycle(vpr)
    view = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS
    )
    (d,) = view["steps"]["analysis"]["deficits"]
    # seven tasks under 50 %: the five lowest are 5, 12.5, 20, 30, 35 (tasks 4, 2, 6, 3, 7)
    assert (d["school_id"], d["period"], d["status"], d["total"], d["more"]) == (
        "s2",
        Y,
        "ok",
        7,
        2,
    )
    assert [(t["task"], t["rate"], t["planned_result"]) for t in d["weakest"]] == [
        ("4", 5.0, "умение 4"),
        ("2", 12.5, "умение 2"),
        ("6", 20.0, "умение 6"),
        ("3", 30.0, "умение 3"),
        ("7", 35.0, "умение 7"),
    ]
    assert vpr.asked == [("s2", Y)]  # only the school at risk is asked
    rec = view["steps"]["analysis"]["recommendations"][0]
    assert (rec["indicator_value"], rec["target_value"]) == (12.0, 5.0)


async def test_what_could_not_be_read_is_said_not_left_empty():
    deps, _ = await _municipality_with_a_cycle(FakeVprTasks(down=True))
    deps.catalogue.down = True  # type: ignore[attr-defined]
    view = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS
    )
    (d,) = view["steps"]["analysis"]["deficits"]
    assert (d["status"], d["weakest"], d["total"]) == ("unavailable", [], None)
    assert "s2" in d["note"]
    assert "не ответил" in d["note"]
    assert any("Каталог показателей" in x for x in view["steps"]["indicators"]["incomplete"])
    assert len(view["incomplete"]) == 2
    # what plans holds itself is still shown
    (goal,) = view["steps"]["goals"]["items"]
    assert [t["value"] for t in goal["target_values"]] == [5.0]  # the recommendation's only
    deps.vpr_tasks = None
    view = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS
    )
    assert view["steps"]["analysis"]["deficits"][0]["status"] == "not_configured"


async def test_the_school_view_is_as_complete_and_stays_in_its_municipality():
    vpr = FakeVprTasks(rows={"s2": [_task("1", 10.0)]})
    deps, _ = await _municipality_with_a_cycle(vpr)
    mine = await cycle_view.direction_cycle(
        deps, _school("s2"), municipality="m1", direction=Direction.LOW_RESULTS, school="s2"
    )
    steps = mine["steps"]
    (cov,) = steps["monitoring"]["periods"]
    assert (cov["of"], cov["awaiting_approval"]) == (1, ["s2"])
    assert [t["value"] for t in steps["goals"]["items"][0]["target_values"]] == [3.0, 5.0]
    assert [d["weakest"][0]["task"] for d in steps["analysis"]["deficits"]] == ["1"]
    s4 = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS, school="s4"
    )
    assert s4["steps"]["monitoring"]["periods"][0]["not_submitted"] == ["s4"]
    assert s4["steps"]["analysis"]["deficits"] == []  # not at risk: nothing asked
    # m2's school under m1's address: not shown (its lists and ВПР are not m1's)
    with pytest.raises(NotFound):
        await cycle_view.direction_cycle(
            deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS, school="s9"
        )


async def test_recommendations_indexed_before_target_values_still_show_them():
    deps, store = await _municipality_with_a_cycle()
    for key in ("target_value", "indicator_value"):
        store.index["recommendation:s2"].pop(key)
    measure_id = next(k for k, d in store.index.items() if d["kind"] == "measure")
    store.index[measure_id].pop("indicators")
    view = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS
    )
    rec = view["steps"]["analysis"]["recommendations"][0]
    assert (rec["indicator_value"], rec["target_value"]) == (12.0, 5.0)
    items = {i["indicator_id"]: i for i in view["steps"]["indicators"]["items"]}
    assert items["vpr_mark2_share_math"]["measure_targets"][0]["better"] == "lower"


async def test_a_bad_period_is_refused_and_29_february_is_a_day_like_others():
    deps, _ = await _municipality_with_a_cycle()
    with pytest.raises(FieldRefused) as refused:
        await cycle_view.direction_cycle(
            deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS, period="2025/27"
        )
    assert refused.value.location == "query.period"
    slug = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS, period="2025-26"
    )
    assert (slug["period"], slug["steps"]["monitoring"]["periods"][0]["of"]) == (Y, 4)
    deps.today = lambda: dt.date(2028, 2, 29)
    view = await cycle_view.direction_cycle(
        deps, MUN, municipality="m1", direction=Direction.LOW_RESULTS
    )
    assert view["steps"]["goals"]["items"][0]["next_due"] == "2028-04-20"
