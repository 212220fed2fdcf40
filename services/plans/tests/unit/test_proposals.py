"""Proposals of targeted recommendations (service_layer/proposals.py) against the in-memory
fakes: every school at risk gets proposals citing its values, a school not at risk none; an
accepted proposal becomes a recommendation linked to its indicator; a dismissed one keeps its
reason; the tenant, role and direction of every decision are checked, a refusal appends
nothing."""

import pytest

from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    RiskList,
    Scope,
)
from shkala_contracts.events.plans import Better
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.model import DomainError, FieldRefused, NotFound
from shkala_plans.domain.proposals import Definition, TaskDeficit
from shkala_plans.service_layer import proposals, recommendations
from shkala_plans.service_layer.services import CatalogueUnavailable
from shkala_runtime.auth import Forbidden, Principal, Role

from .fakes import FakeVprTasks, fake_deps

P = "2025/26"
MUN = Principal(subject="h", role=Role.MUNICIPALITY, region="r", municipality="m1")
OTHER_MUN = Principal(subject="h", role=Role.MUNICIPALITY, region="r", municipality="m2")
REGION = Principal(subject="op", role=Role.REGION, region="r")
S1 = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school="s1")
S2 = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school="s2")
MATH2 = "vpr_mark2_share_math"
EGE = "ege_high_scorers_share"
WELL = "wellbeing_index"
DEFINED = {
    MATH2: Definition(
        MATH2, "Доля отметок «2» ВПР, математика", Direction.LOW_RESULTS, "above", 20
    ),
    EGE: Definition(EGE, "Доля высокобалльников ЕГЭ", Direction.LOW_RESULTS, "below", 5),
    WELL: Definition(WELL, "Индекс социального благополучия", Direction.LOW_RESULTS, "below", 60),
}


def value(school, indicator, num, den, version=1):
    return IndicatorValueChanged(
        originator_id=f"ind:{school}:{indicator}:{P}",
        originator_version=version,
        region_id="r",
        municipality_id="m1",
        school_id=school,
        indicator_id=indicator,
        direction="low_results",
        scope=Scope.SCHOOL,
        period=P,
        definition_version="7",
        old_value=None,
        new_value=round(num / den * 100, 6),
        numerator=num,
        denominator=den,
    )


def listed(school, risk_list, reasons=(), change=MembershipChange.ENTERED, period=P):
    return ListMembershipChanged(
        originator_id=f"list:{school}:{risk_list.value}",
        originator_version=1,
        region_id="r",
        municipality_id="m1",
        school_id=school,
        risk_list=risk_list,
        period=period,
        change=change,
        definition_version="7",
        reasons=reasons,
    )


async def region_with_risk(vpr=None):
    """s1: 31 of 100 marks «2» in ВПР math (threshold 20: at risk) and on ШНОР for it;
    s2: 12 of 100 (below the threshold), 8 of 100 high scorers (above 5): not at risk;
    s4 (m2): on ШНСУ for a low wellbeing index."""
    deps, store = fake_deps()
    deps.catalogue.defined = dict(DEFINED)
    deps.catalogue.known[WELL] = Better.HIGHER
    deps.vpr_tasks = vpr
    await deps.values.record(
        [
            value("s1", MATH2, 31, 100),
            value("s2", MATH2, 12, 100),
            value("s2", EGE, 8, 100),
            value("s4", WELL, 42, 100),
            listed("s1", RiskList.LOW_RESULTS, (MATH2,)),
            listed("s4", RiskList.UNFAVOURABLE_CONDITIONS, (WELL,)),
        ]
    )
    return deps, store


async def test_every_school_at_risk_gets_proposals_citing_its_values_and_no_other_does():
    deps, _ = await region_with_risk()
    out = await proposals.list_proposals(deps, REGION, period=P)
    assert out["schools_at_risk"] == ["s1", "s4"]
    by_school = {}
    for p in out["proposals"]:
        by_school.setdefault(p["school_id"], []).append(p)
    assert set(by_school) == {"s1", "s4"}
    math = [p for p in by_school["s1"] if p["problem"]["kind"] == "indicator"]
    assert {p["level"] for p in math} == {"school", "municipality"}
    (cite,) = math[0]["cited"]
    assert (cite["value"], cite["threshold"], cite["risk_if"]) == (31.0, 20.0, "above")
    assert (cite["numerator"], cite["denominator"], cite["period"]) == (31, 100, P)
    assert "31 (порог 20, риск выше порога; 31 из 100), 2025/26" in math[0]["text"]
    groups = [p for p in by_school["s1"] if p["problem"]["kind"] == "risk_list"]
    assert groups
    assert all(p["risk_groups"] == ["ШНОР"] and p["indicator_id"] == MATH2 for p in groups)
    assert all("seed 0" in p["measure"]["source"] for p in out["proposals"])
    shnsu = [p for p in by_school["s4"] if p["problem"]["kind"] == "risk_list"]
    assert {p["level"] for p in shnsu} == {"school", "municipality"}
    assert any(c.get("value") == 42.0 for c in shnsu[0]["cited"])


async def test_the_same_data_propose_the_same_ids():
    deps, _ = await region_with_risk()
    first = await proposals.list_proposals(deps, REGION, period=P)
    again = await proposals.list_proposals(deps, REGION, period=P)
    assert [p["id"] for p in first["proposals"]] == [p["id"] for p in again["proposals"]]
    assert len({p["id"] for p in first["proposals"]}) == len(first["proposals"])


async def test_a_school_on_last_years_list_only_gets_no_risk_group_proposal_this_year():
    deps, _ = await region_with_risk()
    deps.values.membership = [m for m in deps.values.membership if m[0] != "s4"]
    await deps.values.record(
        [listed("s4", RiskList.UNFAVOURABLE_CONDITIONS, (WELL,), period="2024/25")]
    )
    out = await proposals.list_proposals(deps, REGION, period=P)
    assert {p["problem"]["kind"] for p in out["proposals"] if p["school_id"] == "s4"} == {
        "indicator"
    }
    last_year = await proposals.list_proposals(deps, REGION, period="2024/25")
    assert [p["problem"]["kind"] for p in last_year["proposals"] if p["school_id"] == "s4"] == [
        "risk_list",
        "risk_list",
    ]


async def test_a_school_that_left_the_list_gets_no_risk_group_proposal():
    deps, _ = await region_with_risk()
    deps.values.membership = [m for m in deps.values.membership if m[0] != "s4"]
    ent = listed("s4", RiskList.UNFAVOURABLE_CONDITIONS, (WELL,), period="2024/25")
    left = listed("s4", RiskList.UNFAVOURABLE_CONDITIONS, (), MembershipChange.LEFT)
    await deps.values.record([ent, left])
    out = await proposals.list_proposals(deps, REGION, period=P)
    assert "s4" in out["schools_at_risk"]  # its index is still below 60
    assert {p["problem"]["kind"] for p in out["proposals"] if p["school_id"] == "s4"} == {
        "indicator"
    }


async def test_vpr_deficits_are_problem_positions_by_planned_result_else_task_number():
    vpr = FakeVprTasks(
        {
            "s1": [
                TaskDeficit(
                    "математика", 5, "7", 31.25, 50, 25, 80, "Умение решать задачи на части"
                ),
                TaskDeficit("математика", 5, "9", 40.0, 50, 32, 80, None),
            ]
        }
    )
    deps, _ = await region_with_risk(vpr)
    out = await proposals.list_proposals(deps, MUN, period=P)
    tasks = [p for p in out["proposals"] if p["problem"]["kind"] == "vpr_task"]
    assert {p["problem"]["key"] for p in tasks} == {
        "математика|5|Умение решать задачи на части",
        "математика|5|9",
    }
    named = next(p for p in tasks if "части" in p["problem"]["key"] and p["level"] == "school")
    assert "«Умение решать задачи на части»" in named["text"]
    (cite,) = named["cited"]
    assert (cite["value"], cite["threshold"], cite["numerator"], cite["denominator"]) == (
        31.25,
        50.0,
        25.0,
        80.0,
    )
    numbered = next(p for p in tasks if p["problem"]["key"].endswith("|9"))
    assert "задание 9" in numbered["text"]
    assert named["indicator_id"] == MATH2  # linked to the subject's ВПР indicator
    assert vpr.asked == [("s1", P)]  # only the school at risk is asked (s2 is not)


async def test_without_the_vpr_tasks_the_other_proposals_come_and_say_what_is_missing():
    deps, _ = await region_with_risk(FakeVprTasks(down=True))
    out = await proposals.list_proposals(deps, MUN, period=P)
    assert out["schools_at_risk"] == ["s1"]
    assert out["incomplete"]
    assert "s1" in out["incomplete"][0]


async def test_the_caller_sees_only_its_tenant():
    deps, _ = await region_with_risk()
    mine = await proposals.list_proposals(deps, MUN, period=P)
    assert mine["schools_at_risk"] == ["s1"]
    school = await proposals.list_proposals(deps, S1, period=P)
    assert {p["school_id"] for p in school["proposals"]} == {"s1"}
    assert (await proposals.list_proposals(deps, S2, period=P))["proposals"] == []
    with pytest.raises(Forbidden):
        await proposals.list_proposals(deps, MUN, period=P, municipality="m2")
    with pytest.raises(Forbidden):
        await proposals.list_proposals(deps, S2, period=P, school="s1")


async def first(deps, who=MUN, kind="indicator", level="school", school="s1"):
    out = await proposals.list_proposals(deps, REGION, period=P, school=school)
    return next(p for p in out["proposals"] if p["problem"]["kind"] == kind and p["level"] == level)


async def test_accepting_issues_the_recommendation_linked_to_the_indicator():
    deps, store = await region_with_risk()
    p = await first(deps)
    decided, rec = await proposals.accept_proposal(
        deps, MUN, p["id"], text="Разобрать задания 5 и 7 ВПР", deadline="до 01.03.2026"
    )
    assert decided["status"] == "accepted"
    assert decided["decision"]["recommendation_id"] == rec.id
    assert decided["decision"]["deadline"]["dates"] == ["2026-03-01"]
    assert rec.issued is not None
    assert (rec.school, rec.issued.indicator_id) == ("s1", MATH2)
    assert (rec.issued.indicator_value, rec.issued.target_value) == (31.0, 20.0)
    assert rec.issued.text == "Разобрать задания 5 и 7 ВПР Срок: до 01.03.2026."
    assert store.types()[-2:] == ["proposal_accepted", "recommendation_issued"]
    listed_recs = await recommendations.list_recommendations(deps, S1)
    assert [r["id"] for r in listed_recs] == [rec.id]
    again = await proposals.list_proposals(deps, MUN, period=P, status="accepted")
    assert [x["id"] for x in again["proposals"]] == [p["id"]]
    assert again["proposals"][0]["cited"] == p["cited"]  # as it stood when decided


async def test_accepting_unedited_keeps_the_generated_text():
    deps, _ = await region_with_risk()
    p = await first(deps, kind="risk_list", level="municipality")
    _, rec = await proposals.accept_proposal(deps, REGION, p["id"])
    assert rec.issued is not None
    assert rec.issued.text == p["text"]
    assert "Основание:" in rec.issued.text


async def test_dismissing_records_the_reason_and_a_decided_proposal_is_not_decided_again():
    deps, store = await region_with_risk()
    p = await first(deps)
    with pytest.raises(DomainError):
        await proposals.dismiss_proposal(deps, MUN, p["id"], reason="  ")
    assert store.appended == 0
    decided = await proposals.dismiss_proposal(deps, MUN, p["id"], reason="Уже в дорожной карте")
    assert (decided["status"], decided["decision"]["reason"]) == (
        "dismissed",
        "Уже в дорожной карте",
    )
    with pytest.raises(DomainError, match="already dismissed"):
        await proposals.accept_proposal(deps, MUN, p["id"])
    with pytest.raises(DomainError, match="already dismissed"):
        await proposals.dismiss_proposal(deps, MUN, p["id"], reason="ещё раз")
    assert store.types() == ["proposal_dismissed"]
    pending = await proposals.list_proposals(deps, MUN, period=P, status="pending")
    assert p["id"] not in {x["id"] for x in pending["proposals"]}


async def test_schools_other_municipalities_and_other_directions_cannot_decide():
    deps, store = await region_with_risk()
    p = await first(deps)
    for who in (S1, S2, OTHER_MUN):
        with pytest.raises(Forbidden):
            await proposals.accept_proposal(deps, who, p["id"])
        with pytest.raises(Forbidden):
            await proposals.dismiss_proposal(deps, who, p["id"], reason="нет")
    with pytest.raises(Forbidden):
        await proposals.get_proposal(deps, S2, p["id"])
    coordinator = Principal(
        subject="c",
        role=Role.COORDINATOR,
        region="r",
        municipality="m1",
        directions=("objectivity",),
    )
    with pytest.raises(Exception, match="coordinator of objectivity"):
        await proposals.accept_proposal(deps, coordinator, p["id"])
    assert store.appended == 0
    ours = Principal(
        subject="c",
        role=Role.COORDINATOR,
        region="r",
        municipality="m1",
        directions=("low_results",),
    )
    decided, _ = await proposals.accept_proposal(deps, ours, p["id"])
    assert decided["decision"]["actor_role"] == "coordinator"


async def test_an_indicator_the_catalogue_does_not_know_refuses_the_accept_recording_nothing():
    deps, store = await region_with_risk()
    p = await first(deps)
    del deps.catalogue.known[MATH2]
    with pytest.raises(FieldRefused):
        await proposals.accept_proposal(deps, MUN, p["id"])
    assert store.appended == 0
    deps.catalogue.down = True
    with pytest.raises(CatalogueUnavailable):
        await proposals.accept_proposal(deps, MUN, p["id"])


async def test_an_accept_interrupted_before_the_recommendation_is_completed_by_accepting_again():
    deps, store = await region_with_risk()
    p = await first(deps)
    real = proposals.issue_recommendation

    async def crash(*a, **kw):
        raise RuntimeError("the store went away")

    proposals.issue_recommendation = crash
    try:
        with pytest.raises(RuntimeError):
            await proposals.accept_proposal(deps, MUN, p["id"])
    finally:
        proposals.issue_recommendation = real
    assert store.types() == ["proposal_accepted"]
    decided, rec = await proposals.accept_proposal(deps, MUN, p["id"])
    assert decided["decision"]["recommendation_id"] == rec.id
    assert store.types() == ["proposal_accepted", "recommendation_issued"]
    with pytest.raises(DomainError, match="already accepted"):
        await proposals.accept_proposal(deps, MUN, p["id"])


async def test_an_unknown_or_no_longer_proposed_id_is_not_found():
    deps, _ = await region_with_risk()
    with pytest.raises(DomainError):
        await proposals.get_proposal(deps, MUN, "proposal:nonsense")
    with pytest.raises(NotFound):
        await proposals.get_proposal(deps, MUN, "proposal:s1~2025-26~000000000000")
    with pytest.raises(NotFound):
        await proposals.accept_proposal(deps, MUN, "proposal:s1~2025-26~000000000000")


async def test_a_school_with_signs_of_non_objective_results_gets_the_objectivity_measures():
    deps, _ = await region_with_risk()
    deps.catalogue.defined["vpr_raised_share"] = Definition(
        "vpr_raised_share", "Доля повысивших отметку", Direction.OBJECTIVITY, "above", 30
    )
    await deps.values.record(
        [
            value("s3", "vpr_raised_share", 14, 40),
            listed("s3", RiskList.NON_OBJECTIVE, ("vpr_raised_share",)),
            listed("s2", RiskList.NON_OBJECTIVE, ()),  # listed by a rule with no values here
        ]
    )
    out = await proposals.list_proposals(deps, MUN, period=P)
    s3 = [p for p in out["proposals"] if p["school_id"] == "s3"]
    group = [p for p in s3 if p["problem"]["kind"] == "risk_list"]
    assert {p["direction"] for p in group} == {"objectivity"}
    assert all("«Доля повысивших отметку»" in p["text"] for p in group)
    assert any("35 (порог 30, риск выше порога; 14 из 40)" in p["text"] for p in group)
    s2 = [p for p in out["proposals"] if p["school_id"] == "s2"]
    assert s2
    assert all("список «признаки необъективности»" in p["text"] for p in s2)
