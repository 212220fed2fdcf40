"""Ishimbay's technological card (технологическая карта, seed 002, appendix 2): the six
steps of the management cycle, each with the actions it needs and the duties of the
coordinator, the executors and the municipal operator. Read from the seed text; offered as
a roadmap template (one section per step, one row per role's duties) and shown beside every
direction's cycle view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.templates import SEED_DIR, Template, TemplateRow, TemplateSection, clean

CARD_ID = "ishimbay-cycle-card"
STEP_KEYS = ("goals", "indicators", "monitoring", "analysis", "measures", "effectiveness")


@dataclass(frozen=True)
class CardStep:
    number: int
    key: str  # goals, indicators, monitoring, analysis, measures, effectiveness
    title: str
    actions: str
    coordinator: str
    executors: str
    operator: str


def parse_cycle_card(text: str) -> tuple[CardStep, ...]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "Технологическая карта" in line), None)
    if start is None:
        return ()
    cells: dict[int, list[str]] = {}
    current: int | None = None
    for line in lines[start + 1 :]:
        if re.match(r"^\d+\.\d+\s", line):  # the next appendix begins (1.2 Муниципальная …)
            break
        parts = line.split("\t")
        if m := re.fullmatch(r"([1-6])", parts[0].strip()):
            current = int(m.group(1))
            cells[current] = [clean(p) for p in parts[1:]]
        elif current is not None and len(parts) > 1 and not parts[0].strip():
            # a page break: the step's cells continue on a row with an empty number
            for k, more in enumerate(parts[1:]):
                if clean(more):
                    row = cells[current]
                    row.extend([""] * (k + 1 - len(row)))
                    row[k] = f"{row[k]} {clean(more)}".strip()
    steps = []
    for n in sorted(cells):
        row = cells[n] + [""] * (5 - len(cells[n]))
        steps.append(CardStep(n, STEP_KEYS[n - 1], row[0], row[1], row[2], row[3], row[4]))
    return tuple(steps)


def load_cycle_card(seed_dir: Path = SEED_DIR) -> tuple[CardStep, ...]:
    for path in sorted(seed_dir.glob("002_*.txt")):
        return parse_cycle_card(path.read_text(encoding="utf-8"))
    return ()


def card_template(steps: tuple[CardStep, ...]) -> Template:
    """The card as a roadmap template: a section per step, a row per role with duties."""
    sections = tuple(TemplateSection(f"c{s.number}", s.title) for s in steps)
    rows: list[TemplateRow] = []
    every_year = parse_deadline("в течение учебного года")
    for s in steps:
        for k, (who, duty) in enumerate(
            (
                ("Координатор", s.coordinator),
                ("Ответственные исполнители", s.executors),
                ("Муниципальный оператор", s.operator),
            ),
            start=1,
        ):
            if duty:
                rows.append(
                    TemplateRow(
                        section_key=f"c{s.number}",
                        number=f"{s.number}.{k}",
                        activity=duty,
                        deadline=every_year,
                        responsible=(who,),
                        expected_result=s.actions or None,
                        source_line=0,
                    )
                )
    return Template(
        CARD_ID,
        "002",
        "Ишимбайский район: технологическая карта управленческого цикла",
        None,
        None,
        sections,
        tuple(rows),
    )
