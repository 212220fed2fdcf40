"""Roster, duties and lifecycles against the in-memory event store and outbox; the
scheduler tick against a fake lease."""

import datetime as dt

import pytest

from shkala_contracts.events.cycle import Duty, MeasureStatus, RecommendationStatus
from shkala_contracts.events.plans import Better, LinkedIndicator
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.model import (
    DomainError,
    Measure,
    Recommendation,
    Roadmap,
    RowSpec,
    SectionSpec,
)
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.service_layer import responsibles, scheduling
from shkala_plans.service_layer.services import execute
from shkala_runtime.auth import Forbidden, Principal, Role

from .fakes import fake_deps

# a refusal is the domain's own (role, state) or the tenant decider's: both answer 403
REFUSED = (NotAllowed, Forbidden)

MUN = Principal(subject="head", role=Role.MUNICIPALITY, region="r", municipality="m1")
SCHOOL = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school="s1")
COORD = Principal(
    subject="c1",
    role=Role.COORDINATOR,
    region="r",
    municipality="m1",
    directions=("low_results",),
)
EXEC = Principal(
    subject="e1", role=Role.EXECUTOR, region="r", municipality="m1", directions=("low_results",)
)
FOREIGN_COORD = COORD.model_copy(update={"municipality": "m2"})


def test_a_duty_token_is_municipal_staff():
    assert COORD.role is Role.MUNICIPALITY
    assert COORD.duty is Role.COORDINATOR
    assert EXEC.duty is Role.EXECUTOR
    assert MUN.duty is None


async def roadmap(deps):
    agg, _ = await execute(
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
                SectionSpec("Таланты", Direction.TALENTS),
            ],
            rows=[
                RowSpec("a", parse_deadline("постоянно"), "s1", responsible=("person:e1",)),
                RowSpec("b", parse_deadline("постоянно"), "s1", responsible=("ОО",)),
                RowSpec("c", parse_deadline("постоянно"), "s2", responsible=("person:e1",)),
            ],
        ),
        must_exist=False,
    )
    return agg


async def test_roster_is_staffed_by_the_municipality_only():
    deps, store = fake_deps()
    r = await responsibles.assign(
        deps,
        MUN,
        municipality="m1",
        person_id="e1",
        duty=Duty.EXECUTOR,
        directions=[Direction.LOW_RESULTS],
    )
    assert list(r.people) == ["e1"]
    again = await responsibles.assign(
        deps,
        MUN,
        municipality="m1",
        person_id="e1",
        duty=Duty.EXECUTOR,
        directions=[Direction.LOW_RESULTS],
    )
    assert again.version == r.version  # the same appointment again appends nothing
    for who in (COORD, SCHOOL):
        with pytest.raises(REFUSED):
            await responsibles.assign(
                deps,
                who,
                municipality="m1",
                person_id="x",
                duty=Duty.EXECUTOR,
                directions=[Direction.TALENTS],
            )
    with pytest.raises(REFUSED):
        await responsibles.assign(
            deps,
            MUN,
            municipality="m2",
            person_id="x",
            duty=Duty.EXECUTOR,
            directions=[Direction.TALENTS],
        )
    with pytest.raises(DomainError):
        await responsibles.check_named(deps, "m1", ["person:ghost", "Отдел образования"])
    await responsibles.check_named(deps, "m1", ["person:e1", "Отдел образования"])
    assert store.types() == ["responsible_assigned"]


async def test_coordinator_and_executor_rights_on_a_roadmap():
    deps, _ = fake_deps()
    await roadmap(deps)
    await responsibles.assign(
        deps,
        MUN,
        municipality="m1",
        person_id="e1",
        duty=Duty.EXECUTOR,
        directions=[Direction.LOW_RESULTS],
    )
    check = responsibles.check_roadmap_change
    await check(deps, COORD, "roadmap:t", row_id="r1")
    await check(deps, COORD, "roadmap:t", section_id="s1")
    with pytest.raises(REFUSED):
        await check(deps, COORD, "roadmap:t", row_id="r3")
    with pytest.raises(REFUSED):
        await check(deps, COORD, "roadmap:t", section_id="s2")
    with pytest.raises(REFUSED):
        await check(deps, FOREIGN_COORD, "roadmap:t", row_id="r1")
    await check(deps, EXEC, "roadmap:t", row_id="r1", report=True)
    await check(deps, EXEC, "roadmap:t", row_id="r3", report=True)
    with pytest.raises(REFUSED):
        await check(deps, EXEC, "roadmap:t", row_id="r2", report=True)
    with pytest.raises(REFUSED):
        await check(deps, EXEC, "roadmap:t", row_id="r1")  # an edit, not a report
    await check(deps, MUN, "roadmap:t", row_id="r3")  # no duty: no narrowing


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
    change = responsibles.change_recommendation_status
    with pytest.raises(REFUSED):  # not the coordinator's direction
        await change(deps, COORD, "recommendation:1", RecommendationStatus.WITHDRAWN, "x")
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
    change = responsibles.change_measure_status
    with pytest.raises(REFUSED):
        await change(deps, SCHOOL, "measure:1", MeasureStatus.RUNNING)
    with pytest.raises(REFUSED):
        await change(deps, EXEC, "measure:1", MeasureStatus.RUNNING)
    with pytest.raises(DomainError):
        await change(deps, COORD, "measure:1", MeasureStatus.FINISHED, "x")  # skips running
    await change(deps, COORD, "measure:1", MeasureStatus.RUNNING)
    with pytest.raises(DomainError):
        await change(deps, COORD, "measure:1", MeasureStatus.FINISHED)  # needs a report
    await change(deps, COORD, "measure:1", MeasureStatus.FINISHED, "проведено 4 семинара")
    with pytest.raises(DomainError):
        await change(deps, COORD, "measure:1", MeasureStatus.EVALUATED)
    assert store.index["measure:1"]["status"] == "finished"


class FakeLease:
    def __init__(self, held: bool) -> None:
        self.held, self.last, self.runs = held, None, 0

    async def hold(self) -> bool:
        return self.held

    async def last_run(self):
        return self.last

    async def ran(self, at):
        self.last = at

    async def release(self) -> None:
        self.held = False


async def test_scheduler_tick_runs_only_for_the_holder_once_per_interval():
    t = [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)]
    calls = []

    async def job():
        calls.append(t[0])

    holder, other = FakeLease(True), FakeLease(False)
    assert await scheduling.tick(holder, job, 60, now=lambda: t[0])
    assert not await scheduling.tick(other, job, 60, now=lambda: t[0])
    t[0] += dt.timedelta(seconds=30)
    assert not await scheduling.tick(holder, job, 60, now=lambda: t[0])
    t[0] += dt.timedelta(seconds=31)
    assert await scheduling.tick(holder, job, 60, now=lambda: t[0])
    assert len(calls) == 2


def test_duty_tokens_round_trip_and_keep_the_municipal_tenant():
    from shkala_contracts import Tenant
    from shkala_runtime.auth import decode_token, issue_token
    from shkala_runtime.settings import ServiceSettings

    settings = ServiceSettings()
    p = decode_token(
        settings,
        issue_token(
            settings, "coordinator", municipality="m1", subject="c1", directions=("low_results",)
        ),
    )
    assert (p.role, p.duty, p.directions, p.subject) == (
        Role.MUNICIPALITY,
        Role.COORDINATOR,
        ("low_results",),
        "c1",
    )
    assert p.can_access(Tenant(region="demo", municipality="m1", school="s1"))
    assert not p.can_access(Tenant(region="demo", municipality="m2"))
    with pytest.raises(ValueError, match="directions"):
        issue_token(settings, "executor", municipality="m1")
    plain = decode_token(settings, issue_token(settings, "municipality", municipality="m1"))
    assert (plain.duty, plain.directions) == (None, ())
