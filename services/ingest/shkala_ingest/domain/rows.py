"""From one row of an upload to one fact: cells converted, ids pseudonymised, model validated.

Cells arrive as officials type them: decimal comma, ``dd.mm.yyyy`` dates, ``да``/``нет``.
Every problem becomes a :class:`RowError` naming the row, the column header, the value and
the reason. Values of personal-id columns are never echoed (they would end up in import
records), only the fact that they are wrong.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import ValidationError

from shkala_contracts.base import Fact
from shkala_contracts.formats import (
    PERSONAL_IDS,
    TASK_HEADER_RE,
    Column,
    UploadFormat,
    normalise_header,
)
from shkala_ingest.domain.errors import ImportRejected
from shkala_ingest.domain.pseudonyms import Pseudonymiser

REDACTED = "<personal id: not shown>"
PSEUDONYM_TO_RAW = {v: k for k, v in PERSONAL_IDS.items()}


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str | None
    value: Any
    reason: str
    code: str = "invalid"
    """``invalid`` (bad value), ``unregistered`` (unknown school), ``forbidden`` (tenant),
    ``duplicate`` (same natural key twice in one upload)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
            "code": self.code,
        }


class LayoutError(ValueError):
    """The header row does not fit the format (missing or duplicated columns)."""

    def __init__(self, problems: list[str], missing: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.missing = missing


# --- cell conversion -------------------------------------------------------------------

TRUE = {"да", "д", "yes", "y", "true", "1", "+", "истина", "есть"}
FALSE = {"нет", "н", "no", "n", "false", "0", "-", "ложь"}


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def field_kind(annotation: Any) -> str:
    a = _unwrap(annotation)
    if a is bool:
        return "bool"
    if a is dt.date:
        return "date"
    if a is int:
        return "int"
    if a is float:
        return "float"
    if a is tuple or get_origin(a) is tuple:
        return "list"
    return "str"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    s = str(value).strip()
    return s or None


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value
    s = _text(value)
    if s is None:
        return None
    s = s.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return s  # the model names the problem


def _int(value: Any) -> Any:
    n = _number(value)
    return int(n) if isinstance(n, float) and n.is_integer() else n


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else value
    s = _text(value)
    if s is None:
        return None
    low = s.lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    return s


def parse_date(s: str) -> dt.date | None:
    s = s.strip()
    try:
        if len(s) >= 10 and s[2] == "." and s[5] == ".":
            return dt.date(int(s[6:10]), int(s[3:5]), int(s[0:2]))
        if len(s) == 8 and s[2] == "." and s[5] == ".":  # dd.mm.yy
            return dt.date(2000 + int(s[6:8]), int(s[3:5]), int(s[0:2]))
        if len(s) >= 10 and s[4] == "-" and s[7] == "-":
            return dt.date.fromisoformat(s[:10])
    except ValueError:
        return None
    return None


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = _text(value)
    if s is None:
        return None
    parsed = parse_date(s)
    return parsed if parsed is not None else s


def _list(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(value)
    s = _text(value)
    if s is None:
        return None
    return tuple(p.strip() for p in s.replace("\n", ";").split(";") if p.strip())


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": _text,
    "int": _int,
    "float": _number,
    "bool": _bool,
    "date": _date,
    "list": _list,
}


def academic_year_bounds(year: str) -> tuple[dt.date, dt.date]:
    start = int(year[:4])
    return dt.date(start, 9, 1), dt.date(start + 1, 8, 31)


# --- the header row --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskColumn:
    index: int
    task: str
    max_points: float
    header: str


@dataclass
class Layout:
    """Which cell of a row feeds which field."""

    columns: list[tuple[int, Column]]
    tasks: list[TaskColumn]
    ignored: list[str]

    @property
    def headers(self) -> dict[str, str]:
        return {c.field: c.header for _, c in self.columns}


def match_headers(fmt: UploadFormat, headers: Sequence[Any]) -> tuple[Layout, list[str]]:
    """The layout of a header row and the problems with it (missing/duplicate columns)."""
    columns: list[tuple[int, Column]] = []
    tasks: list[TaskColumn] = []
    ignored: list[str] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(headers):
        text = _text(raw)
        if text is None:
            continue
        col = fmt.column(text)
        if col is not None:
            if col.field in seen:
                problems.append(f"column {text!r} given twice (also as {seen[col.field]!r})")
                continue
            seen[col.field] = text
            columns.append((i, col))
            continue
        if fmt.task_columns:
            m = TASK_HEADER_RE.match(" ".join(text.split()))
            if m is None:
                m = TASK_HEADER_RE.match(normalise_header(text).capitalize())
            if m is not None:
                tasks.append(TaskColumn(i, m["task"], float(m["max"].replace(",", ".")), text))
                continue
        ignored.append(text)
    missing = [c.header for c in fmt.columns if c.required and c.field not in seen]
    if missing:
        problems.append("required column(s) missing: " + ", ".join(missing))
    return Layout(columns, tasks, ignored), missing


def score_header(fmt: UploadFormat, cells: Sequence[Any]) -> int:
    return sum(1 for c in cells if (t := _text(c)) is not None and fmt.column(t) is not None)


def find_header(fmt: UploadFormat, head: Sequence[tuple[int, Sequence[Any]]]) -> tuple[int, Layout]:
    """The header among a file's first rows (exports carry title lines above it): the row
    naming most of the format's columns. Its index in ``head`` and its layout; refuses a
    file without rows or whose header lacks required columns (:class:`ImportRejected`)."""
    if not head:
        raise ImportRejected("empty-file", "the file has no rows; nothing was published")
    scores = [score_header(fmt, cells) for _, cells in head]
    at = scores.index(max(scores))
    header_row, header_cells = head[at]
    layout, missing = match_headers(fmt, header_cells)
    if missing or not layout.columns:
        raise ImportRejected(
            "upload-layout",
            f"the header row ({header_row}) lacks required columns of {fmt.kind!r}; "
            f"download /formats/{fmt.kind}/template.csv",
            errors=[
                {
                    "row": header_row,
                    "column": h,
                    "value": None,
                    "reason": "required column missing",
                }
                for h in missing
            ],
            total_errors=len(missing),
            expected_columns=[c.header for c in fmt.columns],
        )
    return at, layout


# --- one row → one fact ----------------------------------------------------------------


@dataclass
class Built:
    row: int
    fact: Fact | None
    extras: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


class RowBuilder:
    """Builds the facts of one format; the same builder serves files and JSON batches."""

    def __init__(self, fmt: UploadFormat, pseudonymiser: Pseudonymiser) -> None:
        self.fmt = fmt
        self.pseudonymiser = pseudonymiser
        model_fields = fmt.fact.model_fields
        self.kinds = {
            c.field: (
                "str"
                if c.field not in model_fields
                else field_kind(model_fields[c.field].annotation)
            )
            for c in fmt.columns
        }
        self.date_fields = [
            n for n, f in model_fields.items() if field_kind(f.annotation) == "date"
        ]
        self.has_year = "academic_year" in model_fields
        # vocabularies match as headers do: "Неуважительная", "впр", "ПРИЗЁР"
        self.vocabularies: dict[str, dict[str, str]] = {}
        for name, f in model_fields.items():
            enum = _unwrap(f.annotation)
            if isinstance(enum, type) and issubclass(enum, Enum):
                self.vocabularies[name] = {normalise_header(str(m.value)): m.value for m in enum}
        self.known_fields = {c.field for c in fmt.columns} | (
            {"tasks"} if fmt.task_columns else set()
        )

    def from_cells(self, row: int, cells: Sequence[Any], layout: Layout) -> Built:
        data: dict[str, Any] = {}
        width = len(cells)
        for i, col in layout.columns:
            if i < width:
                data[col.field] = cells[i]
        tasks: list[tuple[str, float, Any, str]] = []
        for t in layout.tasks:
            v = cells[t.index] if t.index < width else None
            tasks.append((t.task, t.max_points, v, t.header))
        return self._build(row, data, tasks, None, layout.headers)

    def from_json(self, row: int, item: Mapping[str, Any]) -> Built:
        unknown = [k for k in item if k not in self.known_fields]
        if unknown:
            return Built(
                row,
                None,
                errors=[
                    RowError(
                        row, k, None, f"unknown field; expected one of {sorted(self.known_fields)}"
                    )
                    for k in unknown
                ],
            )
        data = {k: v for k, v in item.items() if k != "tasks"}
        return self._build(row, data, [], item.get("tasks"), {f: f for f in self.known_fields})

    def _build(
        self,
        row: int,
        data: dict[str, Any],
        tasks: list[tuple[str, float, Any, str]],
        json_tasks: Any,
        headers: dict[str, str],
    ) -> Built:
        fmt = self.fmt
        values: dict[str, Any] = dict(fmt.fixed)
        extras: dict[str, Any] = {}
        errors: list[RowError] = []
        for name, raw in data.items():
            if name in PERSONAL_IDS:
                s = _text(raw)
                if s is not None:
                    values[PERSONAL_IDS[name]] = self.pseudonymiser.pseudonym(name, s)
            elif name in fmt.extra_fields:
                extras[name] = _text(raw)
            else:
                v = CONVERTERS[self.kinds.get(name, "str")](raw)
                if v is not None:
                    vocabulary = self.vocabularies.get(name)
                    if vocabulary is not None and isinstance(v, str):
                        v = vocabulary.get(normalise_header(v), v)
                    values[name] = v
        task_headers: list[str] = []
        if tasks:
            scores = []
            for task, max_points, raw, header in tasks:
                points = _number(raw)
                if points is None:
                    continue  # task not done / not applicable
                if isinstance(points, str):
                    errors.append(RowError(row, header, _short(raw), "points must be a number"))
                    continue
                scores.append({"task": task, "points": points, "max_points": max_points})
                task_headers.append(header)
            values["tasks"] = scores
        elif json_tasks is not None:
            values["tasks"] = json_tasks
        for name in fmt.extra_fields:
            if not extras.get(name) and any(c.field == name and c.required for c in fmt.columns):
                errors.append(RowError(row, headers.get(name, name), None, "required"))
        try:
            fact = fmt.fact.model_validate(values)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                errors.append(self._error(row, err, data, headers, task_headers))
            return Built(row, None, extras, errors)
        if errors:
            return Built(row, None, extras, errors)
        if self.has_year and self.date_fields:
            start, end = academic_year_bounds(fact.academic_year)  # type: ignore[attr-defined]
            for name in self.date_fields:
                d = getattr(fact, name)
                if d is not None and not (start <= d <= end):
                    errors.append(
                        RowError(
                            row,
                            headers.get(name, name),
                            d.strftime("%d.%m.%Y"),
                            f"date outside academic year {fact.academic_year} "  # type: ignore[attr-defined]
                            f"({start:%d.%m.%Y}-{end:%d.%m.%Y})",
                        )
                    )
            if errors:
                return Built(row, None, extras, errors)
        return Built(row, fact, extras)

    def _mentioned(self, reason: str) -> str | None:
        fields = self.fmt.fact.model_fields
        for word in _WORD.findall(reason):
            if word in fields and word not in self.fmt.fixed:
                return word
        return None

    def _error(
        self,
        row: int,
        err: Any,
        data: dict[str, Any],
        headers: dict[str, str],
        task_headers: list[str],
    ) -> RowError:
        loc = err.get("loc") or ()
        reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if not loc:
            # a rule across fields ("ЕГЭ needs test_score"): name the field it mentions
            named = self._mentioned(reason)
            if named is None:
                return RowError(row, None, None, reason)
            raw_name = PSEUDONYM_TO_RAW.get(named, named)
            value = REDACTED if raw_name in PERSONAL_IDS else _short(data.get(named))
            return RowError(
                row, headers.get(raw_name) or headers.get(named) or named, value, reason
            )
        name = str(loc[0])
        if (
            name == "tasks"
            and len(loc) > 1
            and isinstance(loc[1], int)
            and loc[1] < len(task_headers)
        ):
            header = task_headers[loc[1]]
            return RowError(row, header, None, reason)
        raw_name = PSEUDONYM_TO_RAW.get(name, name)
        header = headers.get(raw_name) or headers.get(name) or raw_name
        if raw_name in PERSONAL_IDS:
            value = REDACTED if _text(data.get(raw_name)) else None
        else:
            value = _short(data.get(name))
        if err.get("type") == "missing":
            reason = "required" if name not in self.fmt.fixed else reason
        return RowError(row, header, value, reason)


_WORD = re.compile(r"[a-z_]+")


def _short(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > 100:
        return value[:100] + "…"
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)[:100]
