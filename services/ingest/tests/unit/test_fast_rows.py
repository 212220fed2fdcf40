"""Rows built by columns give exactly what the per-row builder gives: the same payload bytes,
content hash and originator id for every valid row, and every doubtful row handed back to
the per-row builder (which then names its error)."""

from __future__ import annotations

import random

import numpy as np

from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.formats import FORMATS
from shkala_ingest.domain.columns import supports
from shkala_ingest.domain.fast_rows import FastBuilder
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.domain.rows import RowBuilder, find_header
from shkala_ingest.service_layer.validation import SeenKeys, content_of

KEY = b"unit-test-pseudonym-key-0123456789"

VPR_HEADER = [
    "Код ОО", "Учебный год", "Предмет", "Параллель", "Класс", "Код участника", "Дата",
    "Первичный балл", "Отметка", "Отметка по журналу", "Общественное наблюдение", "ФИО",
    "Задание 1 (макс 1)", "Задание 2 (макс 2)", "Задание 3 (макс 1,5)",
]  # fmt: skip


def _cell(rng: random.Random, good: list[str], bad: list[str]) -> str:
    return rng.choice(bad) if rng.random() < 0.03 else rng.choice(good)


def vpr_rows(n: int, seed: int = 7) -> list[tuple[int, list[object]]]:
    rng = random.Random(seed)
    rows: list[tuple[int, list[object]]] = [(1, list(VPR_HEADER))]
    for i in range(n):
        cells: list[object] = [
            _cell(rng, ["sch-1", "sch-2", " sch-3 "], ["", "бад школа", "x" * 70]),
            _cell(rng, ["2025/26", "2025/26 "], ["2025/27", "25/26", ""]),
            _cell(rng, ["математика", "Русский язык", "история"], ["", "я" * 70]),
            _cell(rng, ["5", "6", "7,0", " 8 "], ["12", "0", "пять", "5,5"]),
            _cell(rng, ["5А", "", "6Б"], ["очень длинный класс"]),
            _cell(rng, [f"{i}", f" id-{i} "], [""]) if i % 50 else f"{i}",
            _cell(rng, ["15.04.2026", "", "2026-04-16", "01.09.25"], ["31.08.2025", "32.13.2026"]),
            _cell(rng, ["9", "3,5", "", "0", "12.25"], ["-1", "abc", "nan"]),
            _cell(rng, ["2", "3", "4", "5", "4.0"], ["", "1", "6", "отл"]),
            _cell(rng, ["", "3", "5"], ["7"]),
            _cell(rng, ["да", "нет", "", "Да", "1", "0"], ["может быть"]),
            "Иванов Иван",
            _cell(rng, ["0", "1", ""], ["2", "x"]),
            _cell(rng, ["0", "1", "2", "1,5", ""], ["3"]),
            _cell(rng, ["0", "1,5", "0.5"], ["-0,5", "inf"]),
        ]
        if rng.random() < 0.02:
            cells = cells[: rng.randint(3, 10)]  # a short row
        rows.append((i + 2, cells))
    if n > 10:  # one row repeated exactly, and a cell of another type (XLSX numbers)
        rows[5] = (rows[5][0], list(rows[4][1]))
        rows[7] = (rows[7][0], [*rows[7][1][:3], 5.0, *rows[7][1][4:]])
    return rows


def _compare(kind: str, rows: list[tuple[int, list[object]]]) -> tuple[int, int]:
    fmt = FORMATS[kind]
    pseudo = Pseudonymiser(KEY)
    at, layout = find_header(fmt, rows[:20])
    data = rows[at + 1 :]
    chunk = FastBuilder(fmt, pseudo, layout).build(data)
    builder = RowBuilder(fmt, pseudo)
    j = fast = 0
    for pos, (row, cells) in enumerate(data):
        built = builder.from_cells(row, cells, layout)
        if pos in chunk.slow:
            continue  # the per-row builder decides it, as before
        fast += 1
        assert built.fact is not None, (row, built.errors)
        body, h = content_of(built.fact)
        assert chunk.rows[pos] == row
        assert chunk.body[j] == body, row
        assert chunk.hash[j] == h
        assert chunk.oid[j] == built.fact.originator_id()
        assert chunk.school[j] == built.fact.school_id  # type: ignore[attr-defined]
        assert chunk.year[j] == built.fact.academic_year  # type: ignore[attr-defined]
        j += 1
    return fast, len(chunk.slow)


def test_vpr_rows_built_by_columns_are_byte_for_byte_the_per_row_facts() -> None:
    assert supports(FORMATS["vpr"])
    fast, slow = _compare("vpr", vpr_rows(3000))
    assert fast > 1500  # most rows took the columnar path
    assert slow > 100  # the broken ones did not


def test_payloads_validate_against_the_contract_model() -> None:
    fmt = FORMATS["vpr"]
    rows = vpr_rows(500, seed=3)
    at, layout = find_header(fmt, rows[:20])
    chunk = FastBuilder(fmt, Pseudonymiser(KEY), layout).build(rows[at + 1 :])
    assert chunk.body
    for body in chunk.body[::7]:
        fact = AssessmentResultRecorded.model_validate_json(body)
        assert fact.procedure.value == "ВПР"
        assert fact.student.startswith("p")
        assert len(fact.student) == 25


def test_rows_of_other_assessment_formats_too() -> None:
    header = ["Код ОО", "Учебный год", "Экзамен", "Предмет", "Параллель", "Код участника",
              "Тестовый балл", "Отметка", "Медалист"]  # fmt: skip
    rows: list[tuple[int, list[object]]] = [(1, header)]
    for i in range(300):
        exam = ["ЕГЭ", "огэ", "ГВЭ", "ВсОШ"][i % 4]
        score, mark, medal = (
            ["72", "", "101"][i % 3],
            ["", "4", "2"][i % 3],
            ["да", "", "нет"][i % 3],
        )
        grade = "11" if i % 2 else "9"
        rows.append(
            (i + 2, ["sch-1", "2025/26", exam, "физика", grade, f"s{i}", score, mark, medal])
        )
    fast, slow = _compare("gia", rows)
    assert fast
    assert slow  # e.g. ЕГЭ without a test score, ВсОШ without a status: per row


def test_seen_keys_agree_with_a_plain_dict() -> None:
    rng = np.random.default_rng(5)
    seen = SeenKeys()
    plain: dict[bytes, tuple[bytes, int]] = {}
    row = 0
    for _ in range(30):
        n = int(rng.integers(1, 400))
        keys = [bytes([int(rng.integers(0, 3))]) + b"\0" * 14 + bytes([int(rng.integers(0, 90))])
                for _ in range(n)]  # fmt: skip
        marks = [bytes([int(rng.integers(0, 2))]) * 12 for _ in range(n)]
        rows = list(range(row, row + n))
        row += n
        status, earlier = seen.check(
            np.frombuffer(b"".join(keys), "S16"),
            np.frombuffer(b"".join(marks), "S12"),
            np.asarray(rows, dtype=np.uint32),
        )
        for k, m, r, s, e in zip(keys, marks, rows, status, earlier, strict=True):
            prev = plain.get(k)
            if prev is None:
                plain[k] = (m, r)
                assert s == 0
            else:
                assert s == (1 if prev[0] == m else 2)
                assert e == prev[1]
