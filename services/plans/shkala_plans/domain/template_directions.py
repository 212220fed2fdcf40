"""Which of the nine directions (направления ФИОКО) each section of a seed template serves.

Romny's and Ishimbay's sections are the directions by name; the other seeds organise their
plans differently, so their sections are mapped here:
- Tula, «механизмы управления качеством по ФИОКО»: section 2 lists the nine directions as its
  rows 2.1-2.9 («Система оценки качества подготовки обучающихся: …»); each such row becomes a
  section of its own direction (2.1 … 2.9), so the direction's cycle finds its row.
- Tula, ШНОР/ШНСУ roadmap: every section is about schools with low results or objectivity.
- Yefremov and Arkhangelsk: programme tasks, mapped by what their rows do (below).
Sections about the plan as a whole (Tula 1, «единый подход … в логике управленческого цикла»;
Arkhangelsk 1, organisation of the plan, and 6, informing the public) serve every direction
and keep none.
"""

from __future__ import annotations

import re

from shkala_contracts.vocabulary import Direction

D = Direction
# template id -> (words in the section title, lower case, ё as е) -> direction
PROGRAMME_SECTIONS: dict[str, tuple[tuple[str, Direction], ...]] = {
    "yefremov-2021-2025": (
        # monitoring of learning achievements, ВПР, РКР
        ("обеспечение проведения мониторингов", D.ASSESSMENT),
        # material base, targeted support of ШНОР and ШНСУ
        ("выравнивания возможностей доступа", D.LOW_RESULTS),
        # partnerships of ШНОР/ШНСУ with leading schools and institutions
        ("сетевого взаимодействия", D.LOW_RESULTS),
        ("повышение квалификации педагогических", D.TEACHER_DEVELOPMENT),
        # professional communities (педагогические сообщества)
        ("культуры лидерства", D.METHODICAL_WORK),
        ("независимой оценки", D.OBJECTIVITY),
    ),
    "arkhangelsk-2021-2025": (
        ("мониторинг качества общего образования", D.ASSESSMENT),
        ("внутренней системы оценки качества", D.ASSESSMENT),
        # support of the schools at the bottom of the municipal rating
        ("окружных ресурсных центров", D.LOW_RESULTS),
        # psychological support of students with low results
        ("психолого-педагогическому сопровождению", D.LOW_RESULTS),
        ("объективной оценки", D.OBJECTIVITY),
    ),
}
# templates whose rows name the directions one by one («Система …: what to do»)
ROWS_ARE_DIRECTIONS = {"tula-fioko-2021"}
_DIRECTION_ROW = re.compile(r"^\s*(Система[^:]{10,300}):\s*(.*)$", re.S)


def _low(text: str) -> str:
    return text.lower().replace("ё", "е")


def programme_section_direction(template_id: str, title: str) -> Direction | None:
    """The direction of a programme section of ``template_id`` by its title, if mapped."""
    low = _low(title)
    return next((d for words, d in PROGRAMME_SECTIONS.get(template_id, ()) if words in low), None)


def direction_row_title(activity: str) -> str | None:
    """«Система оценки качества подготовки обучающихся: Корректировка …» → the direction's
    name before the colon (None for a row that does not start so)."""
    m = _DIRECTION_ROW.match(activity)
    return " ".join(m.group(1).split()) if m else None
