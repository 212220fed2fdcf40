"""Periods and the roster ask the one decider with the units the registry places (issue 14 ×
issue 17): the paths a foreign tenant used to get through, refused with nothing appended."""

import pytest

from shkala_plans.service_layer import periods, responsibles
from shkala_plans.service_layer.services import Deps
from shkala_runtime.auth import Forbidden, Principal, Role

from .fakes import FakeEventStore, fake_deps

R = "demo"
REGION = Principal(subject="r", role=Role.REGION, region=R)
OTHER = Principal(subject="o", role=Role.REGION, region="elsewhere")
M1 = Principal(subject="m", role=Role.MUNICIPALITY, region=R, municipality="m1")
A = Principal(subject="s", role=Role.SCHOOL, region=R, municipality="m1", school="a")
# a signed school token whose municipality claim is not the registry's
A_IN_M2 = Principal(subject="s", role=Role.SCHOOL, region=R, municipality="m2", school="a")


def deps() -> tuple[Deps, FakeEventStore]:
    return fake_deps({"m1": ("a", "b"), "m2": ("x",)}, region=R)


async def test_the_registry_places_the_submitting_school() -> None:
    d, store = deps()
    with pytest.raises(Forbidden):
        await periods.submit(d, A_IN_M2, school="a", period="2025/26")
    assert store.appended == 0
    p = await periods.submit(d, A, school="a", period="2025/26")
    assert (p.region, p.municipality, p.school) == (R, "m1", "a")


async def test_another_region_changes_no_roster_and_locks_nothing() -> None:
    d, store = deps()
    person = {"person_id": "p1", "duty": "coordinator", "directions": ["low_results"]}
    await responsibles.assign(d, M1, municipality="m1", **person)
    before = store.appended
    with pytest.raises(Forbidden):
        await responsibles.assign(d, OTHER, municipality="m1", **person | {"person_id": "p2"})
    with pytest.raises(Forbidden):
        await responsibles.remove(d, OTHER, municipality="m1", person_id="p1")
    with pytest.raises(Forbidden):
        await responsibles.roster_of(d, OTHER, "m1")
    with pytest.raises(Forbidden):
        await periods.lock_municipality(d, OTHER, municipality="m1", period="2025/26")
    with pytest.raises(Forbidden):
        await periods.locked_among(d, OTHER, [("a", "2025/26")])
    assert store.appended == before
    assert await periods.locked_among(d, REGION, [("a", "2025/26")]) == []
