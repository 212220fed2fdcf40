"""Half-year periods (seed 004: reports on 01.01 and 01.07) through real Kafka and FerretDB:
missed lessons, staffing reports and deficit diagnostics dated across an academic year; the
half-year reads compared with a plain calculation from the rows' dates, the academic year
still the default everywhere else."""

from __future__ import annotations

import datetime as dt
import random

import httpx
import pytest
from indicators_testkit import Region, pseudo, wait_for

from shkala_contracts.events.attendance import LessonsMissed
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_contracts.events.school_context import SchoolContextReportedV2
from shkala_contracts.events.staffing import (
    ProfessionalDeficitsDiagnosed,
    StaffingPositionsReported,
)
from shkala_indicators.bootstrap import bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher
from shkala_runtime.settings import ServiceSettings

Y1 = "2025/26"
SCHOOLS = {"m1": ["h1", "h2", "h3"]}
H1 = (dt.date(2025, 9, 1), dt.date(2025, 12, 31))  # reported on 01.01.2026
H2 = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))  # reported on 01.07.2026
SYSTEMATIC = 40  # the region's cut for «систематические пропуски» (a regional setting)
# periods of missed lessons: (start, end); the last ends in the summer (the year only)
MONTHS = [
    (dt.date(2025, 10, 1), dt.date(2025, 10, 31)),
    (dt.date(2025, 12, 1), dt.date(2025, 12, 26)),
    (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    (dt.date(2026, 5, 1), dt.date(2026, 5, 31)),
    (dt.date(2026, 7, 1), dt.date(2026, 7, 20)),
]


def build() -> Region:
    rng = random.Random(11)
    reg = Region("demo", SCHOOLS)
    reg.org.append(RegionRegistered(region_id="demo", name="Демо"))
    reg.org.append(MunicipalityRegistered(region_id="demo", municipality_id="m1", name="m1"))
    for k, s in enumerate(SCHOOLS["m1"]):
        reg.org.append(
            SchoolRegistered(region_id="demo", municipality_id="m1", school_id=s, name=s)
        )
        reg.originals.append(
            SchoolContextReportedV2(
                school_id=s, academic_year=Y1, as_of=dt.date(2025, 9, 1),
                students_total=40 + 10 * k, on_juvenile_register=0, migrant_or_low_russian=0,
                special_needs_confirmed=0, not_attested=0, remote=False, small_school=False,
                infrastructure_deficit=False,
            )
        )  # fmt: skip
        for _ in range(12):
            st = pseudo(rng)
            for start, end in MONTHS:
                n = rng.choice((0, 3, 8, 25, 45))
                if n:
                    reg.originals.append(
                        LessonsMissed(
                            school_id=s, academic_year=Y1, student=st, grade=7,
                            period_start=start, period_end=end, lessons_missed=n,
                            reason=rng.choice(("неуважительная", "неуважительная", "уважительная")),
                        )
                    )  # fmt: skip
        for as_of, posts, filled in ((dt.date(2025, 9, 1), 10.0, 8.0 + k),
                                     (dt.date(2026, 2, 1), 12.0, 11.0)):  # fmt: skip
            reg.originals.append(
                StaffingPositionsReported(
                    school_id=s, academic_year=Y1, as_of=as_of, position="учитель",
                    subject="математика", posts=posts, filled=filled, vacancies=0,
                )
            )  # fmt: skip
        for _ in range(6):
            reg.originals.append(
                ProfessionalDeficitsDiagnosed(
                    school_id=s, academic_year=Y1, teacher=pseudo(rng),
                    diagnosed_on=rng.choice((dt.date(2025, 10, 15), dt.date(2026, 3, 10))),
                )
            )  # fmt: skip
    return reg


def within(d: dt.date, half: tuple[dt.date, dt.date]) -> bool:
    return half[0] <= d <= half[1]


def expected(reg: Region, schools: list[str], half: tuple[dt.date, dt.date]) -> dict:
    """Per the seed's wording over the half's dated facts: students with at least SYSTEMATIC
    unexcused lessons in periods ending within the half / all students; filled / posts of the
    latest staffing report dated by the half's end; teachers diagnosed within the half /
    filled teacher posts of that report."""
    absent = total = filled = posts = diagnosed = 0.0
    for s in schools:
        facts = [f for f in reg.originals if f.school_id == s]
        ctx = next(f for f in facts if isinstance(f, SchoolContextReportedV2))
        missed: dict[str, int] = {}
        for f in facts:
            unexcused = isinstance(f, LessonsMissed) and f.reason == "неуважительная"
            if unexcused and within(f.period_end, half):
                missed[f.student] = missed.get(f.student, 0) + f.lessons_missed
        absent += sum(1 for n in missed.values() if n >= SYSTEMATIC)
        total += ctx.students_total
        reports = [
            f for f in facts if isinstance(f, StaffingPositionsReported) and f.as_of <= half[1]
        ]
        last = max(reports, key=lambda f: f.as_of)
        filled += last.filled
        posts += last.posts
        diagnosed += sum(
            1
            for f in facts
            if isinstance(f, ProfessionalDeficitsDiagnosed) and within(f.diagnosed_on, half)
        )
    return {
        "systematic_absence_share": 100 * absent / total,
        "staffing_fill_share": 100 * filled / posts,
        "deficits_diagnosed_share": 100 * diagnosed / filled,
    }


async def test_half_year_periods(test_settings: ServiceSettings) -> None:
    settings = Settings(**test_settings.model_dump())
    reg = build()
    svc = bootstrap(settings)
    async with svc.app.router.lifespan_context(svc.app):
        pub = EventPublisher(settings)
        await pub.start()
        try:
            await pub.publish(reg.org_outgoing())
            await pub.publish(reg.outgoing(reg.originals))
        finally:
            await pub.stop()
        token = issue_token(settings, "region")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=svc.app), base_url="http://t",
            headers={"Authorization": f"Bearer {token}"}, timeout=60,
        ) as http:  # fmt: skip
            # every topic's facts stored (they arrive independently, and a year's value
            # shows as soon as one fact of it is in): wait until both halves' roll-ups have
            # every expected figure (a wrong figure keeps waiting and fails the test)
            async def ready() -> bool:
                for key, half in (("2025/26-H1", H1), ("2025/26-H2", H2)):
                    r = await http.get("/municipalities/m1/half-year", params={"period": key})
                    if r.status_code != 200:
                        return False
                    rolled = {e["indicator_id"]: e["value"] for e in r.json()["roll_up"]}
                    for ind, want in expected(reg, SCHOOLS["m1"], half).items():
                        got = rolled.get(ind)
                        if (got is None) != (want is None) or (
                            want is not None and abs(got - want) > 1e-5
                        ):
                            return False
                return True

            await wait_for(ready, within=120)
            answers = {}
            for key, half in (("2025/26-H1", H1), ("2025/26-H2", H2)):
                r = await http.get("/municipalities/m1/half-year", params={"period": key})
                assert r.status_code == 200, r.text
                body = answers[key] = r.json()
                assert body["from"] == half[0].isoformat()
                assert body["to"] == half[1].isoformat()
                rolled = {e["indicator_id"]: e for e in body["roll_up"]}
                for ind, want in expected(reg, SCHOOLS["m1"], half).items():
                    assert rolled[ind]["value"] == pytest.approx(want, abs=1e-5), (key, ind)
                for row in body["schools"]:
                    got = {e["indicator_id"]: e["value"] for e in row["indicators"]}
                    for ind, want in expected(reg, [row["school_id"]], half).items():
                        assert got[ind] == pytest.approx(want, abs=1e-5), (key, row, ind)
                # results and mentoring carry no date the half could use: not offered
                assert "vpr_mark2_share_math" in body["not_dated"]
                assert "mentoring_share" in body["not_dated"]
            assert answers["2025/26-H1"]["reported_on"] == "01.01.2026"
            assert answers["2025/26-H2"]["reported_on"] == "01.07.2026"
            # the second half beside the first
            h1 = {e["indicator_id"]: e["value"] for e in answers["2025/26-H1"]["roll_up"]}
            for e in answers["2025/26-H2"]["roll_up"]:
                assert e["previous"] == h1[e["indicator_id"]]
            assert answers["2025/26-H1"]["previous_period"] == "2024/25-H2"
            # the academic year stays the default: its value counts the whole year
            t = (await http.get("/municipalities/m1/table", params={"period": Y1})).json()
            fill = {r["school_id"]: r["values"]["staffing_fill_share"] for r in t["rows"]}
            assert fill == {s: pytest.approx(100 * 11 / 12, abs=1e-5) for s in SCHOOLS["m1"]}
            r = await http.get("/region/half-year", params={"period": "2025/26-H2"})
            assert r.json()["roll_up"] == answers["2025/26-H2"]["roll_up"]  # one municipality
            r = await http.get("/schools/h1/half-year", params={"period": "2025/26-H2"})
            assert r.status_code == 200
            assert [s["school_id"] for s in r.json()["schools"]] == ["h1"]
            for bad in ("2025/26", "2025/27-H1", "2025-H1", "2025/26-H3"):
                r = await http.get("/municipalities/m1/half-year", params={"period": bad})
                assert r.status_code == 422, bad
                assert bad in r.json()["detail"]
        token = issue_token(settings, "municipality", municipality="m2")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=svc.app), base_url="http://t",
            headers={"Authorization": f"Bearer {token}"}, timeout=60,
        ) as other:  # fmt: skip
            r = await other.get("/municipalities/m1/half-year", params={"period": "2025/26-H1"})
            assert r.status_code == 403
            r = await other.get("/region/half-year", params={"period": "2025/26-H1"})
            assert r.status_code == 403
