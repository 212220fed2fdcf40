"""The decision a coordinator takes on a proposal of a targeted recommendation (решение по
предложению): accepted (the recommendation it became) or dismissed (the reason). One event per
proposal stream; the proposal itself is derived on read (``domain/proposals``, docs/adr/0013).
"""

from __future__ import annotations

from typing import Any

from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.plans import Deadline, ProposalAccepted, ProposalDismissed
from shkala_plans.domain.model import Aggregate, DomainError
from shkala_plans.domain.proposals import Proposal


class ProposalDecision(Aggregate):
    """The decision on one proposal (решение по предложению): at most one event."""

    kind = "proposal"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.decided: ProposalAccepted | ProposalDismissed | None = None

    @property
    def status(self) -> str:
        if isinstance(self.decided, ProposalAccepted):
            return "accepted"
        if isinstance(self.decided, ProposalDismissed):
            return "dismissed"
        return "pending"

    def _snapshot(self, p: Proposal, actor: tuple[str, str]) -> dict[str, Any]:
        return {
            "period": p.period,
            "direction": p.direction,
            "level": p.level,
            "problem_kind": p.problem_kind,
            "problem_key": p.problem_key,
            "measure_key": p.measure.key,
            "measure_source": p.measure.source,
            "risk_groups": p.risk_groups,
            "indicator_id": p.indicator_id,
            "proposed_text": p.text,
            "cited": p.cited,
            "actor_role": actor[0],
            "actor_unit": actor[1],
        }

    def require_undecided(self) -> None:
        if self.decided is not None:
            extra = (
                f" as {self.decided.recommendation_id}"
                if isinstance(self.decided, ProposalAccepted)
                else f": {self.decided.reason}"
            )
            raise DomainError(f"{self.id} was already {self.status}{extra}")

    def _draft(self, p: Proposal) -> ProposalDecision:
        if p.id != self.id:
            raise DomainError(f"the proposal {p.id} is not {self.id}")
        draft = ProposalDecision(self.id)
        draft.region, draft.municipality, draft.school = p.region, p.municipality, p.school
        return draft

    def decide_accept(
        self,
        p: Proposal,
        *,
        recommendation_id: str,
        text: str | None,
        deadline: Deadline | None,
        actor: tuple[str, str],
    ) -> list[DomainEvent]:
        self.require_undecided()
        final = (text or "").strip() or p.text
        return [
            self._draft(p)._event(
                ProposalAccepted,
                **self._snapshot(p, actor),
                text=final,
                deadline=deadline,
                recommendation_id=recommendation_id,
            )
        ]

    def decide_dismiss(
        self, p: Proposal, *, reason: str, actor: tuple[str, str]
    ) -> list[DomainEvent]:
        self.require_undecided()
        if not reason.strip():
            raise DomainError("a proposal is dismissed with a reason")
        return [
            self._draft(p)._event(
                ProposalDismissed, **self._snapshot(p, actor), reason=reason.strip()
            )
        ]

    def _when(self, event: DomainEvent) -> None:
        if isinstance(event, ProposalAccepted | ProposalDismissed):
            self.decided = event

    def index_fields(self) -> dict[str, Any]:
        d = self.decided
        if d is None:
            return {}
        return {
            "status": self.status,
            "period": d.period,
            "direction": d.direction.value,
            "recommendation_id": getattr(d, "recommendation_id", None),
        }

    def describe(self) -> dict[str, Any]:
        """A decided proposal as it was when decided (the data may have changed since)."""
        d = self.decided
        assert d is not None
        return {
            "id": self.id,
            "school_id": self.school,
            "municipality_id": self.municipality,
            "period": d.period,
            "direction": d.direction.value,
            "level": d.level,
            "problem": {"kind": d.problem_kind, "key": d.problem_key},
            "risk_groups": list(d.risk_groups),
            "indicator_id": d.indicator_id,
            "measure": {"key": d.measure_key, "source": d.measure_source},
            "text": d.proposed_text,
            "cited": [c.model_dump(mode="json") for c in d.cited],
            "status": self.status,
            "version": self.version,
            "decision": {
                "actor_role": d.actor_role,
                "actor_unit": d.actor_unit,
                **(
                    {
                        "text": d.text,
                        "deadline": d.deadline.model_dump(mode="json") if d.deadline else None,
                        "recommendation_id": d.recommendation_id,
                    }
                    if isinstance(d, ProposalAccepted)
                    else {"reason": d.reason}
                ),
            },
        }
