"""Use cases of roadmaps (service_layer/roadmaps.py) against the in-memory event store and
outbox: what is appended, at which version, and that a refusal appends nothing."""

import datetime as dt

import pytest

from shkala_contracts.events.cycle import Duty
from shkala_contracts.events.plans import RowStatus
from shkala_contracts.vocabulary import Direction
from shkala_plans.adapters.event_store import ConcurrencyError
from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.model import DomainError, FieldRefused, NotFound, RowSpec, SectionSpec
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.templates import load_seed_templates
from shkala_plans.service_layer import responsibles, roadmaps
from shkala_runtime.auth import Forbidden, Principal, Role

from .fakes import fake_deps

MUN = Principal(subject="h", role=Role.MUNICIPALITY, region="r", municipality="m1")
OTHER_MUN = Principal(subject="h", role=Role.MUNICIPALITY, region="r", municipality="m2")
SCHOOL = Principal(subject="u", role=Role.SCHOOL, region="r", municipality="m1", school="s1")
REGION = Principal(subject="op", role=Role.REGION, region="r")
REFUSED = (NotAllowed, Forbidden)
TEMPLATES = {t.id: t for t in load_seed_templates()}


async def new_roadmap(deps, who=MUN, **kw):
    args = {"region": "r", "municipality": "m1", "school": None, "title": "ДК 2025"} | kw
    return await roadmaps.create_roadmap(deps, who, **args)


def row(activity="Мероприятие", **kw):
    return RowSpec(activity=activity, deadline=parse_deadline("до 01.09 ежегодно"), **kw)


async def test_a_roadmap_from_a_template_appends_its_sections_and_rows_in_one_append():
    deps, store = fake_deps()
    t = TEMPLATES["romny-2021-2025"]
    r = await new_roadmap(deps, template_id=t.id, templates=TEMPLATES)
    n = 1 + len(t.sections) + len(t.rows)
    assert r.version == n
    assert store.appends == 1
    assert store.types() == (
        ["roadmap_created"]
        + ["roadmap_section_added"] * len(t.sections)
        + ["roadmap_row_added"] * len(t.rows)
    )
    assert [e.originator_version for e in store.outbox] == list(range(1, n + 1))
    assert (r.from_year, r.to_year) == (2021, 2025)  # the template's years when not given
    assert store.index[r.id]["version"] == n


async def test_an_unknown_template_is_refused_naming_the_field_and_appends_nothing():
    deps, store = fake_deps()
    with pytest.raises(FieldRefused) as refused:
        await new_roadmap(deps, template_id="no-such", templates=TEMPLATES)
    assert (refused.value.location, refused.value.value) == ("body.template_id", "no-such")
    assert store.appended == 0


async def test_roadmaps_are_made_within_the_tenant_only():
    deps, store = fake_deps()
    with pytest.raises(REFUSED):
        await new_roadmap(deps, OTHER_MUN)  # m2 makes no roadmap for m1
    with pytest.raises(REFUSED):
        await new_roadmap(deps, SCHOOL, school="s2")  # a school writes only its own
    with pytest.raises(DomainError):
        await new_roadmap(deps, REGION, municipality="m-unknown")  # not in the registry
    assert store.appended == 0
    own = await new_roadmap(deps, SCHOOL, school="s1")
    assert (own.school, own.municipality) == ("s1", "m1")


async def test_edits_append_at_the_version_seen_and_a_stale_one_is_a_conflict():
    deps, store = fake_deps()
    r = await new_roadmap(deps, starts_on=dt.date(2025, 9, 1))
    r = await roadmaps.add_section(
        deps, MUN, r.id, SectionSpec("ШНОР", Direction.LOW_RESULTS), expected_version=1
    )
    assert r.version == 2
    r = await roadmaps.add_row(deps, MUN, r.id, row(section_id="s1"), expected_version=2)
    assert (r.version, list(r.rows)) == (3, ["r1"])
    assert [e.originator_version for e in store.streams[r.id]] == [1, 2, 3]
    with pytest.raises(ConcurrencyError) as stale:
        await roadmaps.add_row(deps, MUN, r.id, row("другое"), expected_version=2)
    assert (stale.value.expected, stale.value.actual) == (2, 3)
    assert store.appended == 3
    r = await roadmaps.revise_row(
        deps, MUN, r.id, "r1", {"activity": "Уточнено"}, expected_version=3
    )
    assert r.rows["r1"].activity == "Уточнено"
    assert r.version == 4


async def test_another_tenant_edits_nothing_and_rows_name_only_the_roadmaps_schools():
    deps, store = fake_deps()
    r = await new_roadmap(deps)
    before = store.appended
    with pytest.raises(REFUSED):
        await roadmaps.add_row(deps, OTHER_MUN, r.id, row(), expected_version=1)
    with pytest.raises(REFUSED):  # s4 is m2's: not m1's to name
        await roadmaps.add_row(deps, MUN, r.id, row(target_schools=("s4",)), expected_version=1)
    with pytest.raises(DomainError):  # a school the registry does not hold
        await roadmaps.add_row(deps, MUN, r.id, row(target_schools=("s9",)), expected_version=1)
    with pytest.raises(NotFound):
        await roadmaps.add_row(deps, MUN, "roadmap:none", row(), expected_version=1)
    assert store.appended == before
    r = await roadmaps.add_row(
        deps, MUN, r.id, row(target_schools=("s1", "s2")), expected_version=1
    )
    assert r.rows["r1"].target_schools == ("s1", "s2")


async def test_a_row_names_several_roster_people_and_free_text_but_no_stranger():
    deps, store = fake_deps()
    for person, duty in (("c1", Duty.COORDINATOR), ("e1", Duty.EXECUTOR), ("e2", Duty.EXECUTOR)):
        await responsibles.assign(
            deps,
            MUN,
            municipality="m1",
            person_id=person,
            duty=duty,
            directions=[Direction.LOW_RESULTS],
        )
    r = await new_roadmap(deps)
    names = ("person:e1", "person:e2", "Руководители ОО", "МКУ «ЦОО»")
    r = await roadmaps.add_row(deps, MUN, r.id, row(responsible=names), expected_version=1)
    assert r.rows["r1"].responsible == names
    before = store.appended
    with pytest.raises(DomainError, match="x9"):
        await roadmaps.add_row(
            deps, MUN, r.id, row(responsible=("person:e1", "person:x9")), expected_version=2
        )
    with pytest.raises(DomainError, match="x9"):
        await roadmaps.revise_row(
            deps, MUN, r.id, "r1", {"responsible": ("person:x9",)}, expected_version=2
        )
    assert store.appended == before


async def test_row_status_transitions_are_refused_with_the_reason():
    deps, store = fake_deps()
    r = await new_roadmap(deps)
    r = await roadmaps.add_row(deps, MUN, r.id, row(), expected_version=1)
    with pytest.raises(DomainError, match="report or evidence"):
        await roadmaps.change_row_status(
            deps, MUN, r.id, "r1", status=RowStatus.DONE, expected_version=2
        )
    r = await roadmaps.change_row_status(
        deps, MUN, r.id, "r1", status=RowStatus.CANCELLED, expected_version=2, report="снято"
    )
    with pytest.raises(DomainError, match="cancelled"):
        await roadmaps.change_row_status(
            deps, MUN, r.id, "r1", status=RowStatus.IN_PROGRESS, expected_version=3
        )
    with pytest.raises(NotFound):
        await roadmaps.change_row_status(
            deps, MUN, r.id, "r9", status=RowStatus.IN_PROGRESS, expected_version=3
        )
    assert store.types()[-1] == "roadmap_row_status_changed"
    assert store.appended == 3


async def test_listing_stays_in_the_tenant():
    deps, _ = fake_deps()
    mine = await new_roadmap(deps)
    await new_roadmap(deps, REGION, municipality="m2")
    assert [x["id"] for x in await roadmaps.list_roadmaps(deps, MUN)] == [mine.id]
    assert len(await roadmaps.list_roadmaps(deps, REGION)) == 2
    with pytest.raises(NotAllowed):
        await roadmaps.list_roadmaps(deps, MUN, municipality="m2")
    with pytest.raises(REFUSED):
        await roadmaps.get_roadmap(deps, OTHER_MUN, mine.id)


async def test_the_scheduler_fires_each_due_date_once_and_only_for_the_region():
    deps, store = fake_deps()
    r = await new_roadmap(deps, starts_on=dt.date(2025, 1, 1))
    spec = RowSpec(activity="Отчёт", deadline=parse_deadline("до 12.07.2025"))
    await roadmaps.add_row(deps, MUN, r.id, spec, expected_version=1)
    with pytest.raises(REFUSED):
        await roadmaps.run_scheduler_as(deps, MUN, region="r", today=dt.date(2025, 7, 1))
    first = await roadmaps.run_scheduler_as(deps, REGION, region="r", today=dt.date(2025, 7, 1))
    assert [e.event_type.split(".")[-2] for e in first] == ["roadmap_row_due"]
    assert await roadmaps.run_scheduler(deps, dt.date(2025, 7, 2)) == []  # once
    late = await roadmaps.run_scheduler(deps, dt.date(2025, 7, 13))
    assert [e.event_type.split(".")[-2] for e in late] == ["roadmap_row_overdue"]
    assert [e.originator_version for e in store.streams[r.id]] == [1, 2, 3, 4]
