"""Shkala contracts: what crosses the wire between services and to subscribers."""

from shkala_contracts.base import Event, Fact
from shkala_contracts.catalog import EVENT_TYPES, FACT_TYPES, event_class
from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.envelope import Envelope, EnvelopeError, Tenant
from shkala_contracts.topics import TOPICS, TopicSpec, all_topics

__all__ = [
    "EVENT_TYPES",
    "FACT_TYPES",
    "TOPICS",
    "DomainEvent",
    "Envelope",
    "EnvelopeError",
    "Event",
    "Fact",
    "Tenant",
    "TopicSpec",
    "all_topics",
    "event_class",
]
