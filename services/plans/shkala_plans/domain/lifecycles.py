"""Lifecycles of recommendations and measures: which status may follow which, who moves
them, and which steps need a report.

Recommendation (адресная рекомендация): issued → accepted → in progress → done, or
withdrawn (отозвана) before it is done. The school it is addressed to accepts and reports on
it; the municipality (or the region) withdraws it.
Measure (мера): planned → running → finished → evaluated; evaluated needs an effectiveness
evaluation on record. Measures are the municipality's (or the region's).
"""

from __future__ import annotations

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.cycle import (
    MeasureStatus,
    MeasureStatusChanged,
    RecommendationStatus,
    RecommendationStatusChanged,
)
from shkala_plans.domain.model import DomainError, Measure, Recommendation
from shkala_plans.domain.periods import Actor, NotAllowed

MANAGERS = frozenset({"municipality", "coordinator", "region"})
R = RecommendationStatus
M = MeasureStatus

RECOMMENDATION_NEXT: dict[RecommendationStatus, frozenset[RecommendationStatus]] = {
    R.ISSUED: frozenset({R.ACCEPTED, R.WITHDRAWN}),
    R.ACCEPTED: frozenset({R.IN_PROGRESS, R.DONE, R.WITHDRAWN}),
    R.IN_PROGRESS: frozenset({R.DONE, R.WITHDRAWN}),
    R.DONE: frozenset(),
    R.WITHDRAWN: frozenset(),
}
RECOMMENDATION_NEEDS_REPORT = frozenset({R.DONE, R.WITHDRAWN})
MEASURE_NEXT: dict[MeasureStatus, frozenset[MeasureStatus]] = {
    M.PLANNED: frozenset({M.RUNNING}),
    M.RUNNING: frozenset({M.FINISHED}),
    M.FINISHED: frozenset({M.EVALUATED}),
    M.EVALUATED: frozenset(),
}
MEASURE_NEEDS_REPORT = frozenset({M.FINISHED})


def decide_recommendation_status(
    rec: Recommendation, actor: Actor, status: RecommendationStatus, report: str | None
) -> list[DomainEvent]:
    rec._require_exists()
    if status is R.WITHDRAWN and actor.role not in MANAGERS:
        raise NotAllowed("a recommendation is withdrawn by the municipality that issued it")
    if actor.role not in MANAGERS | {"school"}:
        raise NotAllowed(f"a {actor.role} cannot report on a recommendation")
    if status is rec.status:
        return []
    if status not in RECOMMENDATION_NEXT[rec.status]:
        raise DomainError(
            f"recommendation {rec.id} is {rec.status.value}: it cannot become {status.value}"
            f" (next: {', '.join(sorted(s.value for s in RECOMMENDATION_NEXT[rec.status])) or '—'})"
        )
    if status in RECOMMENDATION_NEEDS_REPORT and not (report and report.strip()):
        raise DomainError(f"a recommendation becomes {status.value} with a report")
    return [
        rec._event(
            RecommendationStatusChanged,
            status=status,
            report=report,
            actor_role=actor.role,
            actor_unit=actor.unit,
        )
    ]


def decide_measure_status(
    measure: Measure,
    actor: Actor,
    status: MeasureStatus,
    report: str | None,
    *,
    evaluated: bool,
) -> list[DomainEvent]:
    measure._require_exists()
    if actor.role not in MANAGERS:
        raise NotAllowed("a measure's status is reported by the municipality or the region")
    if status is measure.status:
        return []
    if status not in MEASURE_NEXT[measure.status]:
        raise DomainError(
            f"measure {measure.id} is {measure.status.value}: it cannot become {status.value}"
        )
    if status in MEASURE_NEEDS_REPORT and not (report and report.strip()):
        raise DomainError(f"a measure becomes {status.value} with a report")
    if status is M.EVALUATED and not evaluated:
        raise DomainError(
            f"measure {measure.id} has no effectiveness evaluation yet (POST /measures/"
            f"{measure.id}/evaluate, or wait for its evaluation period's values)"
        )
    return [
        measure._event(
            MeasureStatusChanged,
            status=status,
            report=report,
            actor_role=actor.role,
            actor_unit=actor.unit,
        )
    ]
