"""A school's monitoring period (период мониторинга) and its bottom-up approval.

open → submitted (by the school) → approved, or returned with a reason (by the municipality)
→ locked (by the region). A returned period is corrected and submitted again; a locked one
changes only after the region reopens it, with a reason. Each step is an event; the state is
their fold. Who may take which step is decided here too (``allowed``), so every entry point
applies the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.cycle import (
    MonitoringPeriodApproved,
    MonitoringPeriodLocked,
    MonitoringPeriodOpened,
    MonitoringPeriodReopened,
    MonitoringPeriodReturned,
    MonitoringPeriodSubmitted,
    PeriodState,
)
from shkala_plans.domain.model import Aggregate, DomainError

STATE_RU = {
    PeriodState.OPEN: "открыт",
    PeriodState.SUBMITTED: "представлен школой",
    PeriodState.RETURNED: "возвращён на доработку",
    PeriodState.APPROVED: "утверждён муниципалитетом",
    PeriodState.LOCKED: "закрыт регионом",
}


class NotAllowed(PermissionError):
    """The caller's role may not take this step (HTTP 403)."""


@dataclass(frozen=True)
class Actor:
    """Who acts: the token's role and org unit (no person's name)."""

    role: str  # school | municipality | region
    unit: str


# Which role takes which step: the school submits, the municipality checks, the region closes.
STEPS: dict[str, str] = {
    "submit": "school",
    "return": "municipality",
    "approve": "municipality",
    "lock": "region",
    "reopen": "region",
}
WHO_RU = {"school": "школа", "municipality": "муниципалитет", "region": "региональный оператор"}


def allowed(step: str, actor: Actor) -> None:
    wanted = STEPS[step]
    if actor.role != wanted:
        raise NotAllowed(f"only the {wanted} may {step} a monitoring period ({WHO_RU[wanted]})")


def period_id(school: str, period: str) -> str:
    """``period:<school>:2025-26`` (a slash would not survive a URL path)."""
    return f"period:{school}:{period.replace('/', '-')}"


def year_of(slug: str) -> str:
    """``2025-26`` or ``2025/26`` → ``2025/26``."""
    return slug.replace("-", "/")


@dataclass
class Step:
    version: int
    state: PeriodState
    actor_role: str
    actor_unit: str
    reason: str | None = None
    note: str | None = None


class MonitoringPeriod(Aggregate):
    kind = "period"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.period: str | None = None
        self.state = PeriodState.OPEN
        self.history: list[Step] = []
        self.last_reason: str | None = None

    @property
    def approved(self) -> bool:
        """Rests on data the municipality approved (approved or, after that, locked)."""
        return self.state in (PeriodState.APPROVED, PeriodState.LOCKED)

    # ---- decisions
    def decide_submit(
        self,
        actor: Actor,
        *,
        region: str,
        municipality: str,
        school: str,
        period: str,
        note: str | None = None,
    ) -> list[DomainEvent]:
        allowed("submit", actor)
        out: list[DomainEvent] = []
        draft = self
        if self.version == 0:
            draft = MonitoringPeriod(self.id)
            draft.region, draft.municipality, draft.school = region, municipality, school
            out.append(draft._event(MonitoringPeriodOpened, period=period, **_by(actor)))
            draft.apply(out[0])
        elif self.state not in (PeriodState.OPEN, PeriodState.RETURNED):
            raise DomainError(
                f"period {self.period} of school {self.school} is {STATE_RU[self.state]}:"
                " it cannot be submitted again"
            )
        out.append(
            draft._event(
                MonitoringPeriodSubmitted,
                period=draft.period,
                note=note,
                resubmission=self.state is PeriodState.RETURNED,
                **_by(actor),
            )
        )
        return out

    def decide_return(self, actor: Actor, reason: str) -> list[DomainEvent]:
        allowed("return", actor)
        self._require_exists()
        if not reason.strip():
            raise DomainError("a returned period needs a reason the school can act on")
        if self.state not in (PeriodState.SUBMITTED, PeriodState.APPROVED):
            raise DomainError(
                f"period {self.period} of school {self.school} is {STATE_RU[self.state]}:"
                " only a submitted or approved period is returned"
            )
        return [
            self._event(
                MonitoringPeriodReturned, period=self.period, reason=reason.strip(), **_by(actor)
            )
        ]

    def decide_approve(self, actor: Actor, note: str | None = None) -> list[DomainEvent]:
        allowed("approve", actor)
        self._require_exists()
        if self.state is not PeriodState.SUBMITTED:
            raise DomainError(
                f"period {self.period} of school {self.school} is {STATE_RU[self.state]}:"
                " only a submitted period is approved"
            )
        return [self._event(MonitoringPeriodApproved, period=self.period, note=note, **_by(actor))]

    def decide_lock(self, actor: Actor) -> list[DomainEvent]:
        allowed("lock", actor)
        self._require_exists()
        if self.state is PeriodState.LOCKED:
            return []  # locking twice changes nothing
        if self.state is not PeriodState.APPROVED:
            raise DomainError(
                f"period {self.period} of school {self.school} is {STATE_RU[self.state]}:"
                " the region locks only a period the municipality approved"
            )
        return [self._event(MonitoringPeriodLocked, period=self.period, **_by(actor))]

    def decide_reopen(self, actor: Actor, reason: str) -> list[DomainEvent]:
        allowed("reopen", actor)
        self._require_exists()
        if not reason.strip():
            raise DomainError("reopening a locked period needs a reason (it is recorded)")
        if self.state is not PeriodState.LOCKED:
            raise DomainError(
                f"period {self.period} of school {self.school} is {STATE_RU[self.state]}:"
                " only a locked period is reopened"
            )
        return [
            self._event(
                MonitoringPeriodReopened, period=self.period, reason=reason.strip(), **_by(actor)
            )
        ]

    # ---- fold
    def _when(self, event: DomainEvent) -> None:
        state = {
            MonitoringPeriodOpened: PeriodState.OPEN,
            MonitoringPeriodSubmitted: PeriodState.SUBMITTED,
            MonitoringPeriodReturned: PeriodState.RETURNED,
            MonitoringPeriodApproved: PeriodState.APPROVED,
            MonitoringPeriodLocked: PeriodState.LOCKED,
            MonitoringPeriodReopened: PeriodState.OPEN,
        }.get(type(event))
        if state is None:
            return
        self.period = getattr(event, "period", self.period)
        self.state = state
        reason = getattr(event, "reason", None)
        if reason:
            self.last_reason = reason
        self.history.append(
            Step(
                event.originator_version,
                state,
                getattr(event, "actor_role", ""),
                getattr(event, "actor_unit", ""),
                reason,
                getattr(event, "note", None),
            )
        )

    def index_fields(self) -> dict[str, Any]:
        last = self.history[-1] if self.history else None
        return {
            "period": self.period,
            "state": self.state.value,
            "approved": self.approved,
            "locked_by": last.actor_unit if last and self.state is PeriodState.LOCKED else None,
        }


def _by(actor: Actor) -> dict[str, Any]:  # Any: spread next to _event(offset: int)
    return {"actor_role": actor.role, "actor_unit": actor.unit}
