"""Withdrawing a wrong fact (отзыв ошибочно представленных данных).

A school or municipality withdraws a fact it submitted: a tombstone on the fact's own stream
(the same originator id, the next originator version), on the fact's own topic and partition
key, so it is ordered after the fact it withdraws. Every projection applies it by removing
the fact: the value moves back as if the fact had never arrived, and a rebuild from the log
agrees. A later submission with the same natural key is the stream's next version again.

One event type per fact topic (a topic carries its own withdrawals): the payload names the
withdrawn fact's type and its natural key, in the fact's own words (pseudonyms, not raw ids).
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import Field, model_validator

from shkala_contracts.base import Fact
from shkala_contracts.events import assessment, attendance, school_context, staffing
from shkala_contracts.vocabulary import OrgId


class FactWithdrawn(Fact):
    """Base of the withdrawal events; use the subclass of the withdrawn fact's topic."""

    key_fields: ClassVar[tuple[str, ...]] = ()

    school_id: OrgId
    withdrawn_type: str = Field(
        min_length=1,
        max_length=128,
        description="Event type of the fact withdrawn, e.g. ru.shkala.fact.assessment_result.v1",
    )
    withdrawn_key: dict[str, str] = Field(
        description="The withdrawn fact's natural key fields (its `key_fields`) as text; an "
        "absent optional field is an empty string"
    )
    reason: str | None = Field(default=None, max_length=500, description="Why it is withdrawn")

    @model_validator(mode="after")
    def _key_is_complete(self) -> FactWithdrawn:
        from shkala_contracts.catalog import FACT_TYPES

        cls = FACT_TYPES.get(self.withdrawn_type)
        if cls is None or issubclass(cls, FactWithdrawn):
            raise ValueError(f"{self.withdrawn_type!r} is not a fact type")
        if cls.topic != self.topic:
            raise ValueError(f"{self.withdrawn_type} facts are withdrawn on {cls.topic}")
        missing = [f for f in cls.key_fields if f not in self.withdrawn_key]
        extra = [f for f in self.withdrawn_key if f not in cls.key_fields]
        if missing or extra:
            raise ValueError(
                f"withdrawn_key must have exactly {list(cls.key_fields)}"
                + (f"; missing {missing}" if missing else "")
                + (f"; unknown {extra}" if extra else "")
            )
        return self

    def originator_id(self) -> str:
        """The withdrawn fact's own stream id (see :meth:`Fact.originator_id`)."""
        from shkala_contracts.catalog import FACT_TYPES

        cls = FACT_TYPES[self.withdrawn_type]
        values = "\x1f".join(self.withdrawn_key[f] for f in cls.key_fields)
        digest = hashlib.sha256(values.encode()).hexdigest()[:32]
        return f"{self.withdrawn_type.rsplit('.', 1)[0]}:{digest}"

    @classmethod
    def of(cls, fact_type: type[Fact], school_id: str, key: dict[str, Any], **kw: Any) -> Fact:
        """The withdrawal of ``fact_type``'s fact with ``key``, of the class of its topic."""
        kind = WITHDRAWAL_BY_TOPIC[fact_type.topic]
        text = {f: "" if key.get(f) is None else str(key[f]) for f in fact_type.key_fields}
        return kind(
            school_id=school_id, withdrawn_type=fact_type.event_type, withdrawn_key=text, **kw
        )


class AssessmentFactWithdrawn(FactWithdrawn):
    """A withdrawn assessment fact (result, consent)."""

    event_type: ClassVar[str] = "ru.shkala.fact.assessment_withdrawn.v1"
    topic: ClassVar[str] = assessment.TOPIC


class AttendanceFactWithdrawn(FactWithdrawn):
    """A withdrawn attendance fact."""

    event_type: ClassVar[str] = "ru.shkala.fact.attendance_withdrawn.v1"
    topic: ClassVar[str] = attendance.TOPIC


class StaffingFactWithdrawn(FactWithdrawn):
    """A withdrawn staffing fact."""

    event_type: ClassVar[str] = "ru.shkala.fact.staffing_withdrawn.v1"
    topic: ClassVar[str] = staffing.TOPIC


class SchoolContextFactWithdrawn(FactWithdrawn):
    """A withdrawn school-context fact."""

    event_type: ClassVar[str] = "ru.shkala.fact.school_context_withdrawn.v1"
    topic: ClassVar[str] = school_context.TOPIC


WITHDRAWAL_BY_TOPIC: dict[str, type[FactWithdrawn]] = {
    c.topic: c
    for c in (
        AssessmentFactWithdrawn,
        AttendanceFactWithdrawn,
        StaffingFactWithdrawn,
        SchoolContextFactWithdrawn,
    )
}
