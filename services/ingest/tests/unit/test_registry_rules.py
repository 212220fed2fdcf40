"""Who may change the org-unit registry (domain/registry_rules.py), against an in-memory one."""

import pytest

from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolMoved,
    SchoolRegistered,
)
from shkala_ingest.domain.registry_rules import Registry, judge_parent, judge_school
from shkala_runtime.auth import Principal, Role

R = "demo"
REGISTRY = Registry.from_documents(
    [
        {"unit": "region", "region_id": R, "name": "Демо-область"},
        {"unit": "municipality", "region_id": R, "municipality_id": "mo-1", "name": "МО 1"},
        {"unit": "municipality", "region_id": R, "municipality_id": "mo-2", "name": "МО 2"},
        {"unit": "school", "region_id": R, "municipality_id": "mo-1", "school_id": "a"},
        {"unit": "school", "region_id": R, "municipality_id": "mo-2", "school_id": "c"},
    ]
)
REGION = Principal(subject="r", role=Role.REGION, region=R)
MO1 = Principal(subject="m", role=Role.MUNICIPALITY, region=R, municipality="mo-1")


def school(sid: str, mun: str, name: str = "Школа") -> SchoolRegistered:
    return SchoolRegistered(region_id=R, municipality_id=mun, school_id=sid, name=name)


@pytest.mark.parametrize(
    ("who", "fact", "allowed"),
    [
        (MO1, school("a", "mo-1", "Новое имя"), True),  # own school, renamed
        (MO1, school("new", "mo-1"), True),  # a new school of its own
        (MO1, school("new", "mo-2"), False),  # a new school elsewhere
        (MO1, school("c", "mo-1"), False),  # re-parenting mo-2's school into its own
        (MO1, school("c", "mo-2", "Чужое имя"), False),  # renaming mo-2's school
        (MO1, school("a", "mo-2"), False),  # giving away its own: a move, the region's
        (REGION, school("c", "mo-2", "Новое"), True),
        (REGION, school("new", "mo-2"), True),
    ],
)
def test_school_rows(who, fact, allowed):
    refused, moved = judge_school(who, REGISTRY, fact)
    assert (refused is None) is allowed, refused
    assert moved is None


def test_only_the_region_moves_a_school_and_the_move_is_its_own_event():
    refused, moved = judge_school(REGION, REGISTRY, school("c", "mo-1"))
    assert refused is None
    assert moved == SchoolMoved(
        region_id=R, school_id="c", from_municipality_id="mo-2", to_municipality_id="mo-1"
    )
    refused, moved = judge_school(MO1, REGISTRY, school("c", "mo-1"))
    assert moved is None
    assert refused is not None
    assert "mo-2" in refused.reason


@pytest.mark.parametrize(
    ("who", "event", "allowed"),
    [
        (MO1, RegionRegistered(region_id=R, name="Демо-область"), True),  # repeats the registry
        (MO1, RegionRegistered(region_id=R, name="Взломанная область"), False),  # renames it
        (MO1, RegionRegistered(region_id="other", name="Другая"), False),
        (MO1, MunicipalityRegistered(region_id=R, municipality_id="mo-1", name="МО 1"), True),
        (MO1, MunicipalityRegistered(region_id=R, municipality_id="mo-1", name="Иное"), False),
        (MO1, MunicipalityRegistered(region_id=R, municipality_id="mo-2", name="МО 2"), False),
        (MO1, MunicipalityRegistered(region_id=R, municipality_id="mo-9", name="МО 9"), False),
        (REGION, RegionRegistered(region_id=R, name="Новое имя"), True),
        (REGION, MunicipalityRegistered(region_id=R, municipality_id="mo-9", name="МО 9"), True),
        (REGION, RegionRegistered(region_id="other", name="Другая"), False),
    ],
)
def test_regions_and_municipalities_are_registered_and_renamed_by_the_region(who, event, allowed):
    assert (judge_parent(who, REGISTRY, event) is None) is allowed


def test_a_municipality_may_not_register_itself():
    fresh = Principal(subject="m", role=Role.MUNICIPALITY, region=R, municipality="mo-9")
    event = MunicipalityRegistered(region_id=R, municipality_id="mo-9", name="МО 9")
    refused = judge_parent(fresh, REGISTRY, event)
    assert refused is not None
    assert "only a region token may register a municipality" in refused.reason
