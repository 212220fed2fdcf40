"""What a duty allows (обязанности по направлениям, seed 002's order): a coordinator
(координатор) manages the roadmaps, recommendations and measures of their directions; an
executor (ответственный исполнитель) reports on the roadmap rows that name them. Callers
without a duty (the municipality's head office, the region, a school) are not narrowed here:
their tenant and role are ``tenancy``'s and the aggregates' checks.

The use cases call these with the arguments they were given, after the tenant check (so a
foreign roadmap is refused as foreign, not as another direction) and before anything is
appended. A route whose use case has no duty rule refuses duty tokens altogether
(``entrypoints.plumbing.duty_guard``: deny by default).
"""

from __future__ import annotations

from shkala_contracts.events.plans import RowStatus
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.model import FieldRefused, NotFound, Roadmap, RowSpec, SectionSpec
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.roster import Roster, person_ref
from shkala_plans.service_layer.services import Deps, load
from shkala_runtime.auth import Principal, Role

# what an executor may report on a row; cancelling or re-planning it is the coordinator's
EXECUTOR_REPORTS = frozenset({RowStatus.IN_PROGRESS, RowStatus.DONE})


def require_direction(who: Principal, direction: Direction | str | None, what: str) -> None:
    """A coordinator acts only in their directions; an executor manages nothing."""
    if who.duty is None:
        return
    if who.duty is Role.EXECUTOR:
        raise NotAllowed(f"an executor reports on their own rows; they cannot {what}")
    if direction is None or str(direction) not in who.directions:
        raise NotAllowed(
            f"a coordinator of {', '.join(who.directions)} cannot {what} in direction"
            f" {direction or '(none)'}"
        )


# --------------------------------------------------------------------------- roadmaps


def may_create_roadmap(who: Principal) -> None:
    """A coordinator makes roadmaps (of their directions: ``sections_for``); an executor
    does not."""
    if who.duty is Role.EXECUTOR:
        raise NotAllowed("an executor reports on their rows; roadmaps are made by others")


def sections_for(
    who: Principal,
    template_id: str,
    sections: list[SectionSpec],
    rows: list[RowSpec],
) -> tuple[list[SectionSpec], list[RowSpec]]:
    """A template as a caller may start a roadmap from it. A coordinator gets the sections
    of their directions with their rows — what they may go on managing; the other
    directions', the sections about the plan as a whole (no direction) and rows outside any
    section are the municipality's and left out. A template with none of their directions is
    a 422 on ``body.template_id``. Everyone else gets the template whole."""
    if who.duty is not Role.COORDINATOR:
        return sections, rows
    mine = [s for s in sections if s.direction is not None and str(s.direction) in who.directions]
    if not mine:
        raise FieldRefused(
            "Template outside the coordinator's directions",
            "body.template_id",
            template_id,
            f"template {template_id} has no section in direction"
            f" {', '.join(who.directions)}: a coordinator starts a roadmap with the sections"
            " of their directions (the municipality starts it whole)",
        )
    keys = {s.section_id for s in mine}
    return mine, [r for r in rows if r.section_id is not None and r.section_id in keys]


def may_add_section(who: Principal, spec: SectionSpec) -> None:
    require_direction(who, spec.direction, "add this section")


def section_direction(roadmap: Roadmap, section_id: str | None) -> Direction | None:
    section = roadmap.sections.get(section_id or "")
    return section.direction if section else None


def row_direction(roadmap: Roadmap, row_id: str) -> Direction | None:
    row = roadmap.rows.get(row_id)
    if row is None:
        raise NotFound(f"{roadmap.id} has no row {row_id}")
    return section_direction(roadmap, row.section_id)


def may_add_row(who: Principal, roadmap: Roadmap, section_id: str | None) -> None:
    """A coordinator adds rows to a section of their direction (a row outside any section,
    or in a section about the plan as a whole, is the municipality's)."""
    require_direction(who, section_direction(roadmap, section_id), "change this roadmap")


def may_revise_row(who: Principal, roadmap: Roadmap, row_id: str) -> None:
    require_direction(who, row_direction(roadmap, row_id), "change this roadmap")


async def may_report_row(
    deps: Deps, who: Principal, roadmap: Roadmap, row_id: str, status: RowStatus
) -> None:
    """A row's status: a coordinator in their direction; an executor on the roadmap's
    municipality's roster reports a row naming them (``person:<sub>``) in progress or
    done."""
    if who.duty is not Role.EXECUTOR:
        may_revise_row(who, roadmap, row_id)
        return
    row = roadmap.rows.get(row_id)
    if row is None:
        raise NotFound(f"{roadmap.id} has no row {row_id}")
    if status not in EXECUTOR_REPORTS:
        raise NotAllowed(
            f"an executor reports a row in progress or done, not {status.value}; the"
            " coordinator of its direction or the municipality changes it otherwise"
        )
    roster = await load(deps, Roster, Roster.id_for(roadmap.municipality or ""))
    on_roster = who.subject in roster.people
    if not on_roster or person_ref(who.subject) not in row.responsible:
        raise NotAllowed(
            f"row {row.number or row_id} of {roadmap.id} does not name executor"
            f" {who.subject} among its responsibles"
            + ("" if on_roster else " (not on the municipality's roster)")
        )
