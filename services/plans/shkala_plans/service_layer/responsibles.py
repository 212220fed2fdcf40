"""Use cases of the roster (coordinators and executors) and of what their duty allows:
a coordinator manages the roadmaps, recommendations and measures of their directions; an
executor reports on the roadmap rows that name them. Plus the lifecycles of recommendations
and measures, which those people move on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shkala_contracts import Tenant
from shkala_contracts.events.cycle import Duty, MeasureStatus, RecommendationStatus
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.lifecycles import decide_measure_status, decide_recommendation_status
from shkala_plans.domain.model import (
    EffectivenessEvaluation,
    Measure,
    NotFound,
    Recommendation,
    Roadmap,
)
from shkala_plans.domain.periods import NotAllowed
from shkala_plans.domain.roster import Roster, person_ref
from shkala_plans.service_layer.periods import actor_of
from shkala_plans.service_layer.services import Deps, execute, load
from shkala_plans.service_layer.tenancy import UnknownUnit, owner_of
from shkala_runtime.auth import Principal, Role, authorize


def _require(who: Principal, agg: Any, action: str = "change") -> None:
    authorize(who, [owner_of(agg)], action=action)


# --------------------------------------------------------------------------- roster


async def _municipality(deps: Deps, municipality: str) -> Tenant | None:
    """The municipality as the registry places it (its region), None if not registered."""
    region = (await deps.orgs.municipalities([municipality])).get(municipality)
    return None if region is None else Tenant(region=region, municipality=municipality)


async def roster_of(deps: Deps, who: Principal, municipality: str) -> Roster:
    roster = await load(deps, Roster, Roster.id_for(municipality))
    unit = owner_of(roster) if roster.version else await _municipality(deps, municipality)
    # an unregistered municipality without a roster: an empty one, nobody's to hide
    authorize(
        who,
        [unit or Tenant(region=who.region, municipality=municipality)],
        action="see the roster of",
    )
    return roster


async def _may_staff(deps: Deps, who: Principal, municipality: str) -> None:
    """The municipality's head office (no duty of its own) for itself, or the region of the
    municipality the registry names, staffs its directions."""
    if who.duty is not None:
        raise NotAllowed("coordinators and executors are appointed by the municipality")
    authorize(
        who,
        [],
        roles=[Role.MUNICIPALITY, Role.REGION],
        action="appoint coordinators and executors",
    )
    unit = await _municipality(deps, municipality)
    if unit is None:
        raise UnknownUnit(
            f"municipality {municipality} not in the org-unit registry: the region registers"
            " it with ingest's org-units format"
        )
    roster = await load(deps, Roster, Roster.id_for(municipality))
    units = [unit, owner_of(roster)] if roster.version else [unit]
    authorize(who, units, action="change the roster of")


async def assign(
    deps: Deps,
    who: Principal,
    *,
    municipality: str,
    person_id: str,
    duty: Duty,
    directions: Iterable[Direction],
    position: str | None = None,
) -> Roster:
    await _may_staff(deps, who, municipality)
    agg, _ = await execute(
        deps,
        Roster,
        Roster.id_for(municipality),
        lambda r: r.decide_assign(
            region=who.region,
            municipality=municipality,
            person_id=person_id,
            duty=duty,
            directions=directions,
            position=position,
        ),
        must_exist=False,
    )
    return agg


async def remove(deps: Deps, who: Principal, *, municipality: str, person_id: str) -> Roster:
    await _may_staff(deps, who, municipality)
    agg, _ = await execute(
        deps, Roster, Roster.id_for(municipality), lambda r: r.decide_remove(person_id)
    )
    return agg


async def check_named(deps: Deps, municipality: str, responsible: Iterable[str]) -> None:
    """A row's ``person:`` responsibles are on the municipality's roster."""
    refs = list(responsible)
    if any(r.startswith("person:") for r in refs):
        roster = await load(deps, Roster, Roster.id_for(municipality))
        roster.check_named(refs)


# --------------------------------------------------------------------------- duties


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


def row_direction(roadmap: Roadmap, row_id: str) -> Direction | None:
    row = roadmap.rows.get(row_id)
    if row is None:
        raise NotFound(f"{roadmap.id} has no row {row_id}")
    section = roadmap.sections.get(row.section_id or "")
    return section.direction if section else None


async def check_roadmap_change(
    deps: Deps,
    who: Principal,
    roadmap_id: str,
    *,
    section_id: str | None = None,
    row_id: str | None = None,
    direction: Direction | str | None = None,
    report: bool = False,
) -> None:
    """Before an edit of a roadmap by a coordinator or executor: the section or row it
    touches is in the coordinator's direction, or (a report) names the executor."""
    if who.duty is None:
        return
    roadmap = await load(deps, Roadmap, roadmap_id)
    if roadmap.version == 0:
        raise NotFound(f"{roadmap_id} does not exist")
    _require(who, roadmap)
    if report and row_id and who.duty is Role.EXECUTOR:
        row = roadmap.rows.get(row_id)
        if row is None:
            raise NotFound(f"{roadmap_id} has no row {row_id}")
        roster = await load(deps, Roster, Roster.id_for(roadmap.municipality or ""))
        on_roster = who.subject in roster.people
        if not on_roster or person_ref(who.subject) not in row.responsible:
            raise NotAllowed(
                f"row {row.number or row_id} of {roadmap_id} does not name executor"
                f" {who.subject} among its responsibles"
                + ("" if on_roster else " (not on the municipality's roster)")
            )
        return
    if row_id is not None:
        direction = row_direction(roadmap, row_id)
    elif section_id is not None:
        section = roadmap.sections.get(section_id)
        direction = section.direction if section else None
    require_direction(who, direction, "change this roadmap")


# --------------------------------------------------------------------------- lifecycles


async def change_recommendation_status(
    deps: Deps,
    who: Principal,
    recommendation_id: str,
    status: RecommendationStatus,
    report: str | None = None,
    expected_version: int | None = None,
) -> Recommendation:
    rec = await load(deps, Recommendation, recommendation_id)
    if rec.issued is None:
        raise NotFound(f"{recommendation_id} does not exist")
    _require(who, rec)
    if who.duty is not None:
        require_direction(who, rec.issued.direction, "move this recommendation on")
    agg, _ = await execute(
        deps,
        Recommendation,
        recommendation_id,
        lambda r: decide_recommendation_status(r, actor_of(who), status, report),
        expected_version,
    )
    return agg


async def change_measure_status(
    deps: Deps,
    who: Principal,
    measure_id: str,
    status: MeasureStatus,
    report: str | None = None,
    expected_version: int | None = None,
) -> Measure:
    measure = await load(deps, Measure, measure_id)
    if measure.taken is None:
        raise NotFound(f"{measure_id} does not exist")
    _require(who, measure)
    if who.duty is not None:
        require_direction(who, measure.taken.direction, "move this measure on")
    evaluation = await load(
        deps, EffectivenessEvaluation, EffectivenessEvaluation.id_for(measure_id)
    )
    agg, _ = await execute(
        deps,
        Measure,
        measure_id,
        lambda m: decide_measure_status(
            m, actor_of(who), status, report, evaluated=evaluation.latest is not None
        ),
        expected_version,
    )
    return agg
