"""Use cases of roadmaps (дорожные карты): create one (from a seed template or empty), list and
read them within the caller's tenant, add sections and rows, revise a row, report a row's
status, and the deadline scheduler (row due / overdue, each due date once).

Every edit checks the roadmap's tenant against the caller, the caller's duty (a coordinator
in their directions, an executor reporting on their rows: ``duties``) and the tenant of every
school a row names, then appends at the ``expected_version`` the caller saw (stale →
ConcurrencyError, 409). A refusal appends nothing.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from shkala_contracts import Tenant
from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.plans import RowStatus
from shkala_plans.adapters.event_store import ConcurrencyError
from shkala_plans.domain.model import FieldRefused, Roadmap, RowSpec, SectionSpec
from shkala_plans.domain.templates import Template
from shkala_plans.service_layer import duties, responsibles, tenancy
from shkala_plans.service_layer.services import Deps, execute, load_for, new_id
from shkala_runtime.auth import Principal, Role, authorize


def template_specs(template: Template) -> tuple[list[SectionSpec], list[RowSpec]]:
    sections = [
        SectionSpec(s.title, s.direction, s.coordinator, s.executors, section_id=s.key)
        for s in template.sections
    ]
    rows = [
        RowSpec(
            activity=r.activity or "(без названия)",
            deadline=r.deadline,
            section_id=r.section_key,
            number=r.number,
            responsible=r.responsible,
            expected_result=r.expected_result,
        )
        for r in template.rows
    ]
    return sections, rows


async def create_roadmap(
    deps: Deps,
    who: Principal,
    *,
    region: str,
    municipality: str,
    school: str | None,
    title: str,
    starts_on: dt.date | None = None,
    from_year: int | None = None,
    to_year: int | None = None,
    template_id: str | None = None,
    templates: Mapping[str, Template] | None = None,
) -> Roadmap:
    """A municipality's roadmap, or a school's own (Tula orders every school to write one),
    optionally filled from a seed template (a coordinator's: the template's sections of their
    directions, ``duties.sections_for``)."""
    duties.may_create_roadmap(who)
    await tenancy.authorize_new_plan(
        deps.orgs, who, region=region, municipality=municipality, school=school, what="a roadmap"
    )
    template = None
    if template_id:
        template = (templates or {}).get(template_id)
        if template is None:
            raise FieldRefused(
                "Unknown template", "body.template_id", template_id, f"no template {template_id}"
            )
    sections, rows = template_specs(template) if template else ([], [])
    if template:
        sections, rows = duties.sections_for(who, template.id, sections, rows)
    agg, _ = await execute(
        deps,
        Roadmap,
        new_id("roadmap"),
        lambda r: r.decide_create(
            region=region,
            municipality=municipality,
            school=school,
            title=title,
            starts_on=starts_on or deps.today(),
            from_year=from_year or (template.from_year if template else None),
            to_year=to_year or (template.to_year if template else None),
            template_id=template.id if template else None,
            sections=sections,
            rows=rows,
        ),
        must_exist=False,
    )
    return agg


async def list_roadmaps(
    deps: Deps, who: Principal, *, municipality: str | None = None
) -> list[dict[str, Any]]:
    query = tenancy.scoped_query(who, Roadmap.kind, municipality=municipality)
    return [
        {
            "id": x["_id"],
            "title": x.get("title"),
            "version": x["version"],
            "municipality_id": x.get("municipality"),
            "school_id": x.get("school"),
        }
        for x in await deps.store.index_find(query)
    ]


async def get_roadmap(deps: Deps, who: Principal, roadmap_id: str) -> Roadmap:
    return await load_for(deps, Roadmap, roadmap_id, who)


async def _edit(
    deps: Deps,
    who: Principal,
    roadmap_id: str,
    expected_version: int | None,
    decide: Any,
    *,
    duty: Callable[[Roadmap], Awaitable[None] | None],
    schools: tuple[str, ...] = (),
    responsible: tuple[str, ...] | None = None,
) -> Roadmap:
    """An edit of a roadmap the caller may act on (its tenant, then ``duty``: what the
    caller's duty allows on it), naming only ``schools`` the caller may name and the
    roadmap's tenant holds, and only ``person:`` responsibles on the municipality's roster."""
    roadmap = await load_for(deps, Roadmap, roadmap_id, who)
    checked = duty(roadmap)
    if inspect.isawaitable(checked):
        await checked
    await tenancy.authorize_schools(
        deps.orgs, who, schools, owner=tenancy.owner_of(roadmap), what="roadmap"
    )
    if responsible:
        await responsibles.check_named(deps, roadmap.municipality or "", responsible)
    agg, _ = await execute(deps, Roadmap, roadmap_id, decide, expected_version)
    return agg


async def add_section(
    deps: Deps, who: Principal, roadmap_id: str, spec: SectionSpec, expected_version: int
) -> Roadmap:
    return await _edit(
        deps,
        who,
        roadmap_id,
        expected_version,
        lambda r: r.decide_add_section(spec),
        duty=lambda _: duties.may_add_section(who, spec),
    )


async def add_row(
    deps: Deps, who: Principal, roadmap_id: str, spec: RowSpec, expected_version: int
) -> Roadmap:
    return await _edit(
        deps,
        who,
        roadmap_id,
        expected_version,
        lambda r: r.decide_add_row(spec),
        duty=lambda r: duties.may_add_row(who, r, spec.section_id),
        schools=spec.target_schools,
        responsible=spec.responsible,
    )


async def revise_row(
    deps: Deps,
    who: Principal,
    roadmap_id: str,
    row_id: str,
    changes: dict[str, Any],
    expected_version: int,
) -> Roadmap:
    """``changes``: the row fields to replace (activity, deadline, responsible,
    expected_result, indicator_ids, target_schools); the rest stay."""
    return await _edit(
        deps,
        who,
        roadmap_id,
        expected_version,
        lambda r: r.decide_revise_row(row_id, **changes),
        duty=lambda r: duties.may_revise_row(who, r, row_id),
        schools=tuple(changes.get("target_schools") or ()),
        responsible=changes.get("responsible"),
    )


async def change_row_status(
    deps: Deps,
    who: Principal,
    roadmap_id: str,
    row_id: str,
    *,
    status: RowStatus,
    expected_version: int,
    report: str | None = None,
    evidence: tuple[str, ...] = (),
    occurrence: dt.date | None = None,
) -> Roadmap:
    """A row's report: its roadmap's tenant, a coordinator of its direction, or an executor
    it names (in progress or done only)."""
    return await _edit(
        deps,
        who,
        roadmap_id,
        expected_version,
        lambda r: r.decide_change_status(row_id, status, report, evidence, occurrence),
        duty=lambda r: duties.may_report_row(deps, who, r, row_id, status),
    )


# --------------------------------------------------------------------------- scheduler


async def run_scheduler(deps: Deps, today: dt.date, lead_days: int = 14) -> list[DomainEvent]:
    """Row-due and row-overdue events for every roadmap (idempotent: each once)."""
    out: list[DomainEvent] = []
    for doc in await deps.store.index_find({"kind": Roadmap.kind}):
        for _attempt in range(3):
            try:
                _, events = await execute(
                    deps, Roadmap, doc["_id"], lambda r: r.decide_check_deadlines(today, lead_days)
                )
                out.extend(events)
                break
            except ConcurrencyError:  # an edit got in first: decide again on the new state
                continue
    return out


async def run_scheduler_as(
    deps: Deps,
    who: Principal,
    *,
    region: str,
    today: dt.date | None = None,
    lead_days: int = 14,
) -> list[DomainEvent]:
    """The scheduler on request: the region's operator only (it touches every roadmap)."""
    authorize(
        who, [Tenant(region=region)], roles=[Role.REGION], action="run the deadline scheduler of"
    )
    return await run_scheduler(deps, today or deps.today(), lead_days)
