"""Target values per year of the programme indicators (seed 003: «ожидаемые результаты»)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Targets:
    """Target values per academic year of a programme indicator (seed 003: «ожидаемые
    результаты»), with where the indicator and the figures come from."""

    indicator: str
    """The programme indicator and its expected result (seed file and item)."""
    expected: str  # up | down: which way the programme expects the value to move
    values: tuple[tuple[str, float], ...]
    values_source: str

    def of(self, period: str) -> float | None:
        return dict(self.values).get(period)

    def met(self, period: str, value: float | None) -> bool | None:
        """Whether the value reaches the year's target (None: no target or no value)."""
        target = self.of(period)
        if target is None or value is None:
            return None
        return value >= target if self.expected == "up" else value <= target

    def describe(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "expected": self.expected,
            "values": dict(self.values),
            "values_source": self.values_source,
        }
