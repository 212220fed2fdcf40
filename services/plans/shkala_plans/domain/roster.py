"""The municipality's coordinators and executors per direction (seed 002's order: a
координатор owns a direction, ответственные исполнители do its work), and what their duty
lets them change.

Roadmap rows name people from this roster as ``person:<person_id>`` among their
``responsible`` entries, beside free text ("Отдел образования", "руководители ОО").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.cycle import Duty, ResponsibleAssigned, ResponsibleRemoved
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.model import Aggregate, DomainError, NotFound

PERSON_PREFIX = "person:"


def person_ref(person_id: str) -> str:
    return PERSON_PREFIX + person_id


def people_named(responsible: Iterable[str]) -> list[str]:
    """The roster people a row's ``responsible`` names (free text entries left out)."""
    return [r.removeprefix(PERSON_PREFIX) for r in responsible if r.startswith(PERSON_PREFIX)]


@dataclass(frozen=True)
class Responsible:
    person_id: str
    duty: Duty
    directions: tuple[Direction, ...]
    position: str | None


class Roster(Aggregate):
    """``roster:<municipality>``: one per municipality."""

    kind = "roster"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.people: dict[str, Responsible] = {}

    @staticmethod
    def id_for(municipality: str) -> str:
        return f"roster:{municipality}"

    def decide_assign(
        self,
        *,
        region: str,
        municipality: str,
        person_id: str,
        duty: Duty,
        directions: Iterable[Direction],
        position: str | None = None,
    ) -> list[DomainEvent]:
        dirs = tuple(dict.fromkeys(directions))
        if not dirs:
            raise DomainError("a coordinator or executor is assigned at least one direction")
        known = self.people.get(person_id)
        if known and (known.duty, known.directions, known.position) == (duty, dirs, position):
            return []  # the same assignment again changes nothing
        draft = self
        if self.version == 0:
            draft = Roster(self.id)
            draft.region, draft.municipality = region, municipality
        return [
            draft._event(
                ResponsibleAssigned,
                person_id=person_id,
                duty=duty,
                directions=dirs,
                position=position,
            )
        ]

    def decide_remove(self, person_id: str) -> list[DomainEvent]:
        if person_id not in self.people:
            raise NotFound(f"{person_id} is not on the roster of {self.municipality}")
        return [self._event(ResponsibleRemoved, person_id=person_id)]

    def check_named(self, responsible: Iterable[str]) -> None:
        """Every ``person:`` entry of a row names someone on this roster."""
        unknown = [p for p in people_named(responsible) if p not in self.people]
        if unknown:
            raise DomainError(
                "responsible not on the municipality's roster of coordinators and executors: "
                + ", ".join(unknown)
            )

    def _when(self, event: DomainEvent) -> None:
        match event:
            case ResponsibleAssigned():
                self.people[event.person_id] = Responsible(
                    event.person_id, event.duty, event.directions, event.position
                )
            case ResponsibleRemoved():
                self.people.pop(event.person_id, None)

    def index_fields(self) -> dict[str, object]:
        return {"people": len(self.people)}
