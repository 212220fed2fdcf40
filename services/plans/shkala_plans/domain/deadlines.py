"""Roadmap deadlines: parse every shape the seeds use, and list the due dates one implies.

Parsing never loses text: the original is kept in ``Deadline.text``; what is not understood
at all becomes ``kind=unparsed`` with ``needs_review=True``; words left over beside a
recognised shape (e.g. "общеобразовательные организации 01.01") go to ``unrecognised``.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import html
import re

from shkala_contracts.events.plans import Deadline, DeadlineKind

MONTH_STEMS: tuple[tuple[str, int], ...] = (
    ("январ", 1),
    ("феврал", 2),
    ("март", 3),
    ("апрел", 4),
    ("ма[йя]", 5),
    ("июн", 6),
    ("июл", 7),
    ("август", 8),
    ("сентябр", 9),
    ("октябр", 10),
    ("ноябр", 11),
    ("декабр", 12),
)
_MONTH_RE = "(?:" + "|".join(f"{stem}[а-я]*" for stem, _ in MONTH_STEMS) + ")"
_DASH = r"\s*[-–—]\s*"

_FEDERAL = re.compile(
    r"(?:в\s+соответствии\s+с|согласно|по)\s+график\w*(?:\s+проведения)?.*$", re.S
)
_PER_PLAN = re.compile(
    r"(?:\(?\s*согласно\s+план\w*\s*\)?|в\s+соответствии\s+с\s+план\w*.*$"
    r"|в\s+сроки,?\s+установленн\w+.*$|по\s+план\w*.*$)",
    re.S,
)
_PROGRAMME_PERIOD = re.compile(r"в\s+течение\s+(?:всего\s+)?(?:периода|срока)\s+реализации\s+\w+")
_SCHOOL_YEAR_NAMED = re.compile(r"в\s+течение\s+(\d{4})\s*[-–/]\s*(\d{2,4})\s+учебн\w+\s+год\w*")
_SCHOOL_YEAR = re.compile(r"в\s+течение\s+(?:учебн\w+\s+)?года|в\s+течение\s+учебн\w+\s+год\w*")
_CONSTANTLY = re.compile(r"постоянно|в\s+течение\s+всего\s+периода")
_MONTHLY = re.compile(r"ежемесячно")
_QUARTERLY = re.compile(r"ежеквартально")
_YEARLY = re.compile(r"ежегодно")
_FULL_DATE = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
_WORD_DATE = re.compile(rf"(?<!\d)(\d{{1,2}})\s+({_MONTH_RE})\s+(\d{{4}})(?!\d)")
_DAY_MONTH = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{2})(?![\d.]*\d)")
_YEAR_RANGE = re.compile(r"(?<!\d)(20\d{2})\s*[-–]\s*(20\d{2})(?!\d)")
_MONTH_OR_YEAR = re.compile(
    rf"(?P<range>(?P<m1>{_MONTH_RE}){_DASH}(?P<m2>{_MONTH_RE}))"
    rf"|(?P<month>{_MONTH_RE})|(?<!\d)(?P<year>20\d{{2}})(?!\d)"
)
_FILLER = re.compile(
    r"\b(?:до|не\s+позднее|в|и|г|гг|год|года|годы|году|срок|сроки|ежегодно|течение|"
    r"учебного|на|с|по|со|к|года?х?)\b|[.,;:()\-–—/\"«»]"
)


def _month_no(word: str) -> int:
    for stem, number in MONTH_STEMS:
        if re.match(stem, word):
            return number
    raise ValueError(word)  # pragma: no cover - only called on _MONTH_RE matches


def normalise(text: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = text.replace("ё", "е").replace("Ё", "Е").lower()
    return re.sub(r"\s+", " ", text).strip()


def parse_deadline(text: str) -> Deadline:
    """Structure a deadline cell; the original text is always kept."""
    original = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()
    rest = normalise(text)
    kinds: list[DeadlineKind] = []
    dates: list[dt.date] = []
    months: list[str] = []
    yearly_dates: list[str] = []
    yearly_months: list[int] = []
    school_year: str | None = None
    from_year = to_year = None

    def take(pattern: re.Pattern[str]) -> list[re.Match[str]]:
        nonlocal rest
        found = list(pattern.finditer(rest))
        if found:
            rest = pattern.sub(" ", rest)
        return found

    if take(_FEDERAL):
        kinds.append(DeadlineKind.FEDERAL_SCHEDULE)
    if take(_PER_PLAN):
        kinds.append(DeadlineKind.PER_PLAN)
    if take(_PROGRAMME_PERIOD):
        kinds.append(DeadlineKind.PERIOD)
    for m in take(_SCHOOL_YEAR_NAMED):
        start = int(m.group(1))
        school_year = f"{start}/{(start + 1) % 100:02d}"
        kinds.append(DeadlineKind.SCHOOL_YEAR)
    if take(_SCHOOL_YEAR):
        kinds.append(DeadlineKind.SCHOOL_YEAR)
    if take(_CONSTANTLY):
        kinds.append(DeadlineKind.CONSTANTLY)
    if take(_MONTHLY):
        kinds.append(DeadlineKind.MONTHLY)
    if take(_QUARTERLY):
        kinds.append(DeadlineKind.QUARTERLY)
    yearly = bool(take(_YEARLY))
    for m in take(_FULL_DATE):
        with contextlib.suppress(ValueError):
            dates.append(dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))))
    for m in take(_WORD_DATE):
        with contextlib.suppress(ValueError):
            dates.append(dt.date(int(m.group(3)), _month_no(m.group(2)), int(m.group(1))))
    for m in take(_DAY_MONTH):
        day, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2024, month)[1]:
            yearly_dates.append(f"{month:02d}-{day:02d}")
    for m in take(_YEAR_RANGE):
        from_year, to_year = int(m.group(1)), int(m.group(2))
    # months, each bound to the next year written after it ("Январь, июль 2021 года")
    pending: list[int] = []
    last_year: int | None = None
    tokens = list(_MONTH_OR_YEAR.finditer(rest))
    rest = _MONTH_OR_YEAR.sub(" ", rest)
    for tok in tokens:
        if tok.group("year"):
            last_year = int(tok.group("year"))
            months.extend(f"{last_year}-{mo:02d}" for mo in pending)
            pending = []
        elif tok.group("range"):
            a, b = _month_no(tok.group("m1")), _month_no(tok.group("m2"))
            pending.extend(range(a, b + 1) if a <= b else [*range(a, 13), *range(1, b + 1)])
        else:
            pending.append(_month_no(tok.group("month")))
    if pending:
        if last_year is not None:  # "2021: январь, март" — bind to the year before
            months.extend(f"{last_year}-{mo:02d}" for mo in pending)
        else:
            yearly_months.extend(pending)
    elif last_year is not None and not months and not dates and from_year is None:
        from_year = to_year = last_year  # "2021 год"

    if dates:
        kinds.insert(0, DeadlineKind.DATE)
    if months:
        kinds.insert(0, DeadlineKind.MONTH if len(months) == 1 else DeadlineKind.MONTHS)
    if yearly_dates or yearly_months or yearly:
        kinds.append(DeadlineKind.YEARLY)
    if from_year is not None and DeadlineKind.PERIOD not in kinds:
        kinds.append(DeadlineKind.PERIOD)

    leftover = re.sub(r"\s+", " ", _FILLER.sub(" ", rest)).strip()
    leftover = leftover if re.search(r"[а-яa-z]{2,}", leftover) else ""
    if not kinds:
        return Deadline(
            text=original,
            kind=DeadlineKind.UNPARSED,
            needs_review=True,
            unrecognised=leftover or None,
        )
    return Deadline(
        text=original,
        kind=_primary(kinds),
        dates=tuple(sorted(set(dates))),
        months=tuple(sorted(set(months))),
        yearly_dates=tuple(sorted(set(yearly_dates))),
        yearly_months=tuple(sorted(set(yearly_months))),
        school_year=school_year,
        from_year=from_year,
        to_year=to_year,
        unrecognised=leftover or None,
    )


_PRECEDENCE = (
    DeadlineKind.DATE,
    DeadlineKind.MONTH,
    DeadlineKind.MONTHS,
    DeadlineKind.FEDERAL_SCHEDULE,
    DeadlineKind.PER_PLAN,
    DeadlineKind.YEARLY,
    DeadlineKind.MONTHLY,
    DeadlineKind.QUARTERLY,
    DeadlineKind.SCHOOL_YEAR,
    DeadlineKind.CONSTANTLY,
    DeadlineKind.PERIOD,
)


def _primary(kinds: list[DeadlineKind]) -> DeadlineKind:
    return min(kinds, key=_PRECEDENCE.index)


SCHOOL_YEAR_END = (5, 31)  # the teaching year ends with May; reports on it are due then


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def is_recurring(d: Deadline) -> bool:
    return bool(
        d.yearly_dates
        or d.yearly_months
        or d.kind in (DeadlineKind.YEARLY, DeadlineKind.MONTHLY, DeadlineKind.QUARTERLY)
        or (d.kind is DeadlineKind.SCHOOL_YEAR and d.school_year is None)
    )


def occurrences(d: Deadline, start: dt.date, end: dt.date) -> list[dt.date]:
    """The due dates a deadline implies between ``start`` and ``end`` (inclusive).

    Shapes without a date of their own (constantly, per a federal schedule or another
    plan, unparsed) imply none: the scheduler never calls them overdue.
    """
    found: set[dt.date] = set(d.dates)
    found.update(_month_end(int(m[:4]), int(m[5:])) for m in d.months)
    years = range(start.year, end.year + 1)
    for md in d.yearly_dates:
        month, day = int(md[:2]), int(md[3:])
        found.update(dt.date(y, month, min(day, calendar.monthrange(y, month)[1])) for y in years)
    for month in d.yearly_months:
        found.update(_month_end(y, month) for y in years)
    if d.kind is DeadlineKind.MONTHLY:
        found.update(_month_end(y, m) for y in years for m in range(1, 13))
    if d.kind is DeadlineKind.QUARTERLY:
        found.update(_month_end(y, m) for y in years for m in (3, 6, 9, 12))
    if d.kind is DeadlineKind.SCHOOL_YEAR:
        if d.school_year:
            found.add(dt.date(int(d.school_year[:4]) + 1, *SCHOOL_YEAR_END))
        else:
            found.update(dt.date(y, *SCHOOL_YEAR_END) for y in years)
    if d.kind is DeadlineKind.YEARLY and not (d.yearly_dates or d.yearly_months):
        found.update(dt.date(y, 12, 31) for y in years)  # "ежегодно": by the year's end
    if d.kind is DeadlineKind.PERIOD and d.to_year is not None:
        found.add(dt.date(d.to_year, 12, 31))
    lo = max(start, dt.date(d.from_year, 1, 1)) if d.from_year and is_recurring(d) else start
    hi = min(end, dt.date(d.to_year, 12, 31)) if d.to_year and is_recurring(d) else end
    return sorted(x for x in found if lo <= x <= hi)
