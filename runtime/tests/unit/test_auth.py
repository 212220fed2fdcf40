"""Token decoding and the one tenant decider (``refusal``/``authorize``)."""

import datetime as dt

import jwt
import pytest

from shkala_contracts import Tenant
from shkala_runtime.auth import (
    Forbidden,
    Principal,
    Role,
    authorize,
    decode_token,
    issue_token,
    refusal,
)
from shkala_runtime.problems import Problem
from shkala_runtime.settings import ServiceSettings

SETTINGS = ServiceSettings()


def signed(**claims) -> str:
    """A token signed with the service's own secret: a valid signature, whatever it says."""
    now = dt.datetime.now(dt.UTC)
    base = {
        "sub": "t",
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
        "region": SETTINGS.region_id,
    }
    body = {k: v for k, v in (base | claims).items() if v is not None}
    return jwt.encode(body, SETTINGS.jwt_secret.get_secret_value(), algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "municipality"},
        {"role": "municipality", "municipality": ""},
        {"role": "school", "municipality": "m1"},
        {"role": "school", "school": "s1"},
        {"role": "school"},
        {"role": "teacher", "municipality": "m1", "school": "s1"},
        {"role": "REGION"},
        {"role": None},
        {"role": "region", "region": None},
        {"role": "region", "region": ""},
        {"role": "region", "region": 7},
        {"role": "municipality", "municipality": 42},
        {"role": "municipality", "municipality": ["m1", "m2"]},
        {"role": "municipality", "municipality": "m1/../m2"},
        {"role": ["region"]},
    ],
)
def test_a_signed_token_with_missing_or_wrong_claims_is_refused_401(claims):
    with pytest.raises(Problem) as err:
        decode_token(SETTINGS, signed(**claims))
    assert err.value.status == 401
    assert err.value.type.endswith("unauthorized")


def test_complete_tokens_decode_and_narrower_claims_of_a_wider_role_are_dropped():
    p = decode_token(SETTINGS, signed(role="school", municipality="m1", school="s1"))
    assert (p.role, p.municipality, p.school) == (Role.SCHOOL, "m1", "s1")
    m = decode_token(SETTINGS, signed(role="municipality", municipality="m1", school="s9"))
    assert (m.role, m.municipality, m.school) == (Role.MUNICIPALITY, "m1", None)
    r = decode_token(SETTINGS, signed(role="region", municipality="m1", school="s9"))
    assert (r.role, r.municipality, r.school) == (Role.REGION, None, None)


def test_issue_token_round_trips():
    t = issue_token(SETTINGS, Role.SCHOOL, municipality="m1", school="s1")
    assert decode_token(SETTINGS, t).school == "s1"
    with pytest.raises(ValueError, match="municipality"):
        issue_token(SETTINGS, Role.MUNICIPALITY)


R = SETTINGS.region_id
REGION = Principal(subject="r", role=Role.REGION, region=R)
MUN = Principal(subject="m", role=Role.MUNICIPALITY, region=R, municipality="m1")
SCHOOL = Principal(subject="s", role=Role.SCHOOL, region=R, municipality="m1", school="s1")

OWN_SCHOOL = Tenant(region=R, municipality="m1", school="s1")
SIBLING = Tenant(region=R, municipality="m1", school="s2")
FOREIGN_SCHOOL = Tenant(region=R, municipality="m2", school="s3")
OWN_MUN = Tenant(region=R, municipality="m1")
FOREIGN_MUN = Tenant(region=R, municipality="m2")
THE_REGION = Tenant(region=R)
OTHER_REGION = Tenant(region="elsewhere", municipality="m1", school="s1")


@pytest.mark.parametrize(
    ("who", "unit", "allowed"),
    [
        (REGION, OWN_SCHOOL, True),
        (REGION, FOREIGN_SCHOOL, True),
        (REGION, FOREIGN_MUN, True),
        (REGION, THE_REGION, True),
        (REGION, OTHER_REGION, False),
        (MUN, OWN_SCHOOL, True),
        (MUN, SIBLING, True),
        (MUN, OWN_MUN, True),
        (MUN, FOREIGN_SCHOOL, False),
        (MUN, FOREIGN_MUN, False),
        (MUN, THE_REGION, False),
        (MUN, OTHER_REGION, False),
        (SCHOOL, OWN_SCHOOL, True),
        (SCHOOL, Tenant(region=R, school="s1"), True),
        (SCHOOL, SIBLING, False),
        (SCHOOL, OWN_MUN, False),
        (SCHOOL, THE_REGION, False),
        # the registry puts s1 in another municipality than the token says: not its own
        (SCHOOL, Tenant(region=R, municipality="m2", school="s1"), False),
        (SCHOOL, OTHER_REGION, False),
    ],
)
def test_the_decider(who, unit, allowed):
    assert (refusal(who, [unit]) is None) is allowed
    assert who.can_access(unit) is allowed


def test_every_unit_named_is_checked_not_only_the_first():
    assert refusal(MUN, [OWN_SCHOOL, SIBLING]) is None
    why = refusal(MUN, [OWN_SCHOOL, FOREIGN_SCHOOL, SIBLING], action="name")
    assert why == "a municipality m1 token cannot name school s3"
    with pytest.raises(Forbidden) as err:
        authorize(MUN, [OWN_MUN, FOREIGN_SCHOOL])
    assert err.value.status == 403
    assert "s3" in (err.value.detail or "")


def test_roles_narrow_who_may_act_at_all():
    assert refusal(REGION, [OWN_MUN], roles={Role.REGION}) is None
    why = refusal(MUN, [OWN_MUN], roles={Role.REGION}, action="rename a municipality")
    assert why is not None
    assert "only a region token may rename a municipality" in why
    assert refusal(SCHOOL, [OWN_SCHOOL], roles={Role.REGION, Role.MUNICIPALITY}) is not None
