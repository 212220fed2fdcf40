"""Use cases of recommendations and measures (service_layer/recommendations.py, measures.py)
against the in-memory event store, outbox and indicators catalogue: the catalogue decides
which indicators exist and which way each improves; a refusal appends nothing."""

import pytest

from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    MembershipChange,
    RiskList,
    Scope,
)
from shkala_contracts.events.plans import Better
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.model import DomainError, FieldRefused, NotFound
from shkala_plans.service_layer import measures, recommendations
from shkala_plans.service_layer.services import CatalogueUnavailable
from shkala_runtime.auth import Forbidden, Principal, Role

from .fakes import fake_deps

MUN = Principal(subject="h", role=Role.MUNICIPALITY, region="r", municipality="m1")
OTHER_MUN = Principal(subject="h", role=Role.MUNICIPALITY, region="r", municipality="m2")
SCHOOL = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school="s1")
REGION = Principal(subject="op", role=Role.REGION, region="r")
MATH2 = "vpr_mark2_share_math"  # lower is better (indicators' catalogue.yaml)
EGE = "ege_high_scorers_share"  # higher is better


async def issue(deps, who=MUN, **kw):
    args = {
        "region": "r",
        "municipality": "m1",
        "school": "s1",
        "direction": Direction.LOW_RESULTS,
        "period": "2025/26",
        "text": "Разобрать задания 5 и 7 ВПР",
        "indicator_id": MATH2,
        "indicator_value": 31.0,
        "target_value": 20.0,
    } | kw
    return await recommendations.issue_recommendation(deps, who, **args)


async def take(deps, who=MUN, **kw):
    args = {
        "region": "r",
        "municipality": "m1",
        "title": "Наставничество для ШНОР",
        "direction": Direction.LOW_RESULTS,
        "target_schools": ("s1", "s2"),
        "indicators": [(MATH2, None), (EGE, None)],
        "baseline_period": "2024/25",
        "evaluation_period": "2025/26",
    } | kw
    return await measures.take_measure(deps, who, **args)


# --------------------------------------------------------------------------- recommendations


async def test_a_recommendation_is_one_event_at_version_one_in_the_outbox_and_index():
    deps, store = fake_deps()
    rec = await issue(deps)
    assert rec.version == 1
    assert store.types() == ["recommendation_issued"]
    (event,) = store.outbox
    assert (event.originator_id, event.school_id, event.indicator_id) == (rec.id, "s1", MATH2)
    assert store.index[rec.id]["status"] == "issued"
    assert [x["id"] for x in await recommendations.list_recommendations(deps, SCHOOL)] == [rec.id]


async def test_an_unknown_indicator_is_refused_naming_the_field_and_value():
    deps, store = fake_deps()
    with pytest.raises(FieldRefused) as refused:
        await issue(deps, indicator_id="vpr_math_fail")
    assert (refused.value.location, refused.value.value) == ("body.indicator_id", "vpr_math_fail")
    assert "vpr_math_fail" in str(refused.value)
    assert "catalogue" in str(refused.value)
    assert store.appended == 0
    rec = await issue(deps, indicator_id=None)  # a recommendation need not name one
    assert rec.issued is not None
    assert rec.issued.indicator_id is None


async def test_recommendations_are_issued_to_schools_not_by_them_nor_by_another_tenant():
    deps, store = fake_deps()
    for who, school in ((SCHOOL, "s1"), (OTHER_MUN, "s1"), (MUN, "s4")):
        with pytest.raises(Forbidden):
            await issue(deps, who, school=school, municipality=who.municipality or "m1")
    assert store.appended == 0
    assert deps.catalogue.asked == []  # the tenant is checked before anything is asked
    rec = await issue(deps, REGION)
    with pytest.raises(Forbidden):
        await recommendations.get_recommendation(deps, OTHER_MUN, rec.id)
    with pytest.raises(NotFound):
        await recommendations.get_recommendation(deps, MUN, "recommendation:none")


async def test_the_catalogue_down_refuses_and_appends_nothing():
    deps, store = fake_deps()
    deps.catalogue.down = True
    with pytest.raises(CatalogueUnavailable):
        await issue(deps)
    with pytest.raises(CatalogueUnavailable):
        await take(deps)
    assert store.appended == 0


# --------------------------------------------------------------------------- measures


async def test_the_better_direction_comes_from_the_catalogue():
    deps, store = fake_deps()
    m = await take(deps)
    assert m.taken is not None
    assert m.version == 1
    assert {i.indicator_id: i.better for i in m.taken.indicators} == {
        MATH2: Better.LOWER,
        EGE: Better.HIGHER,
    }
    assert store.types() == ["measure_taken"]
    assert store.index[m.id]["indicator_ids"] == [MATH2, EGE]


async def test_a_better_direction_against_the_catalogue_is_refused_naming_the_field():
    deps, store = fake_deps()
    with pytest.raises(FieldRefused) as refused:
        await take(deps, indicators=[(EGE, Better.HIGHER), (MATH2, Better.HIGHER)])
    assert (refused.value.location, refused.value.value) == ("body.indicators.1.better", "higher")
    with pytest.raises(FieldRefused) as unknown:
        await take(deps, indicators=[(MATH2, None), ("made_up", None)])
    assert (unknown.value.location, unknown.value.value) == (
        "body.indicators.1.indicator_id",
        "made_up",
    )
    assert store.appended == 0
    m = await take(deps, indicators=[(MATH2, Better.LOWER)])  # agreeing is fine
    assert m.taken is not None
    assert m.taken.indicators[0].better is Better.LOWER


async def test_a_measure_names_only_its_tenants_schools_and_recommendations():
    deps, store = fake_deps()
    foreign = await issue(deps, REGION, municipality="m2", school="s4")
    before = store.appended
    with pytest.raises(Forbidden):
        await take(deps, target_schools=("s1", "s4"))
    with pytest.raises(Forbidden):
        await take(deps, SCHOOL)
    with pytest.raises(Forbidden):
        await take(deps, recommendation_ids=(foreign.id,))
    with pytest.raises(DomainError):  # a recommendation that does not exist: 422
        await take(deps, recommendation_ids=("recommendation:none",))
    with pytest.raises(DomainError, match="after the baseline"):
        await take(deps, baseline_period="2025/26", evaluation_period="2024/25")
    assert store.appended == before


def value(school, indicator, period, v, version=1):
    return IndicatorValueChanged(
        originator_id=f"ind:{school}:{indicator}:{period}",
        originator_version=version,
        region_id="r",
        municipality_id="m1",
        school_id=school,
        indicator_id=indicator,
        direction="low_results",
        scope=Scope.SCHOOL,
        period=period,
        definition_version="1",
        old_value=None,
        new_value=v,
        numerator=v,
        denominator=100,
    )


async def test_effectiveness_is_evaluated_when_the_values_arrive_and_only_once():
    deps, store = fake_deps()
    m = await take(deps)
    with pytest.raises(measures.NotEvaluable):
        await measures.evaluate_on_request(deps, MUN, m.id)
    # math "2"s fell (better: lower) in both schools, EGE high scorers rose in s1, fell in s2
    figures = {
        ("s1", MATH2): (30.0, 20.0),
        ("s2", MATH2): (25.0, 24.0),
        ("s1", EGE): (10.0, 12.0),
        ("s2", EGE): (8.0, 5.0),
    }
    events = [value(s, i, "2024/25", b) for (s, i), (b, _) in figures.items()]
    assert await measures.on_indicator_events(deps, events) == []  # baseline only: incomplete
    events = [value(s, i, "2025/26", e) for (s, i), (_, e) in figures.items()]
    assert await measures.on_indicator_events(deps, events) == [m.id]
    _, ev = await measures.get_measure(deps, MUN, m.id)
    assert ev.latest is not None
    assert ev.version == 1
    # 3 of 4 pairs improved, 1 worsened: more than half improved -> effective
    assert (ev.latest.improved, ev.latest.worsened, ev.latest.verdict.value) == (
        3,
        1,
        "effective",
    )
    # the same values again (a redelivery) change nothing
    assert await measures.on_indicator_events(deps, events) == [m.id]
    assert store.types().count("effectiveness_evaluated") == 1
    with pytest.raises(Forbidden):
        await measures.get_measure(deps, OTHER_MUN, m.id)


async def test_every_listed_school_leaving_the_lists_is_effective_on_request():
    deps, _ = fake_deps()
    m = await take(deps, indicators=[(MATH2, None)], target_schools=("s1",))
    deps.values.values[("s1", MATH2, "2024/25")] = 30.0
    deps.values.values[("s1", MATH2, "2025/26")] = 30.0  # unchanged
    deps.values.membership += [
        ("s1", RiskList.LOW_RESULTS.value, "2024/25", MembershipChange.ENTERED.value),
        ("s1", RiskList.LOW_RESULTS.value, "2025/26", MembershipChange.LEFT.value),
    ]
    ev = await measures.evaluate_on_request(deps, MUN, m.id)
    assert ev.latest is not None
    assert ev.latest.verdict.value == "effective"
    assert ev.latest.left_lists == ("s1",)


async def test_the_measures_in_full_are_each_as_its_own_answer_within_reach():
    deps, _ = fake_deps()
    first = await take(deps)
    second = await take(deps, title="Методический десант", target_schools=("s3",))
    deps.values.values[("s3", MATH2, "2024/25")] = 30.0
    deps.values.values[("s3", MATH2, "2025/26")] = 20.0
    deps.values.values[("s3", EGE, "2024/25")] = 10.0
    deps.values.values[("s3", EGE, "2025/26")] = 12.0
    await measures.evaluate_on_request(deps, MUN, second.id)
    full = await measures.measures_in_full(deps, MUN, municipality="m1")
    assert [m.id for m, _ in full] == sorted([first.id, second.id])
    for m, ev in full:
        one, one_ev = await measures.get_measure(deps, MUN, m.id)
        assert (m.taken, m.version) == (one.taken, one.version)
        assert ev.latest == one_ev.latest
    assert dict((m.id, ev.latest is not None) for m, ev in full) == {
        first.id: False,
        second.id: True,
    }
    assert await measures.measures_in_full(deps, OTHER_MUN) == []
    # s2 moves to m2: the first measure now names a school beyond m1's reach
    deps.orgs.school["s2"] = "m2"
    with pytest.raises(Forbidden):
        await measures.get_measure(deps, MUN, first.id)
    assert [m.id for m, _ in await measures.measures_in_full(deps, MUN)] == [second.id]
