"""Seed templates: the roadmap tables of the five seed documents, as roadmap templates.

The seeds are text renderings of scanned or exported orders: tables come as markdown pipes
(seed 001) or tab-separated lines (the others), split by page breaks (a blank or separator
line, after which a cell's text continues in a row with an empty number), sometimes with a
column shifted or dropped. The parser is tolerant and keeps every row: what it cannot place
becomes text; a deadline it cannot read is kept as written and flagged for review.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from shkala_contracts.events.plans import Deadline
from shkala_contracts.vocabulary import Direction
from shkala_plans.domain.deadlines import parse_deadline
from shkala_plans.domain.template_directions import (
    ROWS_ARE_DIRECTIONS,
    direction_row_title,
    programme_section_direction,
)

SEED_DIR = Path(__file__).resolve().parent.parent / "seeds"


@dataclass(frozen=True)
class TemplateSection:
    key: str
    title: str
    direction: Direction | None = None
    coordinator: str | None = None
    executors: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateRow:
    section_key: str | None
    number: str | None
    activity: str
    deadline: Deadline
    responsible: tuple[str, ...]
    expected_result: str | None
    source_line: int


@dataclass(frozen=True)
class Template:
    id: str
    seed: str
    title: str
    from_year: int | None
    to_year: int | None
    sections: tuple[TemplateSection, ...]
    rows: tuple[TemplateRow, ...]

    @property
    def structured(self) -> int:
        return sum(1 for r in self.rows if not r.deadline.needs_review)


# (seed prefix, table index) -> id, title, years
_KNOWN = {
    ("000", 0): ("tula-fioko-2021", "Тула: механизмы управления качеством по ФИОКО", 2021, 2023),
    ("000", 1): ("tula-shnor-2021", "Тула: дорожная карта ШНОР и ШНСУ", 2021, 2021),
    ("001", 0): ("romny-2021-2025", "Ромненский округ: дорожная карта МСОКО", 2021, 2025),
    ("003", 0): ("yefremov-2021-2025", "Ефремов: программа повышения качества", 2021, 2025),
    ("004", 0): ("arkhangelsk-2021-2025", "Архангельск: план повышения качества", 2021, 2025),
}

_DIRECTION_WORDS: tuple[tuple[str, Direction], ...] = (
    ("низкими результатами", Direction.LOW_RESULTS),
    ("низкими образовательными результатами", Direction.LOW_RESULTS),
    ("шнор", Direction.LOW_RESULTS),
    ("объективност", Direction.OBJECTIVITY),
    ("объективной оценки", Direction.OBJECTIVITY),
    ("талант", Direction.TALENTS),
    ("одаренн", Direction.TALENTS),
    ("профессиональной ориентации", Direction.CAREER),
    ("самоопределен", Direction.CAREER),
    ("руководител", Direction.PRINCIPALS),
    ("дополнительного профессионального", Direction.TEACHER_DEVELOPMENT),
    ("методической работы", Direction.METHODICAL_WORK),
    ("воспитания", Direction.UPBRINGING),
    ("подготовки обучающихся", Direction.ASSESSMENT),
)


def direction_of(title: str) -> Direction | None:
    low = title.lower().replace("ё", "е")
    for words, direction in _DIRECTION_WORDS:
        if words in low:
            return direction
    return None


def clean(cell: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", cell))
    return re.sub(r"\s+", " ", text).strip()


_SEPARATOR = re.compile(r"^[\s|\-\t:]*$")


def _is_table_line(line: str, pipes: bool) -> bool:
    return line.startswith("|") if pipes else "\t" in line


def _cells(line: str, pipes: bool) -> list[str]:
    if pipes:
        inner = line.strip()
        inner = inner[1:] if inner.startswith("|") else inner
        inner = inner[:-1] if inner.endswith("|") else inner
        return [c.strip() for c in inner.split("|")]
    return [c.strip() for c in line.split("\t")]


def _blocks(lines: list[str], pipes: bool) -> list[list[tuple[int, str | None]]]:
    """Table blocks: runs of table lines, with blank and separator lines (page breaks)
    kept as ``None`` markers; any other text ends a block."""
    blocks: list[list[tuple[int, str | None]]] = []
    current: list[tuple[int, str | None]] = []
    for no, line in enumerate(lines, start=1):
        if _is_table_line(line, pipes) and not _SEPARATOR.match(line):
            current.append((no, line))
        elif not line.strip() or _SEPARATOR.match(line):
            if current:
                current.append((no, None))
        else:
            if any(x for _, x in current):
                blocks.append(current)
            current = []
    if any(x for _, x in current):
        blocks.append(current)
    return blocks


_HEADER_FIELDS = (
    ("number", ("№",)),
    ("task", ("задачи",)),
    ("deadline", ("срок",)),
    ("expected", ("результат",)),
    ("responsible", ("ответствен", "исполнител")),
    ("activity", ("мероприят", "наименование", "направлен")),
)


def _header(cells: list[str]) -> dict[str, int] | None:
    if len(cells) < 3:
        return None
    cols: dict[str, int] = {}
    for i, cell in enumerate(cells):
        low = clean(cell).lower()
        if len(low) > 60:  # a header names a column; long cells are content
            continue
        for name, words in _HEADER_FIELDS:
            if name not in cols and any(w in low for w in words):
                cols[name] = i
                break
    return cols if {"deadline", "activity"} <= cols.keys() else None


_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)*\.?)\s*$")
_LEADING_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)*\.?)\s+(\S.*)$", re.S)


@dataclass
class _Draft:
    number: str | None
    activity: str
    deadline: str
    responsible: str
    expected: str
    line: int
    section: bool = False
    parts: list[str] = field(default_factory=list)


def _parse_block(
    block: list[tuple[int, str | None]], pipes: bool
) -> tuple[list[_Draft], int] | None:
    header_at = next(
        (i for i, (_, line) in enumerate(block) if line and _header(_cells(line, pipes))), None
    )
    if header_at is None:
        return None
    header_line = block[header_at][1]
    assert header_line is not None
    cols = _header(_cells(header_line, pipes))
    assert cols is not None
    width = len(_cells(header_line, pipes))
    drafts: list[_Draft] = []
    after_break = False
    for i, (no, line) in enumerate(block):
        if i == header_at:
            continue
        if line is None:
            after_break = True
            continue
        cells = _cells(line, pipes)
        while len(cells) > width and not cells[-1]:
            cells.pop()
        if len(cells) < width:  # a dropped leading column: align right
            cells = [""] * (width - len(cells)) + cells
        if not any(cells):
            after_break = True
            continue

        def get(name: str, cells: list[str] = cells) -> str:
            idx = cols.get(name)
            return cells[idx] if idx is not None and idx < len(cells) else ""

        number, activity = clean(get("number")), get("activity")
        task = get("task")
        others = [get("deadline"), get("responsible"), get("expected")]
        if number and not _NUMBER.match(number):  # text slid into the number column
            m = _LEADING_NUMBER.match(number)
            moved = clean(get("number"))
            if m and not clean(activity) and not clean(task):
                number, activity = m.group(1), m.group(2)
            elif not clean(activity) and not clean(task):
                number, activity = "", moved
            else:
                activity = moved + " " + activity
                number = ""
        if i < header_at:  # a section title written above the header
            drafts.append(_Draft(number or None, clean(activity or task), "", "", "", no, True))
            continue
        text = clean(" ".join(x for x in (task, activity) if x))
        if after_break and drafts and not number and (not text or not text[0].isupper()):
            prev = drafts[-1]
            prev.activity = (prev.activity + " " + text).strip()
            prev.deadline = (prev.deadline + " " + others[0]).strip()
            prev.responsible = (prev.responsible + " " + others[1]).strip()
            prev.expected = (prev.expected + " " + others[2]).strip()
            after_break = False
            continue
        after_break = False
        empty_rest = not any(clean(o) for o in others)
        is_section = empty_rest and (
            (number and re.fullmatch(r"\d+\.?", number) is not None)
            or re.match(r"^(Система|Формирование нормативно)", text) is not None
            or (not number and re.match(r"^\d+\.\s", text) is not None)
        )
        if is_section and not number and (m := re.match(r"^(\d+)\.\s+(.*)$", text)):
            number, text = m.group(1), m.group(2)
        drafts.append(
            _Draft(
                number or None,
                text if not task else clean(task) + ": " + clean(activity),
                others[0],
                others[1],
                others[2],
                no,
                bool(is_section),
            )
        )
    return drafts, header_at


def _to_template(
    tid: str, seed: str, title: str, years: tuple[int | None, int | None], drafts: list[_Draft]
) -> Template:
    sections: list[TemplateSection] = []
    rows: list[TemplateRow] = []
    current: str | None = None
    for d in drafts:
        if d.section:
            current = f"s{len(sections) + 1}"
            sections.append(TemplateSection(current, d.activity, direction_of(d.activity)))
            continue
        rows.append(
            TemplateRow(
                section_key=current,
                number=(d.number or "").rstrip(".") or None,
                activity=d.activity,
                deadline=parse_deadline(d.deadline),
                responsible=(clean(d.responsible),) if clean(d.responsible) else (),
                expected_result=clean(d.expected) or None,
                source_line=d.line,
            )
        )
    return _with_directions(
        Template(tid, seed, title, years[0], years[1], tuple(sections), tuple(rows))
    )


def _with_directions(t: Template) -> Template:
    """Sections mapped to directions where their title does not name one
    (``template_directions``); a section whose rows are the directions one by one is split
    into a section per direction."""
    sections: list[TemplateSection] = []
    rows = list(t.rows)
    for s in t.sections:
        if s.direction is None:
            s = replace(s, direction=programme_section_direction(t.id, s.title))
        sections.append(s)
        if s.direction is not None or t.id not in ROWS_ARE_DIRECTIONS:
            continue
        for i, r in enumerate(rows):
            name = direction_row_title(r.activity) if r.section_key == s.key else None
            if name is None or (direction := direction_of(name)) is None:
                continue
            key = f"{s.key}.{(r.number or str(i)).split('.')[-1]}"  # row 2.3 -> section s2.3
            sections.append(TemplateSection(key, name, direction))
            rows[i] = replace(r, section_key=key)
    return replace(t, sections=tuple(sections), rows=tuple(rows))


def parse_roadmap_tables(seed: str, text: str) -> list[Template]:
    lines = text.splitlines()
    pipes = sum(1 for x in lines if x.startswith("|")) > sum(1 for x in lines if "\t" in x)
    templates = []
    index = 0
    for block in _blocks(lines, pipes):
        parsed = _parse_block(block, pipes)
        if parsed is None:
            continue
        drafts, _ = parsed
        tid, title, y1, y2 = _KNOWN.get(
            (seed[:3], index),
            (f"seed-{seed[:3]}-{index}", f"Seed {seed} table {index}", None, None),
        )
        templates.append(_to_template(tid, seed, title, (y1, y2), drafts))
        index += 1
    return templates


_ASSIGNMENT = re.compile(r"в\s+срок\s+до\s+([^,;]*?\d{4}\s*(?:года|г\.?)?)\s*(.*)", re.S)
_ADDRESSEE = re.compile(r"^\d+\.\s+(.{3,200}?)(?::|\s*$)")


def parse_direction_assignments(seed: str, text: str) -> Template:
    """Seed 002 has no dated roadmap table: its plan is the table of directions with their
    coordinator and executors (sections) and the order's dated assignments (rows)."""
    lines = text.splitlines()
    sections: list[TemplateSection] = []
    for line in lines:
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) == 4 and re.fullmatch(r"\d\.\d", cells[0]):
            executors = tuple(x.strip() for x in cells[3].split(",") if x.strip())
            sections.append(
                TemplateSection(
                    f"d{cells[0]}",
                    clean(cells[1]),
                    direction_of(cells[1]),
                    clean(cells[2]),
                    executors,
                )
            )
    rows: list[TemplateRow] = []
    addressee: str | None = None
    for no, line in enumerate(lines, start=1):
        if (a := _ADDRESSEE.match(line.strip())) and len(line) < 250:
            addressee = clean(a.group(1))
        if m := _ASSIGNMENT.search(line):
            rows.append(
                TemplateRow(
                    section_key=None,
                    number=str(len(rows) + 1),
                    activity=clean(m.group(2)),
                    deadline=parse_deadline("до " + m.group(1)),
                    responsible=(addressee,) if addressee else (),
                    expected_result=None,
                    source_line=no,
                )
            )
    return Template(
        "ishimbay-2021",
        seed,
        "Ишимбайский район: направления, координаторы и поручения",
        2021,
        2021,
        tuple(sections),
        tuple(rows),
    )


def load_seed_templates(seed_dir: Path = SEED_DIR) -> list[Template]:
    out: list[Template] = []
    for path in sorted(seed_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        found = parse_roadmap_tables(path.name, text)
        out.extend(found or [parse_direction_assignments(path.name, text)])
    return out
