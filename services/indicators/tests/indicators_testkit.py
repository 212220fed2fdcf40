"""Test kit: a tiny seeded region generator and an independent computation of expectations.

The expectations are written from the methodology (seed 002 formulas) directly over the raw
generated rows; they never call the service's domain or projection code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml
from directions_testkit import direction_corrections, direction_facts, expected_direction_values

from shkala_contracts import Tenant
from shkala_contracts.base import Fact
from shkala_contracts.events.assessment import (
    AssessmentResultRecorded,
    TaskScore,
    TeacherResultsConsentRecorded,
)
from shkala_contracts.events.attendance import LessonsMissed
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_contracts.events.school_context import (
    FederalNonObjectivityListed,
    SchoolContextReported,
    SchoolContextReportedV2,
)
from shkala_contracts.events.staffing import (
    IndividualRouteOpened,
    MentoringPairFormed,
    ProfessionalDeficitsDiagnosed,
    QualificationCourseCompleted,
    StaffingPositionsReported,
)
from shkala_runtime.kafka import Outgoing

CATALOGUE = (
    Path(__file__).resolve().parents[1] / "shkala_indicators" / "catalogue" / "catalogue.yaml"
)
YEARS = ("2024/25", "2025/26")
MATH, RUS = "математика", "русский язык"
BASE_MATHS = "математика базовая"


def pseudo(rng: random.Random) -> str:
    return "p" + "".join(rng.choice("0123456789abcdef") for _ in range(24))


@dataclass
class Region:
    region: str
    municipalities: dict[str, list[str]]  # municipality -> schools
    org: list[Any] = field(default_factory=list)
    originals: list[Fact] = field(default_factory=list)
    corrections: list[Fact] = field(default_factory=list)

    def school_municipality(self) -> dict[str, str]:
        return {s: m for m, ss in self.municipalities.items() for s in ss}

    def final_facts(self) -> list[Fact]:
        """Last submission per natural key wins (corrections replace originals)."""
        final: dict[tuple[str, str], Fact] = {}
        for f in [*self.originals, *self.corrections]:
            final[(f.event_type, "\x1f".join(f.natural_key()))] = f
        return list(final.values())

    def outgoing(self, facts: list[Fact], version: int = 1) -> list[Outgoing]:
        sm = self.school_municipality()
        return [
            Outgoing.of(
                f,
                source="/shkala/test-ingest",
                tenant=Tenant(region=self.region, municipality=sm[f.school_id], school=f.school_id),
                originator_version=version,
            )
            for f in facts
        ]

    def org_outgoing(self) -> list[Outgoing]:
        out = []
        for e in self.org:
            if isinstance(e, RegionRegistered):
                t = Tenant(region=self.region)
            elif isinstance(e, MunicipalityRegistered):
                t = Tenant(region=self.region, municipality=e.municipality_id)
            else:
                t = Tenant(region=self.region, municipality=e.municipality_id, school=e.school_id)
            out.append(Outgoing.of(e, source="/shkala/test-registry", tenant=t))
        return out


def generate(seed: int = 7, region: str = "demo", n_mun: int = 2, per_mun: int = 4) -> Region:
    rng = random.Random(seed)
    muns = {f"m{i + 1}": [f"m{i + 1}-s{j + 1}" for j in range(per_mun)] for i in range(n_mun)}
    reg = Region(region, muns)
    reg.org.append(RegionRegistered(region_id=region, name="Демо-регион"))
    for m, schools in muns.items():
        reg.org.append(
            MunicipalityRegistered(region_id=region, municipality_id=m, name=f"Район {m}")
        )
        for s in schools:
            reg.org.append(
                SchoolRegistered(region_id=region, municipality_id=m, school_id=s, name=f"СОШ {s}")
            )
    facts = reg.originals
    for schools in muns.values():
        for s in schools:
            weak = rng.random()  # 0 strong .. 1 weak
            teachers = [pseudo(rng) for _ in range(8)]
            for y_i, year in enumerate(YEARS):
                start = 2024 + y_i
                total = rng.randint(60, 400)
                rolls = {g: rng.randint(9, 14) for g in (5, 6, 7, 8)}  # ≥ the ВПР writers
                facts.append(
                    SchoolContextReportedV2(
                        graduates_9=rng.randint(8, 12),  # ≥ the ОГЭ takers below
                        graduates_11=rng.randint(7, 10),  # ≥ the ЕГЭ takers below
                        **{f"enrolled_grade_{g}": n for g, n in rolls.items()},
                        school_id=s,
                        academic_year=year,
                        as_of=dt.date(start, 9, 20),
                        students_total=total,
                        on_juvenile_register=rng.randint(0, total // 15),
                        migrant_or_low_russian=rng.randint(0, total // 6),
                        special_needs_confirmed=rng.randint(0, total // 8),
                        not_attested=rng.randint(0, total // 20),
                        remote=rng.random() < weak,
                        small_school=rng.random() < 0.3,
                        infrastructure_deficit=rng.random() < weak,
                        accreditation="приостановлена" if rng.random() < 0.08 else "действует",
                    )
                )
                # ВПР (grades 5, 6, 8) with journal marks and task scores
                for grade in (5, 6, 8):
                    for subject in (MATH, RUS):
                        observer = rng.random() < 0.5
                        teacher = rng.choice(teachers)
                        for _ in range(rng.randint(4, 9)):
                            mark = max(2, min(5, round(rng.gauss(4 - 1.6 * weak, 0.9))))
                            facts.append(
                                AssessmentResultRecorded(
                                    school_id=s,
                                    academic_year=year,
                                    procedure="ВПР",
                                    subject=subject,
                                    grade=grade,
                                    class_label=f"{grade}А",
                                    student=pseudo(rng),
                                    mark=mark,
                                    journal_mark=rng.choice((3, 4, 4, 5, mark)),
                                    tasks=(
                                        TaskScore(task="1", points=rng.randint(0, 2), max_points=2),
                                        TaskScore(task="2", points=rng.randint(0, 1), max_points=1),
                                        TaskScore(task="3", points=rng.randint(0, 1), max_points=3),
                                    ),
                                    public_observer=observer,
                                    teacher=teacher,
                                )
                            )
                # ОГЭ (grade 9) and ЕГЭ (grade 11)
                for _ in range(rng.randint(3, 8)):
                    st = pseudo(rng)
                    for subject in (MATH, RUS):
                        facts.append(
                            AssessmentResultRecorded(
                                school_id=s,
                                academic_year=year,
                                procedure="ОГЭ",
                                subject=subject,
                                grade=9,
                                student=st,
                                mark=2 if rng.random() < 0.25 * weak else rng.randint(3, 5),
                                public_observer=rng.random() < 0.5,
                            )
                        )
                        facts[-1] = _oge_scores(facts[-1])
                for _ in range(rng.randint(2, 7)):
                    st, medalist = pseudo(rng), rng.random() < 0.3
                    maths = MATH if rng.random() < 0.6 else BASE_MATHS
                    for subject in (maths, RUS, "физика"):
                        base = subject == BASE_MATHS  # ЕГЭ базовая математика: a mark only
                        facts.append(
                            AssessmentResultRecorded(
                                school_id=s,
                                academic_year=year,
                                procedure="ЕГЭ",
                                subject=subject,
                                grade=11,
                                student=st,
                                test_score=None
                                if base
                                else max(0, min(100, round(rng.gauss(70 - 40 * weak, 15)))),
                                mark=rng.choice((2, 3, 4, 5) if weak > 0.5 else (3, 4, 5))
                                if base
                                else None,
                                medalist=medalist,
                            )
                        )
                for _ in range(rng.randint(0, 6)):
                    facts.append(
                        AssessmentResultRecorded(
                            school_id=s,
                            academic_year=year,
                            procedure="РДР",
                            subject=rng.choice((MATH, RUS)),
                            grade=7,
                            student=pseudo(rng),
                            mark=rng.choice((2, 3, 4, 5) if weak > 0.5 else (3, 4, 5)),
                        )
                    )
                olymp = [pseudo(rng) for _ in range(rng.randint(0, 6))]
                for st in olymp:
                    for stage in rng.sample(["школьный", "муниципальный"], rng.randint(1, 2)):
                        facts.append(
                            AssessmentResultRecorded(
                                school_id=s,
                                academic_year=year,
                                procedure="ВсОШ",
                                subject=MATH,
                                grade=10,
                                student=st,
                                olympiad_stage=stage,
                                olympiad_status=rng.choice(
                                    ("участник", "участник", "призёр", "победитель")
                                ),
                            )
                        )
                # attendance
                for _ in range(rng.randint(3, 10)):
                    st = pseudo(rng)
                    for month in (10, 11, 12):
                        facts.append(
                            LessonsMissed(
                                school_id=s,
                                academic_year=year,
                                student=st,
                                grade=7,
                                period_start=dt.date(start, month, 1),
                                period_end=dt.date(start, month, 28),
                                lessons_missed=rng.randint(0, 25),
                                reason=rng.choice(("уважительная", "неуважительная")),
                            )
                        )
                # staffing: two reports, the later one counts
                for as_of in (dt.date(start, 9, 1), dt.date(start + 1, 1, 15)):
                    for position, subject in (
                        ("учитель", MATH),
                        ("учитель", RUS),
                        ("педагог-психолог", None),
                    ):
                        posts = float(rng.randint(1, 6)) if position == "учитель" else 1.0
                        filled = posts - (rng.random() < weak) * min(posts, 1.0)
                        facts.append(
                            StaffingPositionsReported(
                                school_id=s,
                                academic_year=year,
                                as_of=as_of,
                                position=position,
                                subject=subject,
                                posts=posts,
                                filled=filled,
                                vacancies=int(posts - filled),
                            )
                        )
                # teacher development
                for t in rng.sample(teachers, rng.randint(0, 4)):
                    facts.append(
                        ProfessionalDeficitsDiagnosed(
                            school_id=s,
                            academic_year=year,
                            teacher=t,
                            diagnosed_on=dt.date(start, 10, 1),
                            deficits=("формирующее оценивание",),
                        )
                    )
                for t in rng.sample(teachers, rng.randint(0, 4)):
                    facts.append(
                        QualificationCourseCompleted(
                            school_id=s,
                            academic_year=year,
                            teacher=t,
                            course="КПК-1",
                            hours=36,
                            completed_on=dt.date(start, 11, 1),
                            on_own_request=rng.random() < 0.5,
                            on_students_at_risk=rng.random() < 0.5,
                        )
                    )
                for t in rng.sample(teachers, rng.randint(0, 3)):
                    facts.append(
                        IndividualRouteOpened(
                            school_id=s,
                            academic_year=year,
                            teacher=t,
                            opened_on=dt.date(start, 9, 15),
                        )
                    )
                for t in rng.sample(teachers, rng.randint(0, 2)):
                    facts.append(
                        MentoringPairFormed(
                            school_id=s,
                            academic_year=year,
                            mentor=pseudo(rng),
                            mentee=t,
                        )
                    )
                facts.append(
                    TeacherResultsConsentRecorded(
                        school_id=s,
                        academic_year=year,
                        teacher=teachers[0],
                        granted=rng.random() < 0.6,
                    )
                )
    # the federal list (seed 004): one school listed, one taken off, for the latest year
    every = [s for schools in muns.values() for s in schools]
    facts.append(FederalNonObjectivityListed(school_id=every[0], academic_year=YEARS[-1]))
    if len(every) > 1:
        facts.append(
            FederalNonObjectivityListed(school_id=every[-1], academic_year=YEARS[-1], listed=False)
        )
    # the four directions' rows (directions_testkit: their own random streams)
    every_school = [s for schools in muns.values() for s in schools]
    facts.extend(direction_facts(every_school, YEARS, seed))
    reg.corrections.extend(direction_corrections(facts))
    # corrections: resubmitted ВПР results (same key, another mark) and school contexts
    vpr = [f for f in facts if isinstance(f, AssessmentResultRecorded) and f.procedure == "ВПР"]
    for f in rng.sample(vpr, 25):
        reg.corrections.append(f.model_copy(update={"mark": 2 if f.mark != 2 else 5}))
    ctx = [f for f in facts if isinstance(f, SchoolContextReported)]
    for f in rng.sample(ctx, 3):
        reg.corrections.append(
            f.model_copy(update={"remote": not f.remote, "not_attested": f.students_total // 10})
        )
    return reg


# ОГЭ 2024 primary-score scale (ФИПИ): the score from which marks 3, 4, 5 are given
OGE_SCALE = {MATH: (8, 15, 22, 31), RUS: (15, 23, 29, 33)}


def _oge_scores(f: AssessmentResultRecorded) -> AssessmentResultRecorded:
    """A primary score inside the mark's range and a journal mark, from the fact's own
    stream (the region's other draws stay as they were)."""
    rng = random.Random(f"{f.school_id}|{f.academic_year}|{f.student}|{f.subject}")
    three, four, five, top = OGE_SCALE[f.subject]
    lo, hi = {2: (0, three - 1), 3: (three, four - 1), 4: (four, five - 1), 5: (five, top)}[
        f.mark or 2
    ]
    return f.model_copy(
        update={"primary_score": float(rng.randint(lo, hi)), "journal_mark": rng.randint(3, 5)}
    )


# ----------------------------------------------------------------- expectations
@functools.cache
def _catalogue_text() -> str:
    return CATALOGUE.read_text(encoding="utf-8")


def catalogue_raw() -> dict[str, Any]:
    return yaml.safe_load(_catalogue_text())


@functools.cache
def _units() -> dict[str, str]:
    return {i["id"]: i["unit"] for i in catalogue_raw()["indicators"]}


def expected_school_values(facts: list[Fact]) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(indicator, school, year) -> (numerator, denominator), straight from the formulas."""
    raw = catalogue_raw()
    prm = raw["parameters"]
    by: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    for f in facts:
        by[(f.school_id, f.academic_year)].append(f)
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    for (school, year), rows in by.items():

        def put(ind: str, num: float, den: float, school: str = school, year: str = year) -> None:
            if den:
                out[(ind, school, year)] = (float(num), float(den))

        res = [r for r in rows if isinstance(r, AssessmentResultRecorded)]
        ctx = [r for r in rows if isinstance(r, SchoolContextReported)]
        c = ctx[0] if ctx else None
        # ЕГЭ high scorers: graduates with any score >= cut
        ege = [r for r in res if r.procedure == "ЕГЭ"]
        # seed 002: «/ общее количество выпускников» — graduates from the school context
        g9 = getattr(c, "graduates_9", None) if c else None
        g11 = getattr(c, "graduates_11", None) if c else None
        if ege and g11:
            put(
                "ege_high_scorers_share",
                len({r.student for r in ege if (r.test_score or 0) >= prm["ege_high_score"]}),
                g11,
            )
        # ГИА minimum (maths, Russian)
        # seed 002: ГИА по математике (ЕГЭ: профильная и базовая) и русскому языку
        gia = [
            r for r in res
            if r.subject in (MATH, RUS, BASE_MATHS) and r.procedure in ("ОГЭ", "ЕГЭ", "ГВЭ")
        ]  # fmt: skip
        failed = set()
        for r in gia:
            if r.test_score is not None:  # ЕГЭ by score
                if r.test_score < prm["ege_minimum"][r.subject]:
                    failed.add(r.student)
            elif r.mark == 2:  # ОГЭ, ГВЭ, ЕГЭ базовая математика by mark
                failed.add(r.student)
        if gia and g9 is not None and g11 is not None:
            put("gia_below_minimum_share", len(failed), g9 + g11)
        for ind, subj in (("vpr_mark2_share_math", MATH), ("vpr_mark2_share_rus", RUS)):
            rs = [
                r
                for r in res
                if r.procedure == "ВПР" and r.subject == subj and r.grade in prm["vpr_grades"]
            ]
            put(ind, sum(r.mark == 2 for r in rs), len(rs))
        rdr = [r for r in res if r.procedure == "РДР" and r.mark is not None]
        rolls = [roll(c, g) for g in sorted({r.grade for r in rdr})]  # «обучающихся в классе»
        if rdr and None not in rolls:
            # «число обучающихся, получивших отметку «2»»: students, each once
            put("rdr_mark2_share", len({r.student for r in rdr if r.mark == 2}), sum(rolls))  # type: ignore[arg-type]
        # seed 002: ВПР «за 2 года» (5 и 8 классы) / обучающихся в классе — this year and the
        # previous one, both needed
        prev = by.get((school, previous_year(year)), [])
        pctx = next((r for r in prev if isinstance(r, SchoolContextReported)), None)
        for ind, subj in (("vpr_mark2_share_2y_math", MATH), ("vpr_mark2_share_2y_rus", RUS)):
            num = den = 0
            ok = True
            for rows_y, ctx_y in ((rows, c), (prev, pctx)):
                vpr = [
                    r for r in rows_y
                    if isinstance(r, AssessmentResultRecorded) and r.procedure == "ВПР"
                    and r.subject == subj and r.grade in (5, 8)
                ]  # fmt: skip
                written = [roll(ctx_y, g) for g in sorted({r.grade for r in vpr})]
                if not vpr or None in written:
                    ok = False
                    break
                num += len({r.student for r in vpr if r.mark == 2})
                den += sum(written)  # type: ignore[arg-type]
            if ok:
                put(ind, num, den)
        for ind, subj in (
            ("vpr_journal_correlation_math", MATH),
            ("vpr_journal_correlation_rus", RUS),
        ):
            pairs = [
                (r.mark, r.journal_mark) for r in res
                if r.procedure == "ВПР" and r.subject == subj and r.journal_mark is not None
            ]  # fmt: skip
            rho = spearman(pairs)
            if len(pairs) >= 10 and rho is not None:
                put(ind, rho * len(pairs), len(pairs))
        vj = [r for r in res if r.procedure == "ВПР" and r.journal_mark is not None]
        put("vpr_lowered_share", sum(r.mark < r.journal_mark for r in vj), len(vj))
        put("vpr_confirmed_share", sum(r.mark == r.journal_mark for r in vj), len(vj))
        put("vpr_raised_share", sum(r.mark > r.journal_mark for r in vj), len(vj))
        medal: dict[str, int] = {}
        for r in ege:
            if r.medalist:  # a mark-only result (базовая математика) has no score to check
                medal[r.student] = min(
                    medal.get(r.student, 100), 100 if r.test_score is None else r.test_score
                )
        put(
            "medalists_not_confirming_share",
            sum(v < prm["medalist_confirm_score"] for v in medal.values()),
            len(medal),
        )
        sittings: dict[tuple[str, str, int], bool] = {}
        for r in res:
            if r.procedure in ("ВсОШ", "Конкурс"):  # olympiads and contests are not procedures
                continue
            k = (r.procedure, r.subject, r.grade)
            sittings[k] = sittings.get(k, False) or bool(r.public_observer)
        put("observed_procedures_share", sum(sittings.values()), len(sittings))
        # ОГЭ index (seed 001): exam mark against the journal mark
        oj = [r for r in res if r.procedure == "ОГЭ" and r.journal_mark is not None]
        put("oge_lowered_share", sum(r.mark < r.journal_mark for r in oj), len(oj))
        put("oge_confirmed_share", sum(r.mark == r.journal_mark for r in oj), len(oj))
        put("oge_raised_share", sum(r.mark > r.journal_mark for r in oj), len(oj))
        # качество: marks 4 and 5 of ВПР grade 8 and of ОГЭ, maths and Russian
        v8 = [r for r in res if r.procedure == "ВПР" and r.grade == 8 and r.subject in (MATH, RUS)]
        put("vpr_quality_share_g8", sum(r.mark >= 4 for r in v8), len(v8))
        og = [r for r in res if r.procedure == "ОГЭ" and r.subject in (MATH, RUS)]
        put("oge_quality_share", sum(r.mark >= 4 for r in og), len(og))
        # within 3 points of the mark-3 line: how many at or above it
        near = [
            r.primary_score >= OGE_SCALE[r.subject][0]
            for r in og
            if r.primary_score is not None
            and abs(r.primary_score - OGE_SCALE[r.subject][0] + 0.5) < 3
        ]
        put("oge_boundary_band_share", sum(near), len(near))
        fed = [r for r in rows if isinstance(r, FederalNonObjectivityListed)]
        if fed:
            put("federal_nonobjectivity_list", int(any(r.listed for r in fed)), 1)
        staff = [r for r in rows if isinstance(r, StaffingPositionsReported)]
        latest = [r for r in staff if r.as_of == max(x.as_of for x in staff)] if staff else []
        posts = sum(r.posts for r in latest)
        filled = sum(r.filled for r in latest)
        put("staffing_fill_share", filled, posts)
        under = None
        if latest:
            under = (
                sum(r.vacancies for r in latest) > 0
                or filled / posts < prm["understaffed_fill_ratio"]
            )
            put("understaffed", int(under), 1)
        tposts = sum(r.filled for r in latest if r.position == "учитель")
        put(
            "deficits_diagnosed_share",
            len({r.teacher for r in rows if isinstance(r, ProfessionalDeficitsDiagnosed)}),
            tposts,
        )
        courses = [r for r in rows if isinstance(r, QualificationCourseCompleted)]
        put("kpk_own_request_share", len({r.teacher for r in courses if r.on_own_request}), tposts)
        put("kpk_at_risk_share", len({r.teacher for r in courses if r.on_students_at_risk}), tposts)
        put(
            "mentoring_share",
            len({r.mentee for r in rows if isinstance(r, MentoringPairFormed)}),
            tposts,
        )
        put(
            "individual_routes_share",
            len({r.teacher for r in rows if isinstance(r, IndividualRouteOpened)}),
            tposts,
        )
        if c is None:
            continue
        n = c.students_total
        put("accreditation_problem", int(c.accreditation in ("приостановлена", "лишена")), 1)
        put("juvenile_register_share", c.on_juvenile_register, n)
        put("migrant_share", c.migrant_or_low_russian, n)
        put("not_attested_share", c.not_attested, n)
        put("special_needs_share", c.special_needs_confirmed, n)
        put("remote_school", int(c.remote), 1)
        put("small_school", int(c.small_school), 1)
        put("infrastructure_deficit", int(c.infrastructure_deficit), 1)
        unexcused: dict[str, int] = defaultdict(int)
        for r in rows:
            if isinstance(r, LessonsMissed) and r.reason == "неуважительная":
                unexcused[r.student] += r.lessons_missed
        put(
            "systematic_absence_share",
            sum(v >= prm["systematic_absence_lessons"] for v in unexcused.values()),
            n,
        )
        olymp = [r for r in res if r.procedure == "ВсОШ"]
        put("olympiad_participation_share", len({r.student for r in olymp}), n)
        put(
            "olympiad_prize_share",
            len({r.student for r in olymp if r.olympiad_status in ("призёр", "победитель")}),
            n,
        )
        # wellbeing index: 100 minus weights of criteria that fire
        wi = next(i for i in raw["indicators"] if i["id"] == "wellbeing_index")
        total_w = sum(cr["weight"] for cr in wi["criteria"])
        fired = 0.0
        for cr in wi["criteria"]:
            v = out.get((cr["indicator"], school, year))
            if v is None:
                continue
            scale = (
                1
                if cr["indicator"]
                in ("remote_school", "small_school", "infrastructure_deficit", "understaffed")
                else 100
            )
            if v[0] / v[1] * scale >= cr["at_least"]:
                fired += cr["weight"]
        put("wellbeing_index", total_w - fired, total_w)
    out.update(expected_direction_values(facts))
    return out


def previous_year(year: str) -> str:
    start = int(year[:4]) - 1
    return f"{start}/{(start + 1) % 100:02d}"


def roll(ctx: Any, grade: int) -> int | None:
    """«общее количество обучающихся в классе»: the parallel's roll in the context."""
    return getattr(ctx, f"enrolled_grade_{grade}", None) if ctx is not None else None


def spearman(pairs: list[tuple[int, int]]) -> float | None:
    """Spearman's ρ the textbook way: rank each side (ties get their average rank), then
    Pearson's r of the ranks."""

    def ranks(xs: list[int]) -> list[float]:
        order = sorted(range(len(xs)), key=lambda i: xs[i])
        out = [0.0] * len(xs)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return out

    if len(pairs) < 2:
        return None
    a, b = ranks([p[0] for p in pairs]), ranks([p[1] for p in pairs])
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    if not va or not vb:
        return None
    return float(cov / (va * vb) ** 0.5)


def units() -> dict[str, str]:
    return _units()


def as_value(ind: str, num: float, den: float) -> float:
    return num / den * (1 if units()[ind] in ("flag", "coefficient", "score") else 100)


def expected_lists(
    values: dict[tuple[str, str, str], tuple[float, float]], screening: bool = True
) -> dict[tuple[str, str], set[str]]:
    """(list, year) -> member schools, by counting risk-crossing indicators."""
    raw = catalogue_raw()
    th = {i["id"]: i.get("threshold") for i in raw["indicators"]}
    schools_years = {(s, y) for _, s, y in values}

    def risky(ind: str, s: str, y: str) -> bool:
        v, t = values.get((ind, s, y)), th[ind]
        if v is None or t is None:
            return False
        x = as_value(ind, *v)
        return x > t["value"] if t["risk_if"] == "above" else x < t["value"]

    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name, rule in raw["lists"].items():
        if rule["rule"] == "lowest":
            # seed 002: the schools with the lowest index — the bottom share of the region's
            # schools that have one, in each year (ties with the last one taken are in)
            for y in {y for _, y in schools_years}:
                have = {s: as_value(rule["indicators"][0], *values[(rule["indicators"][0], s, yy)])
                        for s, yy in schools_years if yy == y
                        and (rule["indicators"][0], s, yy) in values}  # fmt: skip
                k = math.ceil(rule["bottom_share"] * len(have) - 1e-9)
                cut = sorted(have.values())[k - 1] if k else None
                out[(name, y)] = {s for s, v in have.items() if cut is not None and v <= cut}
            continue
        for s, y in schools_years:
            n = sum(risky(i, s, y) for i in rule["indicators"])
            if n >= rule["min_count"] or any(risky(i, s, y) for i in rule.get("always", ())):
                out[(name, y)].add(s)
    # the region-relative signs are judged on read (GET /lists), not by the projection's events
    for y, flagged in (expected_screening(values) if screening else {}).items():
        out[("признаки необъективности", y)] |= flagged
    return out


def expected_screening(
    values: dict[tuple[str, str, str], tuple[float, float]],
) -> dict[str, set[str]]:
    """Region-relative signs of non-objectivity per year, from the rules as written: ВПР 8 кл.
    quality ≥ 15 points above the region's in the previous year while the cohort's ОГЭ quality
    stands ≥ 20 points less above the region's (≥ 10 results each); the share just above the
    «3» line ≥ 1.3 × the region's with P(X ≥ k | n, region share) ≤ 0.001, n ≥ 10."""

    def of(ind: str, y: str) -> dict[str, tuple[float, float]]:
        return {s: v for (i, s, yy), v in values.items() if i == ind and yy == y and v[1]}

    def region(xs: dict[str, tuple[float, float]]) -> Fraction | None:
        den = sum(d for _, d in xs.values())
        return Fraction(int(sum(n for n, _ in xs.values())), int(den)) if den else None

    out: dict[str, set[str]] = defaultdict(set)
    for y in sorted({y for _, _, y in values}):
        prev = f"{int(y[:4]) - 1}/{int(y[:4]) % 100:02d}"
        v8, og = of("vpr_quality_share_g8", prev), of("oge_quality_share", y)
        r8, ro = region(v8), region(og)
        for s in set(v8) & set(og):
            if r8 is None or ro is None or min(v8[s][1], og[s][1]) < 10:
                continue
            gap8 = 100 * (Fraction(int(v8[s][0]), int(v8[s][1])) - r8)
            gapo = 100 * (Fraction(int(og[s][0]), int(og[s][1])) - ro)
            if gap8 >= 15 and gap8 - gapo >= 20:
                out[y].add(s)
        band = of("oge_boundary_band_share", y)
        p0 = region(band)
        for s, (k, n) in band.items():
            if p0 is None or n < 10:
                continue
            k_, n_ = int(k), int(n)
            tail = sum(math.comb(n_, i) * p0**i * (1 - p0) ** (n_ - i) for i in range(k_, n_ + 1))
            if Fraction(k_, n_) >= Fraction(13, 10) * p0 and tail <= Fraction(1, 1000):
                out[y].add(s)
    return out


async def wait_for(predicate, within: float = 30.0, every: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(every)
