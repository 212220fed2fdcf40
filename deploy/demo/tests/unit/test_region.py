"""The generated region: sizes, determinism, validity against the facts, the designed schools."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from shkala_contracts.formats import FORMATS, PERSONAL_IDS, TASK_HEADER_RE
from shkala_demo import generate
from shkala_demo.region import (
    EGE_MINIMUM,
    KINDS,
    TINY,
    Region,
    RegionSpec,
    build_region,
    rows,
    write_region,
)


def pseudonym(raw: str) -> str:
    return "p" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def as_fact_input(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """What ingest would build: raw ids → pseudonyms, the format's fixed fields, no extras."""
    fmt = FORMATS[kind]
    data = dict(fmt.fixed)
    for name, value in row.items():
        if name in PERSONAL_IDS:
            data[PERSONAL_IDS[name]] = pseudonym(value)
        elif name not in fmt.extra_fields:
            data[name] = value
    return data


def test_every_format_kind_has_rows(tiny: Region) -> None:
    assert set(KINDS) == set(FORMATS)
    for kind in KINDS:
        assert next(rows(tiny, kind), None) is not None, kind


@pytest.mark.parametrize("kind", list(FORMATS))
def test_every_row_validates_against_its_fact(tiny: Region, kind: str) -> None:
    fmt = FORMATS[kind]
    allowed = {c.field for c in fmt.columns} | ({"tasks"} if fmt.task_columns else set())
    keys: set[tuple[str, ...]] = set()
    n = 0
    for row in rows(tiny, kind):
        assert set(row) <= allowed, set(row) - allowed
        json.dumps(row)  # JSON-API rows are plain JSON
        fact = fmt.fact.model_validate(as_fact_input(kind, row))
        if "academic_year" in row:  # every date lies in its academic year (01.09-31.08)
            first = int(row["academic_year"][:4])
            for name, value in fact:
                if isinstance(value, dt.date):
                    assert dt.date(first, 9, 1) <= value <= dt.date(first + 1, 8, 31), name
        # the natural key is unique: a repeated key would be a correction, not a new fact
        key = fact.natural_key()
        if kind != "org-units":
            assert key not in keys, key
        keys.add(key)
        n += 1
    assert n > 0


def test_sizes_match_the_spec() -> None:
    spec = RegionSpec(seed=11, municipalities=3, schools=20, students=3000)
    region = build_region(spec)
    assert len(region.municipalities) == 3
    assert len(region.schools) == 20
    units = list(rows(region, "org-units"))
    assert len(units) == 20
    assert len({u["municipality_id"] for u in units}) == 3
    latest = spec.years[-1]
    context = [r for r in rows(region, "school-context") if r["academic_year"] == latest]
    assert sum(r["students_total"] for r in context) == 3000
    assert {r["academic_year"] for r in rows(region, "vpr")} == set(spec.years)
    assert {r["academic_year"] for r in rows(region, "attendance")} == set(spec.years)
    ids = {st.id for s in region.schools for st in s.students}
    assert all(i.startswith("S-") and i[2:].isdigit() for i in ids)
    teachers = {t.id for s in region.schools for t in s.teachers}
    assert all(t.startswith("T-") for t in teachers)


def test_tiny_preset(tiny: Region) -> None:
    assert (len(tiny.municipalities), len(tiny.schools)) == (2, 8)
    assert sum(s.enrolled(len(tiny.years) - 1) for s in tiny.schools) == TINY.students
    designed = [
        tiny.designed_low_results,
        tiny.designed_poor_context,
        tiny.designed_nonobjective_journal,
        tiny.designed_nonobjective_vpr,
    ]
    assert all(len(d) == 1 for d in designed)
    assert len(set().union(*designed)) == 4  # disjoint


def test_same_seed_same_bytes(tmp_path: Path, tiny: Region) -> None:
    a = write_region(tiny, tmp_path / "a")
    b = write_region(build_region(TINY), tmp_path / "b")
    assert [w.path.name for w in a] == [f"{k}.csv" for k in KINDS]
    for wa, wb in zip(a, b, strict=True):
        assert wa.path.read_bytes() == wb.path.read_bytes(), wa.kind
        assert wa.rows == wb.rows
    other = write_region(
        build_region(RegionSpec(seed=8, municipalities=2, schools=8, students=400)),
        tmp_path / "c",
        kinds=["vpr"],
    )
    assert other[0].path.read_bytes() != (tmp_path / "a" / "vpr.csv").read_bytes()


def test_a_file_does_not_depend_on_the_others(tmp_path: Path, tiny: Region) -> None:
    write_region(tiny, tmp_path / "all")
    write_region(tiny, tmp_path / "one", kinds=["attendance"])
    assert (tmp_path / "one" / "attendance.csv").read_bytes() == (
        tmp_path / "all" / "attendance.csv"
    ).read_bytes()


def read_csv(path: Path, encoding: str = "cp1251") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.reader(f, delimiter=";"))


def test_csv_is_cp1251_with_semicolons_and_the_format_headers(tmp_path: Path, tiny: Region) -> None:
    written = write_region(tiny, tmp_path)
    for w in written:
        raw = w.path.read_bytes()
        text = raw.decode("cp1251")
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")  # Cyrillic headers: cp1251 bytes are not valid UTF-8
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        fmt = FORMATS[w.kind]
        head = table[0]
        assert head[: len(fmt.columns)] == [c.header for c in fmt.columns]
        for extra in head[len(fmt.columns) :]:
            assert fmt.task_columns, extra
            assert TASK_HEADER_RE.match(extra), extra
        assert len(table) - 1 == w.rows == sum(1 for _ in rows(tiny, w.kind))
        assert all(len(r) == len(head) for r in table)


def test_vpr_cells_round_trip(tmp_path: Path, tiny: Region) -> None:
    (w,) = write_region(tiny, tmp_path, kinds=["vpr"], encoding="utf-8")
    table = read_csv(w.path, encoding="utf-8")
    head, body = table[0], table[1:]
    tasks = {i: TASK_HEADER_RE.match(h) for i, h in enumerate(head)}
    for cells, row in zip(body, rows(tiny, "vpr"), strict=True):
        got = [
            {"task": m["task"], "points": int(cells[i]), "max_points": int(m["max"])}
            for i, m in tasks.items()
            if m and cells[i] != ""
        ]
        assert sorted(got, key=str) == sorted(row["tasks"], key=str)
        assert sum(t["points"] for t in got) == int(cells[head.index("Первичный балл")])
        assert cells[head.index("Код участника")] == row["student_id"]
        y, m, d = row["held_on"].split("-")
        assert cells[head.index("Дата")] == f"{d}.{m}.{y}"
        assert cells[head.index("Общественное наблюдение")] in ("да", "нет")


def test_xlsx(tmp_path: Path, tiny: Region) -> None:
    from openpyxl import load_workbook

    written = write_region(tiny, tmp_path / "a", "xlsx")
    again = write_region(tiny, tmp_path / "b", "xlsx", kinds=["vpr"])
    assert again[0].path.read_bytes() == written[1].path.read_bytes()
    for w in written:
        for read_only in (True, False):
            ws = load_workbook(w.path, read_only=read_only).worksheets[0]
            table = list(ws.iter_rows(values_only=True))
            assert list(table[0][: len(FORMATS[w.kind].columns)]) == [
                c.header for c in FORMATS[w.kind].columns
            ]
            assert len(table) - 1 == w.rows
    ws = load_workbook(written[1].path).worksheets[0]
    head = [c.value for c in ws[1]]
    first = dict(zip(head, [c.value for c in ws[2]], strict=True))
    row = next(rows(tiny, "vpr"))
    assert first["Код участника"] == row["student_id"]
    assert first["Отметка"] == row["mark"]  # numbers stay numbers
    assert first["Общественное наблюдение"] == ("да" if row["public_observer"] else "нет")


def share(counter: Counter[str], key: str) -> float:
    return counter[key] / max(1, counter["n"])


def vpr_by_group(region: Region) -> dict[str, Counter[str]]:
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows(region, "vpr"):
        sid = row["school_id"]
        group = (
            "low"
            if sid in region.designed_low_results
            else "journal"
            if sid in region.designed_nonobjective_journal
            else "vpr"
            if sid in region.designed_nonobjective_vpr
            else "rest"
        )
        c = groups[group]
        if row["subject"] in ("математика", "русский язык"):
            c["n"] += 1
            c["two"] += row["mark"] == 2
            c["lowered"] += row["mark"] < row["journal_mark"]
            c["raised"] += row["mark"] > row["journal_mark"]
            c["observed"] += row["public_observer"]
    return groups


@pytest.fixture(scope="module")
def small_region() -> Region:
    return build_region(RegionSpec(seed=3, municipalities=4, schools=60, students=12_000))


def test_designed_low_results_have_more_marks_2(tiny: Region, small_region: Region) -> None:
    for region in (tiny, small_region):
        g = vpr_by_group(region)
        rest = g["rest"] + g["journal"] + g["vpr"]
        assert share(g["low"], "two") > 2 * share(rest, "two"), (g["low"], rest)


def test_designed_low_results_fail_gia(small_region: Region) -> None:
    low = small_region.designed_low_results
    c: dict[bool, Counter[str]] = defaultdict(Counter)
    for row in rows(small_region, "gia"):
        if row["procedure"] == "ЕГЭ" and row["subject"] == "русский язык":
            x = c[row["school_id"] in low]
            x["n"] += 1
            x["below"] += row["test_score"] < EGE_MINIMUM["русский язык"]
            x["high"] += row["test_score"] >= 81
    assert share(c[True], "below") > 3 * share(c[False], "below")
    assert share(c[True], "high") < share(c[False], "high") / 3


def test_designed_nonobjective_schools_show_it(small_region: Region) -> None:
    g = vpr_by_group(small_region)
    rest = g["rest"] + g["low"]
    assert share(g["journal"], "lowered") > 2 * share(rest, "lowered")
    assert share(g["vpr"], "raised") > 2 * share(rest, "raised")
    assert g["vpr"]["observed"] == 0 < g["rest"]["observed"]


def test_designed_poor_context(small_region: Region) -> None:
    poor = small_region.designed_poor_context
    flagged: dict[bool, list[float]] = defaultdict(list)
    for row in rows(small_region, "school-context"):
        flags = row["remote"] + row["small_school"] + row["infrastructure_deficit"]
        rate = row["on_juvenile_register"] / max(1, row["students_total"])
        flagged[row["school_id"] in poor].append(flags + 10 * rate)
    mean = {k: sum(v) / len(v) for k, v in flagged.items()}
    assert mean[True] > mean[False] + 1
    unexcused = Counter(
        r["student_id"] for r in rows(small_region, "attendance") if r["reason"] == "неуважительная"
    )
    systematic = {sid for sid, months in unexcused.items() if months >= 12}
    assert systematic <= small_region.systematic_absentees
    assert len(systematic) > 0.8 * len(small_region.systematic_absentees)


def test_one_school_has_accreditation_suspended(tiny: Region) -> None:
    suspended = {
        r["school_id"] for r in rows(tiny, "school-context") if r["accreditation"] != "действует"
    }
    assert suspended == tiny.designed_accreditation_suspended
    assert suspended <= tiny.designed_low_results


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        generate.main(["--tiny", "--out", str(tmp_path), "--metadata", str(tmp_path / "m.json")])
        == 0
    )
    out = capsys.readouterr().out
    assert "vpr.csv" in out
    assert "rows" in out
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == sorted(f"{k}.csv" for k in KINDS)
    meta = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert meta["designed_low_results"] == sorted(build_region(TINY).designed_low_results)
