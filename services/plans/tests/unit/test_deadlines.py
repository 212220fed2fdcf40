import datetime as dt

import pytest

from shkala_contracts.events.plans import DeadlineKind
from shkala_plans.domain.deadlines import occurrences, parse_deadline
from shkala_plans.domain.templates import load_seed_templates


@pytest.mark.parametrize(
    ("text", "kind", "check"),
    [
        ("до 12.07.2021", DeadlineKind.DATE, lambda d: d.dates == (dt.date(2021, 7, 12),)),
        ("до 12 июля 2021 года", DeadlineKind.DATE, lambda d: d.dates == (dt.date(2021, 7, 12),)),
        ("Апрель 2021", DeadlineKind.MONTH, lambda d: d.months == ("2021-04",)),
        ("Июнь, 2021 г.", DeadlineKind.MONTH, lambda d: d.months == ("2021-06",)),
        ("Январь, июль 2021", DeadlineKind.MONTHS, lambda d: d.months == ("2021-01", "2021-07")),
        (
            "Январь-февраль сентябрь-октябрь 2021 года",
            DeadlineKind.MONTHS,
            lambda d: d.months == ("2021-01", "2021-02", "2021-09", "2021-10"),
        ),
        ("до 01.09 ежегодно", DeadlineKind.YEARLY, lambda d: d.yearly_dates == ("09-01",)),
        ("01.01, 01.07", DeadlineKind.YEARLY, lambda d: d.yearly_dates == ("01-01", "07-01")),
        ("август", DeadlineKind.YEARLY, lambda d: d.yearly_months == (8,)),
        ("Ежегодно", DeadlineKind.YEARLY, lambda d: not d.yearly_dates),
        ("ежемесячно", DeadlineKind.MONTHLY, lambda d: True),
        ("ежеквартально", DeadlineKind.QUARTERLY, lambda d: True),
        ("В течение учебного года", DeadlineKind.SCHOOL_YEAR, lambda d: d.school_year is None),
        (
            "В течение 2020-2021 учебного года",
            DeadlineKind.SCHOOL_YEAR,
            lambda d: d.school_year == "2020/21",
        ),
        ("постоянно", DeadlineKind.CONSTANTLY, lambda d: True),
        ("В соответствии с графиком проведения", DeadlineKind.FEDERAL_SCHEDULE, lambda d: True),
        (
            "Ежегодно в соответствии с графиком проведения ВПР Рособнадзора",
            DeadlineKind.FEDERAL_SCHEDULE,
            lambda d: True,
        ),
        ("2021-2025 гг.", DeadlineKind.PERIOD, lambda d: (d.from_year, d.to_year) == (2021, 2025)),
        (
            "до 12.04.2021 до 01.10 ежегодно",
            DeadlineKind.DATE,
            lambda d: d.dates == (dt.date(2021, 4, 12),) and d.yearly_dates == ("10-01",),
        ),
    ],
)
def test_every_shape_parses(text, kind, check):
    d = parse_deadline(text)
    assert d.kind is kind, d
    assert d.text == text
    assert not d.needs_review
    assert check(d), d


@pytest.mark.parametrize("text", ["", "когда-нибудь потом", "по мере необходимости"])
def test_unparsed_text_is_kept_and_flagged(text):
    d = parse_deadline(text)
    assert d.kind is DeadlineKind.UNPARSED
    assert d.needs_review
    assert d.text == text


def test_occurrences_of_recurring_and_one_off_shapes():
    y = parse_deadline("до 01.09 ежегодно")
    assert occurrences(y, dt.date(2021, 1, 1), dt.date(2022, 12, 31)) == [
        dt.date(2021, 9, 1),
        dt.date(2022, 9, 1),
    ]
    q = parse_deadline("ежеквартально")
    assert occurrences(q, dt.date(2021, 1, 1), dt.date(2021, 7, 1)) == [
        dt.date(2021, 3, 31),
        dt.date(2021, 6, 30),
    ]
    m = parse_deadline("Январь, июль 2021")
    assert occurrences(m, dt.date(2020, 1, 1), dt.date(2030, 1, 1)) == [
        dt.date(2021, 1, 31),
        dt.date(2021, 7, 31),
    ]
    assert occurrences(parse_deadline("постоянно"), dt.date(2021, 1, 1), dt.date(2030, 1, 1)) == []


def test_every_seed_roadmap_row_imports():
    templates = load_seed_templates()
    by_seed: dict[str, int] = {}
    for t in templates:
        by_seed[t.seed[:3]] = by_seed.get(t.seed[:3], 0) + len(t.rows)
        for row in t.rows:
            assert row.activity
            assert row.deadline.needs_review == (row.deadline.kind is DeadlineKind.UNPARSED)
    # every table row of the seeds (counted by hand from the documents)
    assert by_seed == {"000": 33, "001": 70, "002": 3, "003": 28, "004": 30}
    total = sum(len(t.rows) for t in templates)
    structured = sum(t.structured for t in templates)
    flagged = [
        (t.id, r.number, r.source_line)
        for t in templates
        for r in t.rows
        if r.deadline.needs_review
    ]
    # the flagged rows are exactly those whose deadline cell is empty in the source
    assert all(not r.deadline.text for t in templates for r in t.rows if r.deadline.needs_review)
    assert (total, structured, len(flagged)) == (164, 157, 7)
