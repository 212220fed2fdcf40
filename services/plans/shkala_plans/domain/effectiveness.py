"""Effectiveness of a measure: its linked indicators for its target schools, baseline vs
evaluation period, each in its better direction, plus schools leaving ШНОР/ШНСУ.

Verdict:
- ``effective`` when more than half of the (school, indicator) pairs improved and more
  improved than worsened, or when every target school that was on ШНОР/ШНСУ at baseline
  left the lists by the evaluation period;
- ``not_effective`` when nothing improved and no school left a list;
- ``partially_effective`` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shkala_contracts.events.plans import Better, IndicatorChange, MeasureTaken, Verdict

EPSILON = 1e-9
ValueKey = tuple[str, str, str]  # school, indicator, period


def evaluate(
    measure: MeasureTaken,
    values: Mapping[ValueKey, float],
    listed: Callable[[str, str], bool],
    *,
    trigger: str,
) -> tuple[dict[str, Any] | None, bool]:
    """Returns (result, complete): the fields of EffectivenessEvaluated (None when not a
    single pair has both values) and whether every pair had both."""
    changes: list[IndicatorChange] = []
    complete = True
    for school in measure.target_schools:
        for link in measure.indicators:
            base = values.get((school, link.indicator_id, measure.baseline_period))
            new = values.get((school, link.indicator_id, measure.evaluation_period))
            if base is None or new is None:
                complete = False
                continue
            delta = new - base
            signed = delta if link.better is Better.HIGHER else -delta
            changes.append(
                IndicatorChange(
                    school_id=school,
                    indicator_id=link.indicator_id,
                    better=link.better,
                    baseline=base,
                    evaluation=new,
                    change=round(delta, 6),
                    improved=signed > EPSILON,
                    worsened=signed < -EPSILON,
                )
            )
    if not changes:
        return None, False
    listed_at_baseline = tuple(
        s for s in measure.target_schools if listed(s, measure.baseline_period)
    )
    left = tuple(s for s in listed_at_baseline if not listed(s, measure.evaluation_period))
    improved = sum(c.improved for c in changes)
    worsened = sum(c.worsened for c in changes)
    if (improved * 2 > len(changes) and improved > worsened) or (
        listed_at_baseline and len(left) == len(listed_at_baseline)
    ):
        verdict = Verdict.EFFECTIVE
    elif improved == 0 and not left:
        verdict = Verdict.NOT_EFFECTIVE
    else:
        verdict = Verdict.PARTIALLY_EFFECTIVE
    return (
        {
            "baseline_period": measure.baseline_period,
            "evaluation_period": measure.evaluation_period,
            "verdict": verdict,
            "improved": improved,
            "worsened": worsened,
            "unchanged": len(changes) - improved - worsened,
            "changes": tuple(changes),
            "listed_at_baseline": listed_at_baseline,
            "left_lists": left,
            "trigger": trigger,
        },
        complete,
    )
