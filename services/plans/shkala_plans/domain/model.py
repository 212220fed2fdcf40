"""The plans aggregates. Decisions return events; state is a fold over them.

``decide_*`` methods never mutate: they check the current state and return the events that
record the decision (numbered after the current version). ``apply`` folds one event in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.cycle import (
    MeasureStatus,
    MeasureStatusChanged,
    RecommendationStatus,
    RecommendationStatusChanged,
)
from shkala_contracts.events.plans import (
    Deadline,
    EffectivenessEvaluated,
    LinkedIndicator,
    MeasureTaken,
    RecommendationIssued,
    RoadmapCreated,
    RoadmapRowAdded,
    RoadmapRowDue,
    RoadmapRowOverdue,
    RoadmapRowRevised,
    RoadmapRowStatusChanged,
    RoadmapSectionAdded,
    RowStatus,
)
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.deadlines import is_recurring, occurrences

E = TypeVar("E", bound=DomainEvent)


class DomainError(ValueError):
    """A command the aggregate's rules refuse (HTTP 422)."""


class FieldRefused(DomainError):
    """One field of a request the plan cannot take (an indicator the catalogue does not
    define, a template that does not exist): HTTP 422 naming the field and the value."""

    def __init__(self, title: str, location: str, value: object, detail: str) -> None:
        super().__init__(detail)
        self.title = title
        self.location = location
        self.value = value


class NotFound(LookupError):
    """No such aggregate or part of it (HTTP 404)."""


class Aggregate:
    kind: ClassVar[str]

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0
        self.region: str | None = None
        self.municipality: str | None = None
        self.school: str | None = None

    @classmethod
    def fold(cls, aggregate_id: str, events: Iterable[DomainEvent]) -> Self:
        agg = cls(aggregate_id)
        for e in events:
            agg.apply(e)
        return agg

    def apply(self, event: DomainEvent) -> None:
        if event.originator_version != self.version + 1:
            raise ValueError(f"{self.id}: event {event.originator_version} after {self.version}")
        self.version = event.originator_version
        self.region, self.municipality, self.school = (
            event.region_id,
            event.municipality_id,
            event.school_id,
        )
        self._when(event)

    def _when(self, event: DomainEvent) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError

    def _event(self, cls: type[E], offset: int = 1, **data: Any) -> E:
        tenant = {
            "region_id": self.region,
            "municipality_id": self.municipality,
            "school_id": self.school,
        }
        return cls(
            originator_id=self.id,
            originator_version=self.version + offset,
            **{**tenant, **data},
        )

    def _require_exists(self) -> None:
        if self.version == 0:
            raise NotFound(f"{self.id} does not exist")


# --------------------------------------------------------------------------- roadmap


@dataclass
class Section:
    section_id: str
    title: str
    direction: Direction | None
    coordinator: str | None
    executors: tuple[str, ...]


@dataclass
class Row:
    row_id: str
    section_id: str | None
    number: str | None
    activity: str
    deadline: Deadline
    responsible: tuple[str, ...]
    expected_result: str | None
    indicator_ids: tuple[str, ...]
    target_schools: tuple[str, ...]
    status: RowStatus = RowStatus.PLANNED
    reports: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    done_through: dt.date | None = None
    due_signalled: set[dt.date] = field(default_factory=set)
    overdue_signalled: set[dt.date] = field(default_factory=set)

    @property
    def closed(self) -> bool:
        return self.status is RowStatus.CANCELLED or (
            self.status is RowStatus.DONE and not is_recurring(self.deadline)
        )


@dataclass(frozen=True)
class RowSpec:
    """A row as a command gives it (deadline already parsed)."""

    activity: str
    deadline: Deadline
    section_id: str | None = None
    number: str | None = None
    responsible: tuple[str, ...] = ()
    expected_result: str | None = None
    indicator_ids: tuple[str, ...] = ()
    target_schools: tuple[str, ...] = ()


@dataclass(frozen=True)
class SectionSpec:
    title: str
    direction: Direction | None = None
    coordinator: str | None = None
    executors: tuple[str, ...] = ()
    section_id: str | None = None


class Roadmap(Aggregate):
    kind = "roadmap"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.title = ""
        self.from_year: int | None = None
        self.to_year: int | None = None
        self.starts_on: dt.date | None = None
        self.template_id: str | None = None
        self.sections: dict[str, Section] = {}
        self.rows: dict[str, Row] = {}

    # ---- decisions
    def decide_create(
        self,
        *,
        region: str,
        municipality: str,
        school: str | None,
        title: str,
        starts_on: dt.date,
        from_year: int | None = None,
        to_year: int | None = None,
        template_id: str | None = None,
        sections: Iterable[SectionSpec] = (),
        rows: Iterable[RowSpec] = (),
    ) -> list[DomainEvent]:
        if self.version:
            raise DomainError(f"{self.id} already exists")
        if from_year and to_year and to_year < from_year:
            raise DomainError("to_year is before from_year")
        draft = Roadmap(self.id)
        draft.region, draft.municipality, draft.school = region, municipality, school
        out: list[DomainEvent] = [
            draft._event(
                RoadmapCreated,
                title=title,
                from_year=from_year,
                to_year=to_year,
                starts_on=starts_on,
                template_id=template_id,
            )
        ]
        draft.apply(out[0])
        for spec in sections:
            for e in draft.decide_add_section(spec):
                draft.apply(e)
                out.append(e)
        for row in rows:
            for e in draft.decide_add_row(row):
                draft.apply(e)
                out.append(e)
        return out

    def decide_add_section(self, spec: SectionSpec) -> list[DomainEvent]:
        self._require_exists()
        sid = spec.section_id or f"s{len(self.sections) + 1}"
        if sid in self.sections:
            raise DomainError(f"section {sid} already exists")
        return [
            self._event(
                RoadmapSectionAdded,
                section_id=sid,
                title=spec.title,
                direction=spec.direction,
                coordinator=spec.coordinator,
                executors=spec.executors,
            )
        ]

    def decide_add_row(self, spec: RowSpec) -> list[DomainEvent]:
        self._require_exists()
        if spec.section_id is not None and spec.section_id not in self.sections:
            raise DomainError(f"no section {spec.section_id}")
        self._check_schools(spec.target_schools)
        return [
            self._event(
                RoadmapRowAdded,
                row_id=f"r{len(self.rows) + 1}",
                section_id=spec.section_id,
                number=spec.number,
                activity=spec.activity,
                deadline=spec.deadline,
                responsible=spec.responsible,
                expected_result=spec.expected_result,
                indicator_ids=spec.indicator_ids,
                target_schools=spec.target_schools,
            )
        ]

    def decide_revise_row(self, row_id: str, **changes: Any) -> list[DomainEvent]:
        row = self._row(row_id)
        changes = {k: v for k, v in changes.items() if v is not None}
        if "target_schools" in changes:
            self._check_schools(changes["target_schools"])
        if not changes or all(getattr(row, k) == v for k, v in changes.items()):
            return []  # nothing changes: no event
        return [self._event(RoadmapRowRevised, row_id=row_id, **changes)]

    def decide_change_status(
        self,
        row_id: str,
        status: RowStatus,
        report: str | None = None,
        evidence: tuple[str, ...] = (),
        occurrence: dt.date | None = None,
    ) -> list[DomainEvent]:
        row = self._row(row_id)
        if row.status is RowStatus.CANCELLED and status is not RowStatus.CANCELLED:
            raise DomainError(f"row {row_id} was cancelled")
        if status is RowStatus.DONE and not (report or evidence):
            raise DomainError("a row is done with a report or evidence")
        return [
            self._event(
                RoadmapRowStatusChanged,
                row_id=row_id,
                status=status,
                report=report,
                evidence=evidence,
                occurrence=occurrence,
            )
        ]

    def decide_check_deadlines(self, today: dt.date, lead_days: int = 14) -> list[DomainEvent]:
        """Row-due for the next due date within the lead time, row-overdue for the latest
        passed due date a row was not done for. Each due date is signalled once."""
        self._require_exists()
        start = self.starts_on or today
        out: list[DomainEvent] = []
        for row in self.rows.values():
            if row.closed:
                continue
            dates = occurrences(row.deadline, start, today + dt.timedelta(days=lead_days))
            upcoming = [d for d in dates if d >= today]
            passed = [d for d in dates if d < today]
            if upcoming and upcoming[0] not in row.due_signalled:
                out.append(
                    self._event(
                        RoadmapRowDue,
                        len(out) + 1,
                        row_id=row.row_id,
                        number=row.number,
                        due_on=upcoming[0],
                    )
                )
            if passed:
                last = passed[-1]
                done = row.status is RowStatus.DONE and (
                    row.done_through is None or row.done_through >= last
                )
                if not done and last not in row.overdue_signalled:
                    out.append(
                        self._event(
                            RoadmapRowOverdue,
                            len(out) + 1,
                            row_id=row.row_id,
                            number=row.number,
                            due_on=last,
                        )
                    )
        return out

    def _row(self, row_id: str) -> Row:
        self._require_exists()
        if row_id not in self.rows:
            raise NotFound(f"{self.id} has no row {row_id}")
        return self.rows[row_id]

    def _check_schools(self, schools: Iterable[str]) -> None:
        if self.school and any(s != self.school for s in schools):
            raise DomainError("a school's roadmap targets only that school")

    # ---- fold
    def _when(self, event: DomainEvent) -> None:
        match event:
            case RoadmapCreated():
                self.title, self.from_year, self.to_year = (
                    event.title,
                    event.from_year,
                    event.to_year,
                )
                self.starts_on, self.template_id = event.starts_on, event.template_id
            case RoadmapSectionAdded():
                self.sections[event.section_id] = Section(
                    event.section_id,
                    event.title,
                    event.direction,
                    event.coordinator,
                    event.executors,
                )
            case RoadmapRowAdded():
                self.rows[event.row_id] = Row(
                    event.row_id,
                    event.section_id,
                    event.number,
                    event.activity,
                    event.deadline,
                    event.responsible,
                    event.expected_result,
                    event.indicator_ids,
                    event.target_schools,
                )
            case RoadmapRowRevised():
                row = self.rows[event.row_id]
                for name in (
                    "activity",
                    "deadline",
                    "responsible",
                    "expected_result",
                    "indicator_ids",
                    "target_schools",
                ):
                    if (value := getattr(event, name)) is not None:
                        setattr(row, name, value)
            case RoadmapRowStatusChanged():
                row = self.rows[event.row_id]
                row.status = event.status
                if event.report:
                    row.reports.append(
                        {
                            "version": event.originator_version,
                            "status": event.status.value,
                            "report": event.report,
                            "occurrence": event.occurrence,
                        }
                    )
                row.evidence.extend(event.evidence)
                if event.status is RowStatus.DONE:
                    row.done_through = event.occurrence
            case RoadmapRowDue():
                self.rows[event.row_id].due_signalled.add(event.due_on)
            case RoadmapRowOverdue():
                self.rows[event.row_id].overdue_signalled.add(event.due_on)


# --------------------------------------------------------------------------- recommendation


class Recommendation(Aggregate):
    kind = "recommendation"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.issued: RecommendationIssued | None = None
        self.status = RecommendationStatus.ISSUED
        self.reports: list[dict[str, Any]] = []

    def decide_issue(
        self, *, region: str, municipality: str, school: str, **data: Any
    ) -> list[DomainEvent]:
        if self.version:
            raise DomainError(f"{self.id} already exists")
        draft = Recommendation(self.id)
        draft.region, draft.municipality, draft.school = region, municipality, school
        return [draft._event(RecommendationIssued, **data)]

    def _when(self, event: DomainEvent) -> None:
        if isinstance(event, RecommendationIssued):
            self.issued = event
        elif isinstance(event, RecommendationStatusChanged):
            self.status = event.status
            self.reports.append(_report(event))


# --------------------------------------------------------------------------- measure


class Measure(Aggregate):
    kind = "measure"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.taken: MeasureTaken | None = None
        self.status = MeasureStatus.PLANNED
        self.reports: list[dict[str, Any]] = []

    def decide_take(
        self,
        *,
        region: str,
        municipality: str,
        title: str,
        direction: Direction,
        target_schools: tuple[str, ...],
        indicators: tuple[LinkedIndicator, ...],
        baseline_period: str,
        evaluation_period: str,
        recommendation_ids: tuple[str, ...] = (),
        roadmap_row: str | None = None,
    ) -> list[DomainEvent]:
        if self.version:
            raise DomainError(f"{self.id} already exists")
        if evaluation_period <= baseline_period:
            raise DomainError("the evaluation period must come after the baseline period")
        if len({i.indicator_id for i in indicators}) != len(indicators):
            raise DomainError("an indicator is linked twice")
        draft = Measure(self.id)
        draft.region, draft.municipality = region, municipality
        return [
            draft._event(
                MeasureTaken,
                title=title,
                direction=direction,
                target_schools=tuple(dict.fromkeys(target_schools)),
                indicators=indicators,
                baseline_period=baseline_period,
                evaluation_period=evaluation_period,
                recommendation_ids=recommendation_ids,
                roadmap_row=roadmap_row,
            )
        ]

    def _when(self, event: DomainEvent) -> None:
        if isinstance(event, MeasureTaken):
            self.taken = event
        elif isinstance(event, MeasureStatusChanged):
            self.status = event.status
            self.reports.append(_report(event))


# --------------------------------------------------------------------------- evaluation


class EffectivenessEvaluation(Aggregate):
    """One per measure: its evaluations over time (re-evaluated when values are corrected)."""

    kind = "evaluation"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.latest: EffectivenessEvaluated | None = None

    @staticmethod
    def id_for(measure_id: str) -> str:
        return "evaluation:" + measure_id.removeprefix("measure:")

    def decide_record(self, measure: Measure, result: dict[str, Any]) -> list[DomainEvent]:
        """Records an evaluation unless it equals the latest one (replays change nothing)."""
        draft = EffectivenessEvaluation(self.id)
        draft.version = self.version
        draft.region, draft.municipality = measure.region, measure.municipality
        new = draft._event(EffectivenessEvaluated, measure_id=measure.id, **result)
        if self.latest is not None:
            keep = set(EffectivenessEvaluated.model_fields) - {"originator_version", "trigger"}
            if self.latest.model_dump(include=keep) == new.model_dump(include=keep):
                return []
        return [new]

    def _when(self, event: DomainEvent) -> None:
        if isinstance(event, EffectivenessEvaluated):
            self.latest = event


def _report(event: RecommendationStatusChanged | MeasureStatusChanged) -> dict[str, Any]:
    return {
        "version": event.originator_version,
        "status": event.status.value,
        "report": event.report,
        "actor_role": event.actor_role,
        "actor_unit": event.actor_unit,
    }


AGGREGATES: dict[str, type[Aggregate]] = {
    c.kind: c for c in (Roadmap, Recommendation, Measure, EffectivenessEvaluation)
}


def kind_of(aggregate_id: str) -> type[Aggregate]:
    prefix = aggregate_id.split(":", 1)[0]
    if prefix not in AGGREGATES:
        raise NotFound(f"unknown aggregate {aggregate_id}")
    return AGGREGATES[prefix]
