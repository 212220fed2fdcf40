"""Roster, duties and lifecycles against the in-memory event store and outbox; the
scheduler tick against a fake lease."""

import datetime as dt

import pytest

from shkala_contracts.events.cycle import Duty
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.model import (
    DomainError,
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
