"""The plans write rules (service_layer/tenancy.py) against an in-memory registry."""

import pytest

from shkala_contracts import Tenant
from shkala_plans.domain.model import DomainError
from shkala_plans.service_layer import tenancy
from shkala_runtime.auth import Forbidden, Principal, Role

from .fakes import FakeOrgs

R = "demo"
ORGS = FakeOrgs(R, {"m1": ("a", "b"), "m2": ("x",)})
REGION = Principal(subject="r", role=Role.REGION, region=R)
M1 = Principal(subject="m", role=Role.MUNICIPALITY, region=R, municipality="m1")
A = Principal(subject="s", role=Role.SCHOOL, region=R, municipality="m1", school="a")
PLANNERS = (Role.REGION, Role.MUNICIPALITY)


async def new(who, municipality, school=None, schools=(), roles=None):
    return await tenancy.authorize_new_plan(
        ORGS,
        who,
        region=R,
        municipality=municipality,
        school=school,
        schools=schools,
        roles=roles,
        what="a plan",
    )


@pytest.mark.parametrize(
    ("who", "args", "outcome"),
    [
        (M1, ("m1",), Tenant(region=R, municipality="m1")),
        (M1, ("m1", "a"), Tenant(region=R, municipality="m1", school="a")),
        (M1, ("m1", None, ("a", "b")), Tenant(region=R, municipality="m1")),
        (M1, ("m2",), Forbidden),
        (M1, ("m1", "x"), Forbidden),  # m2's school under m1's id: the registry decides
        (M1, ("m1", None, ("a", "x")), Forbidden),  # one foreign school among its own
        (M1, ("m1", None, ("zzz",)), tenancy.UnknownUnit),
        (A, ("m1", "a"), Tenant(region=R, municipality="m1", school="a")),
        (A, ("m1",), Forbidden),  # a school writes only its own school roadmap
        (A, ("m1", "b"), Forbidden),
        (A, ("m1", "a", ("b",)), Forbidden),
        (REGION, ("m2", None, ("x",)), Tenant(region=R, municipality="m2")),
        (REGION, ("m1", "x"), DomainError),  # the school is not in that municipality
        (REGION, ("m1", None, ("x",)), DomainError),
        (REGION, ("m9",), tenancy.UnknownUnit),
    ],
)
async def test_who_may_create_which_plan(who, args, outcome):
    if isinstance(outcome, Tenant):
        assert await new(who, *args) == outcome
    else:
        with pytest.raises(outcome):
            await new(who, *args)


async def test_recommendations_and_measures_are_not_a_schools_to_write():
    with pytest.raises(Forbidden, match="only a municipality or region token"):
        await new(A, "m1", "a", roles=PLANNERS)
    assert await new(M1, "m1", "a", roles=PLANNERS) == Tenant(
        region=R, municipality="m1", school="a"
    )


async def test_reach_of_an_existing_measure():
    await tenancy.authorize_reach(ORGS, M1, ["a", "b"])
    with pytest.raises(Forbidden):
        await tenancy.authorize_reach(ORGS, M1, ["a", "x"])
    with pytest.raises(Forbidden):  # unknown to the registry: only the region reaches it
        await tenancy.authorize_reach(ORGS, M1, ["gone"])
    await tenancy.authorize_reach(ORGS, REGION, ["a", "x", "gone"])
