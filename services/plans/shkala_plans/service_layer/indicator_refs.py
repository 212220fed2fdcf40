"""The indicators a recommendation or measure names must be the catalogue's, and the direction
in which each improves (лучше выше / лучше ниже) is the catalogue's, never the caller's guess.
"""

from __future__ import annotations

from collections.abc import Sequence

from shkala_contracts.events.plans import Better, LinkedIndicator
from shkala_plans.domain.model import FieldRefused
from shkala_plans.service_layer.services import IndicatorCatalogue

RU = {Better.HIGHER: "лучше выше", Better.LOWER: "лучше ниже"}


async def known_indicator(
    catalogue: IndicatorCatalogue, indicator_id: str, location: str
) -> Better:
    """The catalogue's better direction of ``indicator_id``; FieldRefused (422) naming
    ``location`` when the catalogue does not define it."""
    better = await catalogue.better(indicator_id)
    if better is None:
        raise FieldRefused(
            "Unknown indicator",
            location,
            indicator_id,
            f"{location}: indicator {indicator_id!r} is not in the indicators catalogue"
            " (GET /catalogue on the indicators service lists the ids)",
        )
    return better


async def linked_indicators(
    catalogue: IndicatorCatalogue,
    asked: Sequence[tuple[str, Better | None]],
    location: str = "body.indicators",
) -> tuple[LinkedIndicator, ...]:
    """The measure's indicators with the catalogue's better direction. A direction the
    caller states must agree with the catalogue (else 422: the caller believes the
    opposite of what the evaluation will count as improvement)."""
    out: list[LinkedIndicator] = []
    for i, (indicator_id, stated) in enumerate(asked):
        better = await known_indicator(catalogue, indicator_id, f"{location}.{i}.indicator_id")
        if stated is not None and stated is not better:
            raise FieldRefused(
                "Better direction contradicts the catalogue",
                f"{location}.{i}.better",
                stated.value,
                f"{location}.{i}.better: indicator {indicator_id!r} is {better.value}-is-better"
                f" ({RU[better]}) in the indicators catalogue, not {stated.value}; leave"
                " `better` out to take the catalogue's",
            )
        out.append(LinkedIndicator(indicator_id=indicator_id, better=better))
    return tuple(out)
