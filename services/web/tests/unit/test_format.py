"""Dates and numbers as officials write them."""

from __future__ import annotations

import datetime as dt

from shkala_web.domain import format as f


def test_decimal_comma_and_grouping() -> None:
    assert f.number(12.963) == "13,0"
    assert f.number(0.05, 2) == "0,05"
    assert f.number(1234567.5) == "1\u202f234\u202f567,5"
    assert f.integer(1500) == "1\u202f500"
    assert f.number(None) == "—"


def test_dates_as_dd_mm_yyyy() -> None:
    assert f.date("2026-09-01") == "01.09.2026"
    assert f.date(dt.date(2026, 9, 1)) == "01.09.2026"
    assert f.date("2026-09-01T10:15:00Z") == "01.09.2026"
    assert f.datetime("2026-09-01T10:15:00Z") == "01.09.2026 10:15"
    assert f.date(None) == "—"


def test_indicator_values_with_units() -> None:
    assert f.indicator_value(50.0, "percent") == "50,0\u00a0%"
    assert f.indicator_value(1.0, "flag") == "да"
    assert f.indicator_value(0.0, "flag") == "нет"
    assert f.indicator_value(None, "percent") == "—"


def test_russian_plurals() -> None:
    assert [f.plural(n, "школа", "школы", "школ") for n in (1, 2, 5, 11, 21, 22, 112)] == [
        "школа",
        "школы",
        "школ",
        "школ",
        "школа",
        "школы",
        "школ",
    ]


def test_row_error_reasons_in_russian() -> None:
    assert f.reason_ru("Input should be a valid integer, unable to parse string") == (
        "должно быть целым числом"
    )
    assert f.reason_ru("Input should be less than or equal to 5") == "должно быть не больше 5"
    assert f.reason_ru("Field required") == "обязательное поле не заполнено"
    assert f.reason_ru("школа sch-9 не зарегистрирована") == "школа sch-9 не зарегистрирована"
