"""The analytical note (аналитическая справка) of a municipality for a period, as a document
model: headings, paragraphs, tables and charts. The DOCX and XLSX writers render it; nothing
here knows about files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from shkala_web.domain import format as f
from shkala_web.domain import roadmaps as rm


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class Chart:
    title: str
    labels: list[str]
    values: list[float | None]
    threshold: float | None = None
    unit: str = ""
    risk_if: str | None = None  # "above" | "below": which side of the threshold is risk

    def at_risk(self, v: float | None) -> bool:
        if v is None or self.threshold is None:
            return False
        return v > self.threshold if self.risk_if == "above" else v < self.threshold


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass
class Note:
    title: str
    subtitle: str
    sections: list[Section]

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]


def _name(names: dict[str, str], sid: str) -> str:
    return f"{names.get(sid) or sid} ({sid})"


def build_note(
    *,
    municipality: dict[str, str],
    period: str,
    today: dt.date,
    catalogue: dict[str, dict[str, Any]],
    columns: list[str],
    rows: list[dict[str, Any]],
    total: dict[str, Any],
    lists: list[dict[str, Any]],
    names: dict[str, str],
    vpr: dict[str, Any],
    roadmaps: list[dict[str, Any]],
    measures: list[dict[str, Any]],
    soon_days: int = 14,
) -> Note:
    sections: list[Section] = []

    # 1. the lists with their dynamics
    s1 = Section("1. Школы с рисками: списки и их динамика")
    for lst in lists:
        dyn = lst["dynamics"]
        s1.paragraphs.append(
            f"{f.LIST_RU.get(lst['name'], lst['name'])}: {len(lst['members'])} "
            f"{f.plural(len(lst['members']), 'школа', 'школы', 'школ')} в {period}; "
            f"по сравнению с {lst['previous_period']} вошли {len(dyn['entered'])}, "
            f"вышли {len(dyn['left'])}, остались {len(dyn['stayed'])}."
        )
        table_rows = []
        for m in lst["members"]:
            state = "вошла" if m["school_id"] in dyn["entered"] else "осталась"
            reasons = ", ".join(
                catalogue.get(r, {}).get("name", {}).get("ru", r) for r in m.get("reasons", [])
            )
            table_rows.append([_name(names, m["school_id"]), state, reasons])
        for sid in dyn["left"]:
            table_rows.append([_name(names, sid), "вышла", ""])
        s1.tables.append(
            Table(f"Список {lst['name']}", ["Школа", "Динамика", "Критерии"], table_rows)
        )
    sections.append(s1)

    # 2. indicators against thresholds
    s2 = Section("2. Показатели относительно пороговых значений")
    s2.paragraphs.append(
        "Значения показателей по школам; отметка «(риск)» — значение за порогом риска."
    )
    ind_rows = []
    for cid in columns:
        ind = catalogue.get(cid, {})
        unit = ind.get("unit")
        mun_value = (total.get(cid) or {}).get("value")
        at_risk = [r for r in rows if cid in r.get("at_risk", [])]
        ind_rows.append(
            [
                ind.get("name", {}).get("ru", cid),
                f.threshold_text(ind.get("threshold"), unit),
                f.indicator_value(mun_value, unit),
                ", ".join(_name(names, r["school_id"]) for r in at_risk) or "—",
            ]
        )
    s2.tables.append(
        Table(
            "Показатели муниципалитета",
            ["Показатель", "Порог", "Значение МО", "Школы в зоне риска"],
            ind_rows,
        )
    )
    school_rows = []
    for r in rows:
        cells: list[Any] = [_name(names, r["school_id"])]
        for cid in columns:
            v = r["values"].get(cid)
            text = f.indicator_value(v, catalogue.get(cid, {}).get("unit"))
            cells.append(f"{text} (риск)" if cid in r.get("at_risk", []) else text)
        school_rows.append(cells)
    s2.tables.append(
        Table(
            "Показатели школ",
            ["Школа"] + [catalogue.get(c, {}).get("name", {}).get("ru", c) for c in columns],
            school_rows,
        )
    )
    for cid in columns[:3]:
        ind = catalogue.get(cid, {})
        s2.charts.append(
            Chart(
                ind.get("name", {}).get("ru", cid),
                [names.get(r["school_id"]) or r["school_id"] for r in rows],
                [r["values"].get(cid) for r in rows],
                (ind.get("threshold") or {}).get("value"),
                f.unit_suffix(ind.get("unit")),
                (ind.get("threshold") or {}).get("risk_if"),
            )
        )
    sections.append(s2)

    # 3. ВПР deficits
    s3 = Section("3. Дефициты по результатам ВПР")
    deficits = vpr.get("deficits", [])
    s3.paragraphs.append(
        f"Задание считается дефицитным, если его выполнили менее чем на "
        f"{f.number(vpr.get('threshold'), 0)} %. Дефицитных заданий: {len(deficits)} из "
        f"{len(vpr.get('tasks', []))}."
    )
    s3.tables.append(
        Table(
            "Дефициты ВПР",
            ["Предмет", "Класс", "Задание", "Выполнение, %", "Участников"],
            [
                [d["subject"], d["grade"], d["task"], f.number(d["rate"]), d["students"]]
                for d in sorted(deficits, key=lambda d: (d["subject"], d["grade"], d["rate"]))
            ],
        )
    )
    by_subject: dict[str, int] = {}
    for d in deficits:
        by_subject[d["subject"]] = by_subject.get(d["subject"], 0) + 1
    if by_subject:
        s3.charts.append(
            Chart(
                "Дефицитные задания ВПР по предметам",
                list(by_subject),
                [float(v) for v in by_subject.values()],
            )
        )
    sections.append(s3)

    # 4. roadmap execution
    s4 = Section("4. Исполнение дорожных карт")
    overdue_rows = []
    for r in roadmaps:
        c = rm.summarise(r["rows"], today, soon_days)
        s4.paragraphs.append(
            f"«{r['title']}»: мероприятий {c['total']}, выполнено {c['done']}, "
            f"просрочено {c['overdue']}, срок в ближайшие {soon_days} дн. — {c['soon']}."
        )
        for row in r["rows"]:
            state, due = rm.urgency(row, today, soon_days)
            if state == "overdue":
                overdue_rows.append(
                    [
                        row.get("number") or row["row_id"],
                        row["activity"],
                        row["deadline"].get("text", ""),
                        f.date(due),
                        "; ".join(row.get("responsible") or []),
                        f.STATUS_RU.get(row["status"], row["status"]),
                    ]
                )
    s4.tables.append(
        Table(
            "Просроченные мероприятия",
            ["№", "Мероприятие", "Срок", "Дата срока", "Ответственные", "Статус"],
            overdue_rows,
        )
    )
    sections.append(s4)

    # 5. effectiveness of measures
    s5 = Section("5. Эффективность принятых мер")
    mrows = []
    for m in measures:
        ev = m.get("evaluation")
        if not ev:
            mrows.append(
                [
                    m["title"],
                    "",
                    "",
                    m["baseline_period"],
                    "—",
                    m["evaluation_period"],
                    "—",
                    "оценка после периода оценки",
                ]
            )
            continue
        for ch in ev.get("changes", []):
            mrows.append(
                [
                    m["title"],
                    _name(names, ch["school_id"]),
                    catalogue.get(ch["indicator_id"], {})
                    .get("name", {})
                    .get("ru", ch["indicator_id"]),
                    ev["baseline_period"],
                    f.number(ch["baseline"]),
                    ev["evaluation_period"],
                    f.number(ch["evaluation"]),
                    f.VERDICT_RU.get(ev["verdict"], ev["verdict"]),
                ]
            )
    s5.tables.append(
        Table(
            "Эффективность мер",
            [
                "Мера",
                "Школа",
                "Показатель",
                "Базовый период",
                "Было",
                "Период оценки",
                "Стало",
                "Вывод",
            ],
            mrows,
        )
    )
    sections.append(s5)

    return Note(
        title=f"Аналитическая справка по результатам мониторинга качества образования: "
        f"{municipality['name']}",
        subtitle=f"Учебный год {period}. Дата формирования {f.date(today)}.",
        sections=sections,
    )
