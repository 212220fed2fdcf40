"""Proposals of targeted recommendations (предложения адресных рекомендаций, seed 002 step 4)
generated from the data, and the decision a coordinator takes on one.

``propose`` is pure: given one school's indicator values for a period (with numerator,
denominator and definition version), the catalogue's thresholds, its list memberships and its
ВПР task deficits, it returns the proposals — by problem position (an indicator on the risk
side of its threshold, a ВПР task / planned result below the success threshold), by risk group
(ШНОР, ШНСУ, признаки необъективности) and by level of management (school, municipality) —
each citing the values that triggered it. A school is at risk when it is on a list or has an
indicator at risk; a school that is not gets none.

The proposals are derived on read; only the decision is stored (``proposal_decision``, one
event: accepted → the recommendation it became, or dismissed with a reason). docs/adr/0013.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shkala_contracts.events.plans import CitedValue
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.measure_library import (
    BY_LIST,
    GENERIC,
    VPR_TASK_MEASURES,
    MeasureEntry,
    measures_for_indicator,
)
from shkala_plans.domain.model import DomainError

MAX_TASK_DEFICITS = 5
"""ВПР deficits proposed per school: the lowest-success tasks first (the rest are counted)."""

LIST_DIRECTION = {
    "ШНОР": Direction.LOW_RESULTS,
    "ШНСУ": Direction.LOW_RESULTS,
    "признаки необъективности": Direction.OBJECTIVITY,
}
# the indicator a risk-group proposal is linked to when the list names no reason
LIST_INDICATOR = {"ШНСУ": "wellbeing_index"}
SUBJECT_INDICATOR = (("мат", "vpr_mark2_share_math"), ("рус", "vpr_mark2_share_rus"))


@dataclass(frozen=True)
class Definition:
    """An indicator as the catalogue defines it (only what proposals cite)."""

    id: str
    name_ru: str
    direction: Direction
    risk_if: str | None = None  # "above" | "below"
    threshold: float | None = None
    unit: str | None = None  # percent | flag | index
    targets: tuple[tuple[str, float], ...] = ()
    """Seed 003's target values per academic year (``(("2024/25", 55.0), …)``), if any."""
    target_expected: str | None = None  # up | down: which way the targets move

    def at_risk(self, value: float | None) -> bool:
        if value is None or self.threshold is None:
            return False
        if self.risk_if == "above":
            return value > self.threshold
        if self.risk_if == "below":
            return value < self.threshold
        return False


@dataclass(frozen=True)
class SchoolValue:
    indicator_id: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    definition_version: str | None = None


@dataclass(frozen=True)
class TaskDeficit:
    """A ВПР task below the success threshold (indicators' ``GET /schools/{id}/vpr-tasks``)."""

    subject: str
    grade: int
    task: str
    rate: float
    threshold: float
    points: float
    max_points: float
    planned_result: str | None = None
    definition_version: str | None = None


@dataclass(frozen=True)
class SchoolData:
    region: str
    municipality: str
    school: str
    period: str
    values: Sequence[SchoolValue] = ()
    lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """risk list the school is on for the period -> the indicator ids that decided it"""
    deficits: Sequence[TaskDeficit] = ()


@dataclass(frozen=True)
class Proposal:
    id: str
    region: str
    municipality: str
    school: str
    period: str
    direction: Direction
    level: str
    problem_kind: str  # indicator | vpr_task | risk_list
    problem_key: str
    problem: str  # the problem position in Russian
    measure: MeasureEntry
    risk_groups: tuple[str, ...]
    indicator_id: str | None
    text: str
    cited: tuple[CitedValue, ...]

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "school_id": self.school,
            "municipality_id": self.municipality,
            "period": self.period,
            "direction": self.direction.value,
            "level": self.level,
            "problem": {"kind": self.problem_kind, "key": self.problem_key, "ru": self.problem},
            "risk_groups": list(self.risk_groups),
            "indicator_id": self.indicator_id,
            "measure": {"key": self.measure.key, "source": self.measure.source},
            "text": self.text,
            "cited": [c.model_dump(mode="json") for c in self.cited],
        }


def proposal_id(school: str, period: str, *parts: str) -> str:
    """Stable across reads: the same data proposes the same id (the decision is found again)."""
    digest = hashlib.sha256("|".join((school, period, *parts)).encode()).hexdigest()[:12]
    return f"proposal:{school}~{period.replace('/', '-')}~{digest}"


def school_of(proposal_id_: str) -> tuple[str, str]:
    """(school, period) a proposal id names; DomainError for an id of another shape."""
    body = proposal_id_.removeprefix("proposal:")
    parts = body.split("~")
    if not proposal_id_.startswith("proposal:") or len(parts) != 3 or "-" not in parts[1]:
        raise DomainError(f"{proposal_id_!r} is not a proposal id (proposal:<school>~<period>~…)")
    return parts[0], parts[1].replace("-", "/", 1)


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def cite_text(c: CitedValue) -> str:
    """«Доля … = 31 (порог 20, риск выше порога; 31 из 100), 2025/26»."""
    bits = [f"{c.label} = {_num(c.value)}"]
    detail = []
    if c.threshold is not None:
        side = {"above": "выше", "below": "ниже"}.get(c.risk_if or "", "")
        detail.append(f"порог {_num(c.threshold)}" + (f", риск {side} порога" if side else ""))
    if c.numerator is not None and c.denominator is not None:
        detail.append(f"{_num(c.numerator)} из {_num(c.denominator)}")
    if detail:
        bits.append(f"({'; '.join(detail)})")
    return f"{' '.join(bits)}, {c.period}"


def propose(data: SchoolData, definitions: Mapping[str, Definition]) -> list[Proposal]:
    """Every proposal for one school and period (none for a school not at risk)."""
    cited: dict[str, CitedValue] = {}
    at_risk: list[str] = []
    for v in data.values:
        d = definitions.get(v.indicator_id)
        if d is None:
            continue
        cited[v.indicator_id] = CitedValue(
            source="indicator",
            indicator_id=v.indicator_id,
            label=d.name_ru,
            period=data.period,
            value=v.value,
            threshold=d.threshold,
            risk_if=d.risk_if,
            numerator=v.numerator,
            denominator=v.denominator,
            definition_version=v.definition_version,
        )
        if d.at_risk(v.value):
            at_risk.append(v.indicator_id)
    groups = tuple(sorted(data.lists))
    if not groups and not at_risk:
        return []
    out: list[Proposal] = []

    def add(
        kind: str,
        key: str,
        problem: str,
        direction: Direction,
        link: str | None,
        entries: Sequence[MeasureEntry],
        cites: Sequence[CitedValue],
        **fmt: Any,
    ) -> None:
        basis = "; ".join(cite_text(c) for c in cites)
        for m in entries:
            text = m.text.format(**fmt)
            if basis:
                text += f" Основание: {basis}."
            out.append(
                Proposal(
                    id=proposal_id(data.school, data.period, kind, key, m.key),
                    region=data.region,
                    municipality=data.municipality,
                    school=data.school,
                    period=data.period,
                    direction=direction,
                    level=m.level,
                    problem_kind=kind,
                    problem_key=key,
                    problem=problem,
                    measure=m,
                    risk_groups=groups,
                    indicator_id=link,
                    text=text,
                    cited=tuple(cites),
                )
            )

    for risk_list in groups:
        reasons = [r for r in data.lists[risk_list] if r in cited]
        indicator = reasons[0] if reasons else LIST_INDICATOR.get(risk_list)
        cites = [cited[r] for r in reasons]
        if not cites and indicator in cited:
            cites = [cited[indicator]]
        membership = CitedValue(
            source="risk_list",
            label=f"школа в списке «{risk_list}»",
            period=data.period,
        )
        add(
            "risk_list",
            risk_list,
            f"группа риска: {risk_list}",
            LIST_DIRECTION.get(risk_list, Direction.LOW_RESULTS),
            indicator,
            BY_LIST.get(risk_list, ()),
            [membership, *cites],
            indicator=definitions[indicator].name_ru
            if indicator is not None and indicator in definitions
            else f"список «{risk_list}»",
        )
    for ind in at_risk:
        d = definitions[ind]
        add(
            "indicator",
            ind,
            f"показатель в зоне риска: {d.name_ru}",
            d.direction,
            ind,
            measures_for_indicator(ind) or GENERIC,
            [cited[ind]],
            indicator=d.name_ru,
        )
    worst = sorted(data.deficits, key=lambda t: (t.rate, t.subject, t.grade, t.task))
    for t in worst[:MAX_TASK_DEFICITS]:
        position = t.planned_result or f"задание {t.task}"
        indicator = next(
            (i for word, i in SUBJECT_INDICATOR if word in t.subject.lower() and i in definitions),
            None,
        )
        cite = CitedValue(
            source="vpr_task",
            indicator_id=None,
            label=f"ВПР, {t.subject}, {t.grade} кл., задание {t.task}: выполнение, %",
            period=data.period,
            value=t.rate,
            threshold=t.threshold,
            risk_if="below",
            numerator=t.points,
            denominator=t.max_points,
            definition_version=t.definition_version,
        )
        add(
            "vpr_task",
            f"{t.subject}|{t.grade}|{t.planned_result or t.task}",
            f"дефицит ВПР: {t.subject}, {t.grade} кл., {position}",
            Direction.ASSESSMENT,
            indicator,
            VPR_TASK_MEASURES,
            [cite],
            subject=t.subject,
            grade=t.grade,
            task=t.task,
            planned_result=position,
        )
    return out
