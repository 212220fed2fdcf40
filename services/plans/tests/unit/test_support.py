"""Seed 002's support indicator of recommendations, on the in-memory fakes: of the schools
on ШНОР or ШНСУ in the period, those given a recommendation for it (counted by hand)."""

from __future__ import annotations

import pytest

from shkala_contracts.events.indicators import MembershipChange, RiskList
from shkala_contracts.vocabulary import Direction
from shkala_plans.service_layer import recommendations, support
from shkala_runtime.auth import Forbidden

from .fakes import fake_deps
from .test_proposals import MUN, OTHER_MUN, REGION, S1, P, listed


async def region():
    """m1: s1 on ШНОР, s2 on ШНСУ, s3 left ШНОР this year; m2: s4 on ШНОР.
    Recommendations for the period: s1 and s4; s2 only for last year."""
    deps, _ = fake_deps()
    await deps.values.record(
        [
            listed("s1", RiskList.LOW_RESULTS),
            listed("s2", RiskList.UNFAVOURABLE_CONDITIONS),
            listed("s3", RiskList.LOW_RESULTS, change=MembershipChange.LEFT),
            listed("s4", RiskList.LOW_RESULTS),
        ]
    )
    for school, mun, period in (("s1", "m1", P), ("s4", "m2", P), ("s2", "m1", "2024/25")):
        await recommendations.issue_recommendation(
            deps,
            REGION,
            region="r",
            municipality=mun,
            school=school,
            direction=Direction.LOW_RESULTS,
            period=period,
            indicator_id=None,
            indicator_value=None,
            target_value=None,
            text="Методическое сопровождение",
        )
    return deps


async def recommended(deps, who, municipality=None):
    answer = await support.support_indicators(deps, who, P, municipality)
    return next(i for i in answer["indicators"] if i["id"] == "support_recommended_share")


async def test_of_the_listed_schools_those_given_a_recommendation_for_the_period():
    deps = await region()
    m1 = await recommended(deps, MUN)
    # m1: s1 and s2 listed (s3 left); s1 recommended this period, s2 only last year
    assert (m1["numerator"], m1["denominator"], m1["value"]) == (1, 2, 50.0)
    assert m1["given"] == ("s1",)
    assert m1["not_given"] == ("s2",)
    whole = await recommended(deps, REGION)
    assert (whole["numerator"], whole["denominator"]) == (2, 3)  # s1, s4 of s1, s2, s4
    only_m2 = await recommended(deps, REGION, "m2")
    assert (only_m2["numerator"], only_m2["denominator"]) == (1, 1)
    own = await recommended(deps, S1)
    assert (own["numerator"], own["denominator"]) == (1, 1)  # a school sees itself only
    # the text says what is counted and what of the seed's line is not
    assert "диагностика" in m1["definition"]["numerator"]
    assert m1["definition"]["sources"]["formula"].startswith("seed 002")


async def test_another_municipalitys_figures_are_refused():
    deps = await region()
    with pytest.raises(Forbidden):
        await support.support_indicators(deps, OTHER_MUN, P, "m1")


async def test_staff_shortage_measures_reach_the_understaffed_schools_they_target():
    """m1: s2 and s3 understaffed (flag 1), s1 not; a staffing measure on s2 and a ВПР
    measure on s3 for the period: one of the two understaffed schools reached."""
    from shkala_contracts.events.plans import Better
    from shkala_plans.service_layer import measures

    from .test_proposals import value

    deps = await region()
    deps.catalogue.known["understaffed"] = Better.LOWER
    await deps.values.record(
        [
            value("s2", "understaffed", 1, 1),
            value("s3", "understaffed", 1, 1),
            value("s1", "understaffed", 0, 1),
        ]
    )
    for title, school, indicator in (
        ("Служебное жильё для приглашённых учителей", "s2", "understaffed"),
        ("Разбор заданий ВПР", "s3", "vpr_mark2_share_math"),
    ):
        await measures.take_measure(
            deps,
            REGION,
            region="r",
            municipality="m1",
            title=title,
            direction=Direction.LOW_RESULTS,
            target_schools=(school,),
            indicators=[(indicator, None)],
            baseline_period=P,
            evaluation_period="2026/27",
        )
    figures = {i["id"]: i for i in (await support.support_indicators(deps, MUN, P))["indicators"]}
    staff = figures["support_staff_shortage_measures_share"]
    assert (staff["numerator"], staff["denominator"], staff["value"]) == (1, 2, 50.0)
    assert staff["given"] == ("s2",)
    assert staff["not_given"] == ("s3",)
    assert [m["title"] for m in staff["measures"]] == ["Служебное жильё для приглашённых учителей"]
    other = {
        i["id"]: i for i in (await support.support_indicators(deps, OTHER_MUN, P))["indicators"]
    }
    assert other["support_staff_shortage_measures_share"]["denominator"] == 0  # m2: none


async def test_a_municipality_lists_its_own_measures_only():
    from shkala_plans.domain.periods import NotAllowed
    from shkala_plans.service_layer import measures

    deps = await region()
    for mun, school in (("m1", "s1"), ("m2", "s4")):
        await measures.take_measure(
            deps,
            REGION,
            region="r",
            municipality=mun,
            title=f"Мера {mun}",
            direction=Direction.LOW_RESULTS,
            target_schools=(school,),
            indicators=[("vpr_mark2_share_math", None)],
            baseline_period=P,
            evaluation_period="2026/27",
        )
    assert [m["title"] for m in await measures.list_measures(deps, MUN)] == ["Мера m1"]
    only = await measures.list_measures(deps, REGION, municipality="m2")
    assert [(m["title"], m["target_schools"]) for m in only] == [("Мера m2", ["s4"])]
    assert len(await measures.list_measures(deps, REGION)) == 2
    with pytest.raises(NotAllowed):  # a 403 at the edge
        await measures.list_measures(deps, MUN, municipality="m2")
