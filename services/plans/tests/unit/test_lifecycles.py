"""The lifecycles of recommendations (issued → accepted → in progress → done / withdrawn)
and measures (planned → running → finished → evaluated) against the in-memory event store:
who moves them on (a coordinator: in their direction) and the rules of each step."""

import pytest

from shkala_contracts.events.cycle import MeasureStatus, RecommendationStatus
from shkala_contracts.events.plans import Better, LinkedIndicator
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.model import DomainError, Measure, Recommendation
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.service_layer import measures, recommendations
from shkala_plans.service_layer.services import execute
from shkala_runtime.auth import Forbidden, Principal, Role

from .fakes import fake_deps

REFUSED = (NotAllowed, Forbidden)
MUN = Principal(subject="head", role=Role.MUNICIPALITY, region="r", municipality="m1")
SCHOOL = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school="s1")
COORD = Principal(
    subject="c1", role=Role.COORDINATOR, region="r", municipality="m1", directions=("low_results",)
)
EXEC = Principal(
    subject="e1", role=Role.EXECUTOR, region="r", municipality="m1", directions=("low_results",)
)


async def test_recommendation_lifecycle():
    deps, store = fake_deps()
    await execute(
        deps,
        Recommendation,
        "recommendation:1",
        lambda a: a.decide_issue(
            region="r",
            municipality="m1",
            school="s1",
            direction=Direction.TALENTS,
            period="2025/26",
            text="t",
        ),
        must_exist=False,
    )
    change = recommendations.change_recommendation_status
    appended = store.appended
    with pytest.raises(REFUSED):  # not the coordinator's direction
        await change(deps, COORD, "recommendation:1", RecommendationStatus.WITHDRAWN, "x")
    with pytest.raises(REFUSED):  # an executor moves no recommendation
        await change(deps, EXEC, "recommendation:1", RecommendationStatus.ACCEPTED)
    assert store.appended == appended
    # of their own direction: the coordinator withdraws it
    await execute(
        deps,
        Recommendation,
        "recommendation:2",
        lambda a: a.decide_issue(
            region="r",
            municipality="m1",
            school="s1",
            direction=Direction.LOW_RESULTS,
            period="2025/26",
            text="t",
        ),
        must_exist=False,
    )
    got = await change(deps, COORD, "recommendation:2", RecommendationStatus.WITHDRAWN, "дубль")
    assert got.status is RecommendationStatus.WITHDRAWN
    with pytest.raises(DomainError):  # done before accepted
        await change(deps, SCHOOL, "recommendation:1", RecommendationStatus.DONE, "x")
    rec = await change(deps, SCHOOL, "recommendation:1", RecommendationStatus.ACCEPTED)
    assert rec.status is RecommendationStatus.ACCEPTED
    with pytest.raises(DomainError):
        await change(deps, SCHOOL, "recommendation:1", RecommendationStatus.DONE)  # no report
    rec = await change(deps, SCHOOL, "recommendation:1", RecommendationStatus.DONE, "сделано")
    assert [r["status"] for r in rec.reports] == ["accepted", "done"]
    with pytest.raises(DomainError):
        await change(deps, MUN, "recommendation:1", RecommendationStatus.WITHDRAWN, "поздно")
    assert store.index["recommendation:1"]["status"] == "done"


async def test_measure_lifecycle_evaluated_needs_an_evaluation():
    deps, store = fake_deps()
    await execute(
        deps,
        Measure,
        "measure:1",
        lambda a: a.decide_take(
            region="r",
            municipality="m1",
            title="Наставничество",
            direction=Direction.LOW_RESULTS,
            target_schools=("s1",),
            indicators=(LinkedIndicator(indicator_id="x", better=Better.LOWER),),
            baseline_period="2024/25",
            evaluation_period="2025/26",
        ),
        must_exist=False,
    )
    change = measures.change_measure_status
    with pytest.raises(REFUSED):
        await change(deps, SCHOOL, "measure:1", MeasureStatus.RUNNING)
    with pytest.raises(REFUSED):
        await change(deps, EXEC, "measure:1", MeasureStatus.RUNNING)
    talents = COORD.model_copy(update={"directions": ("talents",)})
    with pytest.raises(REFUSED):  # not the coordinator's direction
        await change(deps, talents, "measure:1", MeasureStatus.RUNNING)
    assert store.appended == 1
    with pytest.raises(DomainError):
        await change(deps, COORD, "measure:1", MeasureStatus.FINISHED, "x")  # skips running
    await change(deps, COORD, "measure:1", MeasureStatus.RUNNING)
    with pytest.raises(DomainError):
        await change(deps, COORD, "measure:1", MeasureStatus.FINISHED)  # needs a report
    await change(deps, COORD, "measure:1", MeasureStatus.FINISHED, "проведено 4 семинара")
    with pytest.raises(DomainError):
        await change(deps, COORD, "measure:1", MeasureStatus.EVALUATED)
    assert store.index["measure:1"]["status"] == "finished"
