"""Base classes every event on the wire derives from.

Events are frozen: a fact that happened does not change; a correction is a new event with
the same natural key and a higher originator version.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """A message on a Shkala topic; its envelope travels in Kafka headers (CloudEvents binary)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    event_type: ClassVar[str]
    """CloudEvents ``type``; a breaking change is a new type, never an edit."""
    topic: ClassVar[str]
    """Name of the topic the event is published to (see :mod:`shkala_contracts.topics`)."""

    def partition_key(self) -> str:
        """Everything about one school is ordered: the key is the school id."""
        return str(getattr(self, "school_id"))  # noqa: B009 - subclasses define it


class Fact(Event):
    """A fact reported from outside (ingest publishes it).

    ``key_fields`` names the natural key: a second fact with the same key *replaces* the
    first (a correction), it is not a second fact.
    """

    key_fields: ClassVar[tuple[str, ...]]

    def natural_key(self) -> tuple[str, ...]:
        return tuple("" if (v := getattr(self, f)) is None else str(v) for f in self.key_fields)

    def originator_id(self) -> str:
        """Stable id of the fact's stream: the event type's family plus a hash of its key."""
        digest = hashlib.sha256("\x1f".join(self.natural_key()).encode()).hexdigest()[:32]
        family = self.event_type.rsplit(".", 1)[0]
        return f"{family}:{digest}"


EVENT_TYPE_PREFIX = "ru.shkala."
