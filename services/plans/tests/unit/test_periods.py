"""Use cases of monitoring periods against the in-memory event store and outbox."""

import pytest

from shkala_plans.adapters.event_store import ConcurrencyError
from shkala_plans.domain.model import DomainError, NotFound
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.service_layer import periods
from shkala_runtime.auth import Forbidden, Principal, Role

from .fakes import fake_deps

# a refusal is the domain's own (role, state) or the tenant decider's: both answer 403
REFUSED = (NotAllowed, Forbidden)

SCHOOL = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school="s1")
OTHER_SCHOOL = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school="s2")
MUN = Principal(subject="u", role=Role.MUNICIPALITY, region="r", municipality="m1")
OTHER_MUN = Principal(subject="u", role=Role.MUNICIPALITY, region="r", municipality="m2")
REGION = Principal(subject="u", role=Role.REGION, region="r")
OTHER_REGION = Principal(subject="u", role=Role.REGION, region="r2")
COORD = Principal(
    subject="c", role=Role.COORDINATOR, region="r", municipality="m1", directions=("talents",)
)
Y = "2025/26"


async def test_the_walk_appends_one_event_per_step_to_the_outbox():
    deps, store = fake_deps()
    p = await periods.submit(deps, SCHOOL, school="s1", period=Y, note="готово")
    assert (p.state.value, p.version) == ("submitted", 2)
    p = await periods.return_period(deps, MUN, school="s1", period=Y, reason="  нет ОГЭ  ")
    assert p.last_reason == "нет ОГЭ"
    with pytest.raises(DomainError):
        await periods.approve(deps, MUN, school="s1", period=Y)
    await periods.submit(deps, SCHOOL, school="s1", period=Y)
    p = await periods.approve(deps, MUN, school="s1", period=Y)
    assert p.approved
    p = await periods.lock(deps, REGION, school="s1", period=Y)
    assert p.state.value == "locked"
    assert store.types() == [
        "monitoring_period_opened",
        "monitoring_period_submitted",
        "monitoring_period_returned",
        "monitoring_period_submitted",
        "monitoring_period_approved",
        "monitoring_period_locked",
    ]
    assert store.outbox[3].resubmission is True
    assert store.outbox[1].resubmission is False
    # locking again changes nothing and appends nothing
    before = len(store.outbox)
    await periods.lock(deps, REGION, school="s1", period=Y)
    assert len(store.outbox) == before
    assert store.index[p.id]["state"] == "locked"
    assert store.index[p.id]["locked_by"] == "r"


async def test_each_step_is_the_right_roles_within_the_tenant():
    deps, store = fake_deps()
    with pytest.raises(REFUSED):
        await periods.submit(deps, OTHER_SCHOOL, school="s1", period=Y)
    with pytest.raises(REFUSED):
        await periods.submit(deps, MUN, school="s1", period=Y)
    with pytest.raises(NotFound):
        await periods.approve(deps, MUN, school="s1", period=Y)
    await periods.submit(deps, SCHOOL, school="s1", period=Y)
    for who in (OTHER_MUN, SCHOOL, REGION, COORD):
        with pytest.raises(REFUSED):
            await periods.approve(deps, who, school="s1", period=Y)
    await periods.approve(deps, MUN, school="s1", period=Y)
    for who in (MUN, OTHER_REGION):
        with pytest.raises(REFUSED):
            await periods.lock(deps, who, school="s1", period=Y)
    assert store.types()[-1] == "monitoring_period_approved"


async def test_reopen_needs_a_reason_and_a_locked_period():
    deps, store = fake_deps()
    await periods.submit(deps, SCHOOL, school="s1", period=Y)
    with pytest.raises(DomainError):
        await periods.reopen(deps, REGION, school="s1", period=Y, reason="x")  # not locked
    await periods.approve(deps, MUN, school="s1", period=Y)
    await periods.lock(deps, REGION, school="s1", period=Y)
    with pytest.raises(DomainError):
        await periods.reopen(deps, REGION, school="s1", period=Y, reason="   ")
    with pytest.raises(ConcurrencyError):
        await periods.reopen(deps, REGION, school="s1", period=Y, reason="x", expected_version=2)
    p = await periods.reopen(deps, REGION, school="s1", period=Y, reason="апелляция")
    assert p.state.value == "open"
    assert p.history[-1].reason == "апелляция"
    assert store.outbox[-1].actor_role == "region"
    # open again: the school can submit again
    p = await periods.submit(deps, SCHOOL, school="s1", period=Y)
    assert p.state.value == "submitted"


async def test_lock_municipality_locks_approved_and_names_the_rest():
    deps, _ = fake_deps()
    for s in ("s1", "s2", "s3"):
        who = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school=s)
        await periods.submit(deps, who, school=s, period=Y)
    await periods.approve(deps, MUN, school="s1", period=Y)
    await periods.approve(deps, MUN, school="s3", period=Y)
    await periods.lock(deps, REGION, school="s3", period=Y)
    out = await periods.lock_municipality(deps, REGION, municipality="m1", period=Y)
    assert (out.locked, out.already_locked, out.not_ready) == (["s1"], ["s3"], {"s2": "submitted"})
    with pytest.raises(REFUSED):
        await periods.lock_municipality(deps, MUN, municipality="m1", period=Y)


async def test_lock_query_and_listing_stay_in_the_tenant():
    deps, _ = fake_deps()
    await periods.submit(deps, SCHOOL, school="s1", period=Y)
    await periods.approve(deps, MUN, school="s1", period=Y)
    await periods.lock(deps, REGION, school="s1", period=Y)
    hits = await periods.locked_among(deps, REGION, [("s1", Y), ("s1", "2024/25"), ("s9", Y)])
    assert [(h["school_id"], h["period"]) for h in hits] == [("s1", Y)]
    with pytest.raises(REFUSED):  # another region's token learns nothing, not even "none"
        await periods.locked_among(deps, OTHER_REGION, [("s1", Y)])
    with pytest.raises(REFUSED):
        await periods.locked_among(deps, MUN, [("s1", Y)])
    assert [x["state"] for x in await periods.list_periods(deps, MUN)] == ["locked"]
    assert await periods.list_periods(deps, OTHER_MUN) == []
    with pytest.raises(REFUSED):
        await periods.list_periods(deps, OTHER_MUN, municipality="m1")
    with pytest.raises(REFUSED):
        await periods.list_periods(deps, OTHER_SCHOOL, school="s1")
