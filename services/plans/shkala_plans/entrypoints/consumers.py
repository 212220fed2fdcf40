"""Subscribers of the plans service: the indicators topic feeds effectiveness."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from shkala_contracts.events.indicators import TOPIC as INDICATORS
from shkala_contracts.events.indicators import IndicatorValueChanged, ListMembershipChanged
from shkala_contracts.events.org_units import TOPIC as ORG_UNITS
from shkala_contracts.events.org_units import MunicipalityRegistered, SchoolRegistered
from shkala_plans.service_layer import measures
from shkala_plans.service_layer.services import Deps
from shkala_runtime.consuming import DeadLetters, Delivered, Rejection, subscribe_events
from shkala_runtime.settings import ServiceSettings
from shkala_runtime.tracing import event_span


def subscribe(
    broker: KafkaBroker,
    settings: ServiceSettings,
    deps: Deps,
    dead_letters: DeadLetters,
    group_id: str,
) -> None:
    async def on_indicators(batch: Sequence[Delivered]) -> Sequence[Rejection]:
        events: list[IndicatorValueChanged | ListMembershipChanged] = []
        latest: Delivered | None = None
        for d in batch:
            if isinstance(d.event, IndicatorValueChanged | ListMembershipChanged):
                events.append(d.event)
                latest = d
        if latest is None:
            return []
        # The batch's work continues the trace of its latest event (one span per batch: the
        # evaluation it may trigger depends on all of them together).
        with event_span(latest, "record indicator values", **{"shkala.events": len(events)}):
            await measures.on_indicator_events(deps, events)
        return []

    subscribe_events(
        broker,
        settings.topic_name(INDICATORS),
        group_id=group_id,
        handler=on_indicators,
        dead_letters=dead_letters,
    )


def subscribe_org_units(
    broker: KafkaBroker,
    settings: ServiceSettings,
    deps: Deps,
    dead_letters: DeadLetters,
    group_id: str,
) -> None:
    """The registry: which municipality each school belongs to (tenant checks of writes)."""

    async def on_org_units(batch: Sequence[Delivered]) -> Sequence[Rejection]:
        units = [
            (d.event, d.envelope.originator_version)
            for d in batch
            if isinstance(d.event, SchoolRegistered | MunicipalityRegistered)
        ]
        if units:
            await deps.orgs.record(units)
        return []

    subscribe_events(
        broker,
        settings.topic_name(ORG_UNITS),
        group_id=group_id,
        handler=on_org_units,
        dead_letters=dead_letters,
    )
