"""What a coordinator's or executor's duty allows (service_layer/duties.py), through the use
cases that check it (roadmaps, recommendations, measures), against the in-memory event store:
every rule allowed and refused, and a refusal appends nothing. Plus the deny-by-default gate
of the routes (entrypoints/plumbing.duty_guard)."""

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from shkala_contracts.events.cycle import Duty
from shkala_contracts.events.plans import Better, RowStatus
from shkala_contracts.vocabulary import Direction
from shkala_plans.bootstrap import install_error_mapping
from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.model import FieldRefused, RowSpec, SectionSpec
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.templates import load_seed_templates
from shkala_plans.entrypoints import plumbing, recommendations_http, roadmaps_http
from shkala_plans.service_layer import measures, recommendations, responsibles, roadmaps
from shkala_plans.service_layer.measures import NotEvaluable
from shkala_runtime.auth import CurrentPrincipal, Forbidden, Principal, Role, issue_token
from shkala_runtime.settings import ServiceSettings

from .fakes import fake_deps

MUN = Principal(subject="head", role=Role.MUNICIPALITY, region="r", municipality="m1")
COORD = Principal(
    subject="c1", role=Role.COORDINATOR, region="r", municipality="m1", directions=("low_results",)
)
COORD2 = COORD.model_copy(update={"directions": ("low_results", "talents")})
FOREIGN_COORD = COORD.model_copy(update={"municipality": "m2"})
EXEC = Principal(
    subject="e1", role=Role.EXECUTOR, region="r", municipality="m1", directions=("low_results",)
)
FOREIGN_EXEC = EXEC.model_copy(update={"municipality": "m2"})
TEMPLATES = {t.id: t for t in load_seed_templates()}


def row(section_id, *responsible, activity="Мероприятие"):
    return RowSpec(
        activity, parse_deadline("до 01.09 ежегодно"), section_id, responsible=responsible
    )


async def staffed(deps):
    """m1's roster (executors e1, e2, coordinator c1) and its roadmap: s1 low_results, s2
    talents, s3 about the plan as a whole; r1 (s1, e1), r2 (s1, no person), r3 (s2, e1),
    r4 (s3), r5 (s1, e2)."""
    for person, duty in (("e1", Duty.EXECUTOR), ("e2", Duty.EXECUTOR), ("c1", Duty.COORDINATOR)):
        await responsibles.assign(
            deps,
            MUN,
            municipality="m1",
            person_id=person,
            duty=duty,
            directions=[Direction.LOW_RESULTS],
        )
    r = await roadmaps.create_roadmap(
        deps, MUN, region="r", municipality="m1", school=None, title="ДК"
    )
    for spec in (
        SectionSpec("ШНОР", Direction.LOW_RESULTS),
        SectionSpec("Таланты", Direction.TALENTS),
        SectionSpec("Общие положения"),
    ):
        r = await roadmaps.add_section(deps, MUN, r.id, spec, r.version)
    for spec in (
        row("s1", "person:e1", "Отдел образования"),
        row("s1", "Отдел образования"),
        row("s2", "person:e1"),
        row("s3", "Отдел образования"),
        row("s1", "person:e2"),
    ):
        r = await roadmaps.add_row(deps, MUN, r.id, spec, r.version)
    return r


async def refused(store, call, kinds=(NotAllowed, Forbidden)):
    """The call is refused and appends nothing."""
    before = store.appended
    with pytest.raises(kinds) as exc:
        await call
    assert store.appended == before
    return str(exc.value)


# --------------------------------------------------------------------------- sections


async def test_a_coordinator_adds_a_section_in_their_direction_and_not_in_another():
    deps, store = fake_deps()
    r = await staffed(deps)
    add = roadmaps.add_section

    got = await add(deps, COORD, r.id, SectionSpec("ШНОР-2", Direction.LOW_RESULTS), r.version)
    assert got.version == r.version + 1
    assert got.sections["s4"].direction is Direction.LOW_RESULTS
    v = got.version

    why = await refused(store, add(deps, COORD, r.id, SectionSpec("О", Direction.OBJECTIVITY), v))
    assert "objectivity" in why
    assert "low_results" in why
    why = await refused(store, add(deps, COORD, r.id, SectionSpec("Без направления"), v))
    assert "(none)" in why
    await refused(store, add(deps, EXEC, r.id, SectionSpec("ШНОР-3", Direction.LOW_RESULTS), v))
    # a coordinator of low_results in another municipality: that municipality's only
    await refused(store, add(deps, FOREIGN_COORD, r.id, SectionSpec("Ч", Direction.LOW_RESULTS), v))
    # a coordinator of two directions adds in either; the head office in any or none
    got = await add(deps, COORD2, r.id, SectionSpec("Таланты-2", Direction.TALENTS), v)
    got = await add(deps, MUN, r.id, SectionSpec("Итоги"), got.version)
    assert got.version == v + 2


# --------------------------------------------------------------------------- rows


async def test_a_coordinator_adds_and_revises_rows_of_their_directions_only():
    deps, store = fake_deps()
    r = await staffed(deps)
    got = await roadmaps.add_row(deps, COORD, r.id, row("s1", "person:e1"), r.version)
    v = got.version
    assert v == r.version + 1
    for section in ("s2", "s3", None):  # another direction, the plan as a whole, no section
        await refused(store, roadmaps.add_row(deps, COORD, r.id, row(section), v))
    await refused(store, roadmaps.add_row(deps, EXEC, r.id, row("s1"), v))

    got = await roadmaps.revise_row(deps, COORD, r.id, "r1", {"activity": "Иначе"}, v)
    assert got.rows["r1"].activity == "Иначе"
    v = got.version
    for row_id in ("r3", "r4"):
        await refused(store, roadmaps.revise_row(deps, COORD, r.id, row_id, {"activity": "x"}, v))
    # an executor named on the row still does not edit it
    await refused(store, roadmaps.revise_row(deps, EXEC, r.id, "r1", {"activity": "x"}, v))
    await refused(store, roadmaps.revise_row(deps, FOREIGN_COORD, r.id, "r1", {"activity": "x"}, v))
    # the head office is not narrowed
    await roadmaps.revise_row(deps, MUN, r.id, "r3", {"activity": "Иное"}, v)


async def test_an_executor_reports_on_the_rows_naming_them_in_progress_or_done():
    deps, store = fake_deps()
    r = await staffed(deps)

    async def report(who, row_id, status=RowStatus.IN_PROGRESS):
        v = (await roadmaps.get_roadmap(deps, MUN, r.id)).version
        return await roadmaps.change_row_status(
            deps, who, r.id, row_id, status=status, expected_version=v, report="начато"
        )

    assert (await report(EXEC, "r1")).rows["r1"].status is RowStatus.IN_PROGRESS
    assert (await report(EXEC, "r1", RowStatus.DONE)).rows["r1"].status is RowStatus.DONE
    # named in a row of another direction: the row names them, so they report on it
    assert (await report(EXEC, "r3")).rows["r3"].status is RowStatus.IN_PROGRESS
    why = await refused(store, report(EXEC, "r2"))  # a row not naming them
    assert "e1" in why
    why = await refused(store, report(EXEC, "r3", RowStatus.CANCELLED))
    assert "cancelled" in why
    await refused(store, report(EXEC, "r3", RowStatus.PLANNED))
    await refused(store, report(FOREIGN_EXEC, "r1"))  # same person id, another municipality
    # taken off the roster, a row that still names them is no longer theirs
    await responsibles.remove(deps, MUN, municipality="m1", person_id="e2")
    e2 = EXEC.model_copy(update={"subject": "e2"})
    why = await refused(store, report(e2, "r5"))
    assert "roster" in why

    # the coordinator changes the rows of their direction (cancelling too), not the others'
    assert (await report(COORD, "r2", RowStatus.CANCELLED)).rows["r2"].status is (
        RowStatus.CANCELLED
    )
    await refused(store, report(COORD, "r3", RowStatus.DONE))
    await refused(store, report(COORD, "r4"))


# --------------------------------------------------------------------------- new roadmaps


async def test_a_coordinator_starts_a_roadmap_with_the_templates_sections_of_their_directions():
    deps, store = fake_deps()

    async def create(who, template_id=None):
        return await roadmaps.create_roadmap(
            deps,
            who,
            region="r",
            municipality="m1",
            school=None,
            title="ДК",
            template_id=template_id,
            templates=TEMPLATES,
        )

    await refused(store, create(EXEC))
    assert (await create(COORD)).version == 1  # an empty one, to fill in their directions

    t = TEMPLATES["tula-shnor-2021"]
    mine = {s.key for s in t.sections if s.direction is Direction.LOW_RESULTS}
    theirs = [s.key for s in t.sections if s.key not in mine]
    assert mine
    assert theirs
    r = await create(COORD, t.id)
    assert set(r.sections) == mine
    assert {s.direction for s in r.sections.values()} == {Direction.LOW_RESULTS}
    assert sorted(x.activity for x in r.rows.values()) == sorted(
        (x.activity or "(без названия)") for x in t.rows if x.section_key in mine
    )
    # the coordinator can go on managing every row they were given
    v = r.version
    for row_id in r.rows:
        v = (
            await roadmaps.revise_row(deps, COORD, r.id, row_id, {"expected_result": "ок"}, v)
        ).version

    # a template with no section of their direction: refused naming the field, nothing made
    career = COORD.model_copy(update={"directions": ("career",)})
    with pytest.raises(FieldRefused) as exc:
        await create(career, t.id)
    assert (exc.value.location, exc.value.value) == ("body.template_id", t.id)
    # the head office gets it whole, plan-wide sections too
    whole = await create(MUN, "romny-2021-2025")
    assert len(whole.sections) == len(TEMPLATES["romny-2021-2025"].sections)
    assert store.types().count("roadmap_created") == 3


# --------------------------------------------------------------- recommendations, measures


REC = {
    "region": "r",
    "municipality": "m1",
    "school": "s1",
    "period": "2025/26",
    "text": "Провести диагностику",
}


async def test_a_coordinator_issues_recommendations_of_their_direction_only():
    deps, store = fake_deps()
    rec = await recommendations.issue_recommendation(
        deps, COORD, direction=Direction.LOW_RESULTS, **REC
    )
    assert rec.issued is not None
    assert rec.issued.direction is Direction.LOW_RESULTS
    issue = recommendations.issue_recommendation
    why = await refused(store, issue(deps, COORD, direction=Direction.TALENTS, **REC))
    assert "talents" in why
    await refused(store, issue(deps, EXEC, direction=Direction.LOW_RESULTS, **REC))
    await refused(store, issue(deps, FOREIGN_COORD, direction=Direction.LOW_RESULTS, **REC))


def measure_args(direction):
    return {
        "region": "r",
        "municipality": "m1",
        "title": "Наставничество",
        "direction": direction,
        "target_schools": ("s1",),
        "indicators": [("vpr_mark2_share_math", Better.LOWER)],
        "baseline_period": "2024/25",
        "evaluation_period": "2025/26",
    }


async def test_a_coordinator_takes_and_evaluates_measures_of_their_direction_only():
    deps, store = fake_deps()
    m = await measures.take_measure(deps, COORD, **measure_args(Direction.LOW_RESULTS))
    take = measures.take_measure
    await refused(store, take(deps, COORD, **measure_args(Direction.TALENTS)))
    await refused(store, take(deps, EXEC, **measure_args(Direction.LOW_RESULTS)))
    other = await measures.take_measure(deps, MUN, **measure_args(Direction.TALENTS))

    # evaluating: past the duty check it is only "nothing to evaluate yet"
    with pytest.raises(NotEvaluable):
        await measures.evaluate_on_request(deps, COORD, m.id)
    await refused(store, measures.evaluate_on_request(deps, COORD, other.id))
    await refused(store, measures.evaluate_on_request(deps, EXEC, m.id))


# --------------------------------------------------------------------------- the routes' gate


def gated_app() -> tuple[FastAPI, ServiceSettings]:
    """A router behind ``duty_guard`` with one route marked duty-aware and one not; both
    would answer anyone."""
    settings = ServiceSettings()
    inner = APIRouter()

    @inner.post("/marked")
    @plumbing.duty_aware
    async def marked(who: CurrentPrincipal) -> dict[str, str]:
        return {"ok": who.subject}

    @inner.post("/unmarked")
    async def unmarked(who: CurrentPrincipal) -> dict[str, str]:
        return {"ok": who.subject}

    @inner.get("/unmarked")
    async def read(who: CurrentPrincipal) -> dict[str, str]:
        return {"ok": who.subject}

    gated = APIRouter(dependencies=[Depends(plumbing.duty_guard)])
    gated.include_router(inner)
    app = FastAPI()
    app.include_router(gated)
    app.state.settings = settings
    install_error_mapping(app)
    return app, settings


async def test_a_duty_token_is_refused_on_a_write_route_without_a_duty_rule():
    app, settings = gated_app()

    def bearer(role, **kw):
        return {"Authorization": f"Bearer {issue_token(settings, role, **kw)}"}

    coord = bearer(Role.COORDINATOR, municipality="m1", subject="c1", directions=("talents",))
    execu = bearer(Role.EXECUTOR, municipality="m1", subject="e1", directions=("talents",))
    head = bearer(Role.MUNICIPALITY, municipality="m1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for token in (coord, execu):
            r = await c.post("/unmarked", headers=token)
            assert r.status_code == 403, r.text
            assert "POST /unmarked" in r.json()["detail"]
            assert (await c.post("/marked", headers=token)).status_code == 200
            assert (await c.get("/unmarked", headers=token)).status_code == 200
        assert (await c.post("/unmarked", headers=head)).status_code == 200


def test_the_duty_aware_routes_are_those_whose_use_cases_check_the_duty():
    """Opening a write route to duty tokens is a decision: it must be in this list, with
    its rule tested above."""
    marked = {
        (method, route.path)
        for router in (roadmaps_http.router, recommendations_http.router)
        for route in router.routes
        for method in getattr(route, "methods", ())
        if getattr(getattr(route, "endpoint", None), "__shkala_duty_aware__", False)
    }
    assert marked == {
        ("POST", "/deadlines/parse"),  # a question: changes nothing
        ("POST", "/roadmaps"),
        ("POST", "/roadmaps/{roadmap_id}/sections"),
        ("POST", "/roadmaps/{roadmap_id}/rows"),
        ("PATCH", "/roadmaps/{roadmap_id}/rows/{row_id}"),
        ("POST", "/roadmaps/{roadmap_id}/rows/{row_id}/status"),
        ("POST", "/recommendations"),
        ("POST", "/recommendations/{recommendation_id}/status"),
        ("POST", "/measures"),
        ("POST", "/measures/{measure_id}/evaluate"),
        ("POST", "/measures/{measure_id}/status"),
    }
