"""Many rows → many facts' payloads at once, without a model per row (столбцовая проверка).

The same cells, converters and contract rules as :class:`~shkala_ingest.domain.rows.RowBuilder`,
applied per *distinct value* of a column (a million ВПР rows hold a few hundred distinct
schools, subjects, dates and marks): each distinct cell is converted and validated by the
contract field's own pydantic validator once, the verdict spread back over the column, and
the payload of every valid row encoded in one columnar step (polars ``json_encode``, the same
bytes as ``model_dump_json``). Per row remain only what is unique to it: the keyed pseudonym,
the originator id and the content hash.

A row this path is not sure of — any cell whose validated value differs from its converted
one, a cross-field rule not met, a date outside the academic year — is handed back as cells:
the per-row builder then gives it the exact error it gives today (or accepts it).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from typing import Annotated, Any, cast

import numpy as np
import polars as pl
from pydantic import ConfigDict, TypeAdapter, ValidationError

from shkala_contracts.events.assessment import TaskScore
from shkala_contracts.formats import UploadFormat
from shkala_ingest.domain.columns import RULE_FIELDS, FastChunk
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.domain.rows import (
    CONVERTERS,
    PSEUDONYM_TO_RAW,
    Layout,
    RowBuilder,
    _number,
    _text,
    academic_year_bounds,
    normalise_header,
)

_BAD = object()
_NULL = "\ue000null"  # no cell holds it (private use); stands for an empty cell in a key
_JSON_DTYPES = {
    "str": pl.String,
    "date": pl.String,
    "int": pl.Int64,
    "float": pl.Float64,
    "bool": pl.Boolean,
    "list": pl.List(pl.String),
}
TASKS_DTYPE = pl.List(
    pl.Struct({"task": pl.String, "points": pl.Float64, "max_points": pl.Float64})
)


_STRIP = ConfigDict(str_strip_whitespace=True)


class FastBuilder:
    """Builds the payloads of one format's rows, a chunk at a time (see the module doc)."""

    def __init__(self, fmt: UploadFormat, pseudonymiser: Pseudonymiser, layout: Layout) -> None:
        self.fmt = fmt
        self.layout = layout
        self.rb = RowBuilder(fmt, pseudonymiser)
        self.pseudonymiser = pseudonymiser
        fact = fmt.fact
        self.fields = fact.model_fields
        self.family = fact.event_type.rsplit(".", 1)[0]
        self.by_field = {c.field: i for i, c in layout.columns}
        self.adapters = {
            name: TypeAdapter(
                cast(Any, Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation),
                config=_STRIP,
            )
            for name, f in self.fields.items()
        }
        self.key_fields = fact.key_fields
        self.width = 1 + max(
            [i for i, _ in layout.columns] + [t.index for t in layout.tasks], default=0
        )
        self.text_fields = {"school_id", "academic_year", *self.rb.date_fields}
        self.task_adapter = TypeAdapter(TaskScore)
        self.rule_fields = RULE_FIELDS.get(fact, ())
        self.date_fields = self.rb.date_fields if self.rb.has_year else []
        # fixed values (procedure=ВПР) and defaults: validated once
        self.constants: dict[str, tuple[Any, str, str]] = {}
        self.broken = False
        for name, f in self.fields.items():
            if name in self.by_field or (name == "tasks" and fmt.task_columns):
                continue
            if PSEUDONYM_TO_RAW.get(name) in self.by_field:
                continue
            if name in fmt.fixed:
                ok, value, js, text = self._judge(name, fmt.fixed[name])
                if not ok:
                    self.broken = True
                self.constants[name] = (value, js.decode(), text)
            elif f.is_required():
                self.broken = True  # every row lacks it: let the per-row path say so
            else:
                default = f.get_default(call_default_factory=True)
                self.constants[name] = (
                    default,
                    self.adapters[name].dump_json(default).decode(),
                    "" if default is None else str(default),
                )

    # --- one distinct value --------------------------------------------------------

    def _judge(self, name: str, converted: Any) -> tuple[bool, Any, bytes, str]:
        """(valid and kept as is, the validated value, its JSON as ``model_dump_json`` writes
        it, its natural-key text) of one converted value."""
        adapter = self.adapters[name]
        if converted is None:
            f = self.fields[name]
            if f.is_required():
                return False, None, b"", ""
            default = f.get_default(call_default_factory=True)
            return (
                True,
                default,
                adapter.dump_json(default),
                "" if default is None else str(default),
            )
        if isinstance(converted, float) and not math.isfinite(converted):
            return False, None, b"", ""
        try:
            result = adapter.validate_python(converted)
        except ValidationError:
            return False, None, b"", ""
        if isinstance(result, Enum):
            if result.value != converted:
                return False, None, b"", ""
        elif type(result) is not type(converted) or result != converted:
            return False, None, b"", ""
        return True, result, adapter.dump_json(result), str(result)

    def _convert(self, name: str, raw: Any) -> Any:
        v = CONVERTERS[self.rb.kinds.get(name, "str")](raw)
        if v is not None:
            vocabulary = self.rb.vocabularies.get(name)
            if vocabulary is not None and isinstance(v, str):
                v = vocabulary.get(normalise_header(v), v)
        return v

    def _column(self, name: str, cells: Sequence[Any]) -> _Col:
        """One column's cells judged per distinct value."""
        col = _Col(name)
        uniques, col.codes = _codes(cells)
        prefix = f'"{name}":'.encode()
        for raw in uniques:
            ok, value, js, text = self._judge(name, self._convert(name, raw))
            col.add(ok, value, prefix + js if ok else None, text)
        return col

    def _task(self, j: int, cells: Sequence[Any]) -> _Col:
        t = self.layout.tasks[j]
        col = _Col(f"_t{j}")
        uniques, col.codes = _codes(cells)
        for raw in uniques:
            points = _number(raw)
            if points is None:
                col.add(True, None, None, "")  # not done / not applicable
                continue
            if isinstance(points, str | bool) or not math.isfinite(points):
                col.add(False, None, None, "")
                continue
            try:
                score = self.task_adapter.validate_python(
                    {"task": t.task, "points": points, "max_points": t.max_points}
                )
            except ValidationError:
                col.add(False, None, None, "")
                continue
            if score.points != points or not isinstance(points, float):
                col.add(False, None, None, "")
                continue
            col.add(True, score, self.task_adapter.dump_json(score), "")
        return col

    # --- a chunk -------------------------------------------------------------------

    def build(self, rows: Sequence[tuple[int, list[Any]]]) -> FastChunk:
        numbers = [r for r, _ in rows]
        cells = [c for _, c in rows]
        n = len(cells)
        width = self.width
        columns = (
            list(
                zip(
                    *(c if len(c) >= width else [*c, *[None] * (width - len(c))] for c in cells),
                    strict=False,
                )
            )
            if n
            else []
        )
        if self.broken or n == 0:
            return FastChunk(numbers, dict(enumerate(cells)), [], [], [], [], [])
        ok = np.ones(n, dtype=bool)
        cols: dict[str, Any] = {}
        frags: list[pl.Series | str] = []
        texts: dict[str, pl.Series] = {}
        for name in self.fields:
            if name == "tasks" and self.fmt.task_columns:
                tasks = [self._task(j, columns[t.index]) for j, t in enumerate(self.layout.tasks)]
                for t in tasks:
                    ok &= t.mask()
                parts = [t.fragments() for t in tasks]
                cols[name] = _TaskCols(tasks)
                inner = (
                    _eval(
                        pl.concat_str([pl.lit(p) for p in parts], separator=",", ignore_nulls=True)
                    )
                    if parts
                    else pl.Series([""] * n, dtype=pl.String)
                )
                frags.append(
                    _eval(pl.concat_str([pl.lit('"tasks":['), pl.lit(inner), pl.lit("]")]))
                )
                continue
            raw_name = PSEUDONYM_TO_RAW.get(name)
            if raw_name is not None and raw_name in self.by_field:
                at = self.by_field[raw_name]
                ids = [(v.strip() or None) if v.__class__ is str else _text(v) for v in columns[at]]
                if self.fields[name].is_required():
                    ok &= np.fromiter((i is not None for i in ids), dtype=bool, count=n)
                names = self.pseudonymiser.pseudonyms(raw_name, ids)
                series = pl.Series(names, dtype=pl.String)
                cols[name] = _Plain(names)
                frags.append(
                    _eval(
                        pl.concat_str(
                            [pl.lit(f'"{name}":"'), pl.lit(series), pl.lit('"')]
                        ).fill_null(f'"{name}":null')
                    )
                )
                texts[name] = series.fill_null("")
                continue
            col_at = self.by_field.get(name)
            if col_at is None:
                value, js, text = self.constants[name]
                cols[name] = _Const(value)
                frags.append(f'"{name}":{js}')
                texts[name] = pl.Series([text] * n, dtype=pl.String)
                continue
            col = self._column(name, columns[col_at])
            cols[name] = col
            ok &= col.mask()
            frags.append(col.fragments())
            if name in self.key_fields or name in self.text_fields:
                texts[name] = col.texts()
        if self.rule_fields:
            ok &= self._rules(cols, ok)
        if self.date_fields:
            ok &= self._within_year(texts)
        fast = np.flatnonzero(ok)
        slow = {int(i): cells[i] for i in np.flatnonzero(~ok)}
        if not len(fast):
            return FastChunk(numbers, slow, [], [], [], [], [])
        pick = pl.Series(fast)
        body_exprs = [pl.lit(f) if isinstance(f, str) else pl.lit(f.gather(pick)) for f in frags]
        frame = pl.select(
            pl.concat_str(
                [pl.lit("{"), pl.concat_str(body_exprs, separator=","), pl.lit("}")]
            ).alias("body"),
            pl.concat_str(
                [pl.lit(texts[f].gather(pick)) for f in self.key_fields], separator="\x1f"
            ).alias("key"),
        )
        bodies = [b.encode() for b in frame["body"].to_list()]
        sha, fam = hashlib.sha256, self.family
        oids = [f"{fam}:{sha(k.encode()).hexdigest()[:32]}" for k in frame["key"].to_list()]
        blake = hashlib.blake2b
        hashes = [blake(b, digest_size=12).hexdigest() for b in bodies]
        school = texts["school_id"].gather(pick).to_list()
        year = (
            texts["academic_year"].gather(pick).to_list()
            if "academic_year" in texts
            else [None] * len(fast)
        )
        return FastChunk(numbers, slow, school, year, oids, hashes, bodies)

    def _rules(self, cols: dict[str, Any], ok: np.ndarray) -> np.ndarray:
        """The fact's cross-field rule, checked on one row of each distinct combination of
        the fields it reads (the other fields are valid by then)."""
        n = len(ok)
        combo = np.zeros(n, dtype=np.int64)
        for name in self.rule_fields:
            c = cols[name]
            if isinstance(c, _Col):
                combo = combo * (len(c.values) + 1) + c.codes
        passed = np.zeros(n, dtype=bool)
        verdicts: dict[int, bool] = {}
        uniq, first = np.unique(combo[ok], return_index=True)
        rows = np.flatnonzero(ok)
        for h, at in zip(uniq.tolist(), first.tolist(), strict=True):
            i = int(rows[at])
            try:
                self.fmt.fact.model_validate({k: c.value(i) for k, c in cols.items()})
                verdicts[h] = True
            except ValidationError:
                verdicts[h] = False
        good = np.array([h for h, v in verdicts.items() if v], dtype=np.int64)
        passed[ok] = np.isin(combo[ok], good)
        return passed

    def _within_year(self, texts: dict[str, pl.Series]) -> np.ndarray:
        years = texts["academic_year"]
        n = len(years)
        bounds: dict[str, tuple[str, str]] = {}
        for y in years.unique().to_list():
            try:
                lo, hi = academic_year_bounds(y)
            except (ValueError, TypeError):
                continue
            bounds[y] = (lo.isoformat(), hi.isoformat())
        if not bounds:
            return np.ones(n, dtype=bool)
        keys = list(bounds)
        lo_s = years.replace_strict(
            keys, [v[0] for v in bounds.values()], default="9999", return_dtype=pl.String
        )
        hi_s = years.replace_strict(
            keys, [v[1] for v in bounds.values()], default="0000", return_dtype=pl.String
        )
        ok = np.ones(n, dtype=bool)
        for name in self.date_fields:
            d = texts[name]
            inside = ((d == "") | ((d >= lo_s) & (d <= hi_s))).fill_null(True)
            ok &= inside.to_numpy()
        return ok


def _codes(cells: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """The distinct cells of a column and, per cell, the index of its value among them."""
    try:
        s = pl.Series(cells, dtype=pl.String, strict=True)
    except (TypeError, pl.exceptions.PolarsError):
        s = None
    if s is not None:  # text cells (CSV): counted in polars
        u = s.drop_nulls().unique(maintain_order=True)
        codes = s.replace_strict(u, pl.int_range(len(u), eager=True), return_dtype=pl.Int64)
        return [*u.to_list(), None], codes.fill_null(len(u)).to_numpy()
    index: dict[Any, int] = {}
    setdefault = index.setdefault
    keys = [x if x.__class__ is str else (x.__class__, x) for x in cells]
    codes_list = [setdefault(k, len(index)) for k in keys]
    uniques = [k if k.__class__ is str else k[1] for k in index]
    return uniques, np.asarray(codes_list, dtype=np.int64)


def _eval(expr: pl.Expr) -> pl.Series:
    return pl.select(expr).to_series()


class _Col:
    """One column judged per distinct value: ``codes`` index the tables."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.oks: list[bool] = []
        self.values: list[Any] = []
        self.json: list[str | None] = []
        self.text: list[str] = []
        self.codes: np.ndarray = np.empty(0, dtype=np.int64)

    def add(self, ok: bool, value: Any, js: bytes | None, text: str) -> None:
        self.oks.append(ok)
        self.values.append(value)
        self.json.append(None if js is None else js.decode())
        self.text.append(text)

    def mask(self) -> np.ndarray:
        return np.asarray(self.oks, dtype=bool)[self.codes]

    def fragments(self) -> pl.Series:
        return pl.Series(self.json, dtype=pl.String).gather(self.codes)

    def texts(self) -> pl.Series:
        return pl.Series(self.text, dtype=pl.String).gather(self.codes)

    def value(self, i: int) -> Any:
        return self.values[self.codes[i]]


class _TaskCols:
    def __init__(self, tasks: list[_Col]) -> None:
        self.tasks = tasks

    def value(self, i: int) -> Any:
        return [v for t in self.tasks if (v := t.value(i)) is not None]


class _Plain:
    def __init__(self, values: list[Any]) -> None:
        self.values = values

    def value(self, i: int) -> Any:
        return self.values[i]


class _Const:
    def __init__(self, value: Any) -> None:
        self.v = value

    def value(self, i: int) -> Any:
        return self.v


def built_chunks(
    kind: str,
    key: bytes,
    head: Sequence[tuple[int, list[Any]]],
    at: int,
    rows: Iterable[tuple[int, list[Any]]],
    size: int,
) -> Iterator[FastChunk]:
    """The data rows of a file whose header is ``head[at]``, built ``size`` rows at a time
    (blank rows left out)."""
    from shkala_contracts.formats import FORMATS
    from shkala_ingest.domain.rows import match_headers
    from shkala_ingest.domain.tables import blank

    fmt = FORMATS[kind]
    layout, _ = match_headers(fmt, head[at][1])
    builder = FastBuilder(fmt, Pseudonymiser(key), layout)
    batch: list[tuple[int, list[Any]]] = []
    for row in itertools.chain(head[at + 1 :], rows):
        cells = row[1]
        first = cells[0] if cells else None
        if not (first.__class__ is str and first.strip()) and blank(cells):
            continue
        batch.append(row)
        if len(batch) >= size:
            yield builder.build(batch)
            batch = []
    if batch:
        yield builder.build(batch)
