"""The synthetic region itself: municipalities, schools, students, teachers and the designs.

Only what has to be consistent across files lives here (a student's ability, class and
cohort; a teacher's school and years; which schools were built to be ШНОР…). The facts
(results, absences, courses…) are drawn from it per file and per school by
:mod:`shkala_demo.facts`, each from its own seeded generator, so any file can be produced
alone and comes out byte-identical for the same seed.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

REGION_ID = "99"
REGION_NAME = "Демонстрационная область"


@dataclass(frozen=True, slots=True)
class RegionSpec:
    seed: int = 2026
    municipalities: int = 26
    schools: int = 420
    students: int = 95_000
    """Students enrolled in the latest academic year (graduates of earlier years come on top)."""
    years: tuple[str, ...] = ("2024/25", "2025/26")

    def __post_init__(self) -> None:
        if self.municipalities < 1 or self.schools < self.municipalities:
            raise ValueError("need at least one school per municipality")
        if self.students < 11 * self.schools:
            raise ValueError("need at least 11 students per school (one per grade)")
        if not self.years:
            raise ValueError("need at least one academic year")


DEFAULT = RegionSpec()
TINY = RegionSpec(seed=7, municipalities=2, schools=8, students=400)
"""For tests: one of each designed kind of school, generated in a blink."""


class Student(NamedTuple):
    id: str
    school: int
    cohort: int
    """Grade in the first academic year (grade in year y is ``cohort + y``)."""
    class_index: int
    ability: float
    tilt: float
    """Maths minus Russian, on the ability scale."""
    absentee: bool
    """Misses lessons without a valid reason, month after month (систематические пропуски)."""


class Teacher(NamedTuple):
    id: str
    school: int
    subject: str | None
    """None for specialists (psychologist, speech therapist…)."""
    position: str
    first_year: int
    last_year: int
    """Index of the last academic year the teacher works (inclusive)."""
    novice: bool


@dataclass(slots=True)
class Municipality:
    id: str
    name: str
    city: bool


@dataclass(slots=True)
class School:
    index: int
    id: str
    municipality: int
    name: str
    kind: str
    rural: bool
    max_grade: int
    mean_ability: float
    low_results: bool = False
    poor_context: bool = False
    nonobjective_journal: bool = False
    nonobjective_vpr: bool = False
    boundary_anomaly: bool = False
    """ОГЭ maths/Russian scores 1-2 points below the mark-3 line are pulled up to it."""
    resource_centre_id: str | None = None
    network_leader_id: str | None = None
    principal_id: str = ""
    students: list[Student] = field(default_factory=list)
    teachers: list[Teacher] = field(default_factory=list)

    latest_size: int = 0
    """Students enrolled in the latest academic year."""

    @property
    def small(self) -> bool:
        """Малокомплектная: under 100 students."""
        return self.latest_size < 100

    def enrolled(self, year: int) -> int:
        return sum(1 for _ in self.roster(year))

    def roster(self, year: int) -> Iterator[tuple[Student, int]]:
        """(student, grade) of everybody enrolled in academic year index ``year``."""
        for s in self.students:
            grade = s.cohort + year
            if 1 <= grade <= self.max_grade:
                yield s, grade


@dataclass(slots=True)
class Region:
    spec: RegionSpec
    municipalities: list[Municipality]
    schools: list[School]

    @property
    def id(self) -> str:
        return REGION_ID

    @property
    def name(self) -> str:
        return REGION_NAME

    @property
    def years(self) -> tuple[str, ...]:
        return self.spec.years

    def _ids(self, flag: str) -> frozenset[str]:
        return frozenset(s.id for s in self.schools if getattr(s, flag))

    @property
    def designed_low_results(self) -> frozenset[str]:
        """Schools built to be ШНОР: many marks 2, low ЕГЭ, below the ГИА minimum."""
        return self._ids("low_results")

    @property
    def designed_poor_context(self) -> frozenset[str]:
        """Schools built to be ШНСУ: ОДН/КДН, migrants, ОВЗ, remote, small, understaffed."""
        return self._ids("poor_context")

    @property
    def designed_nonobjective_journal(self) -> frozenset[str]:
        """Journal marks much higher than ВПР marks; medalists that ЕГЭ does not confirm."""
        return self._ids("nonobjective_journal")

    @property
    def designed_nonobjective_vpr(self) -> frozenset[str]:
        """ВПР marks suspiciously high (not backed by ОГЭ/ЕГЭ), never a public observer."""
        return self._ids("nonobjective_vpr")

    @property
    def designed_boundary_anomaly(self) -> frozenset[str]:
        """ОГЭ scores piled up just above the mark-3 boundary (дотягивание до «3»)."""
        return self._ids("boundary_anomaly")

    @property
    def designed_federal_list(self) -> frozenset[str]:
        """The federal (Рособрнадзор) list of the latest year: the ВПР-inflating schools and
        the first school built plain, which Shkala's own screening has no reason to flag."""
        special = ("low_results", "poor_context", "nonobjective_journal", "nonobjective_vpr",
                   "boundary_anomaly")  # fmt: skip
        plain = [s.id for s in self.schools if not any(getattr(s, f) for f in special)]
        return self.designed_nonobjective_vpr | frozenset(sorted(plain)[:1])

    @property
    def designed_accreditation_suspended(self) -> frozenset[str]:
        """One designed ШНОР school has its accreditation suspended in the latest year."""
        return frozenset(sorted(self.designed_low_results)[:1])

    @property
    def designed_nonobjective(self) -> frozenset[str]:
        return self.designed_nonobjective_journal | self.designed_nonobjective_vpr

    @property
    def systematic_absentees(self) -> frozenset[str]:
        return frozenset(st.id for s in self.schools for st in s.students if st.absentee)

    def school(self, school_id: str) -> School:
        return next(s for s in self.schools if s.id == school_id)

    def metadata(self) -> dict[str, object]:
        return {
            "seed": self.spec.seed,
            "municipalities": len(self.municipalities),
            "schools": len(self.schools),
            "students_latest_year": sum(s.enrolled(len(self.years) - 1) for s in self.schools),
            "students_distinct": sum(len(s.students) for s in self.schools),
            "teachers": sum(len(s.teachers) for s in self.schools),
            "years": list(self.years),
            "designed_low_results": sorted(self.designed_low_results),
            "designed_poor_context": sorted(self.designed_poor_context),
            "designed_nonobjective_journal": sorted(self.designed_nonobjective_journal),
            "designed_nonobjective_vpr": sorted(self.designed_nonobjective_vpr),
            "designed_accreditation_suspended": sorted(self.designed_accreditation_suspended),
            "designed_boundary_anomaly": sorted(self.designed_boundary_anomaly),
            "designed_federal_list": sorted(self.designed_federal_list),
        }


def derive_seed(*parts: object) -> int:
    """A stable 64-bit seed from the region seed and names (unlike hash(), not salted)."""
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


_TOWNS = (
    "Северогорск", "Заречный", "Новоозёрск", "Белокаменск", "Сосновка", "Краснополье",
    "Верхнеречье", "Луговое", "Ключевск", "Старобор", "Каменный Брод", "Ясногорье",
    "Дубравино", "Светлоярск", "Озёрки", "Берёзовка", "Полесск", "Малиновка", "Кедровый",
    "Гористое", "Родниково", "Тихоречье", "Широкий Лог", "Высокогорье", "Приречье",
    "Ольховка", "Боровое", "Солнечногорье", "Каменка", "Липовец",
)  # fmt: skip
_VILLAGES = (
    "Дубровская", "Сосновская", "Берёзовская", "Ольховская", "Луговская", "Полянская",
    "Озёрская", "Ключевская", "Кленовская", "Горская", "Рябиновская", "Вишнёвская",
    "Калиновская", "Моховская", "Каменская", "Липовская", "Троицкая", "Покровская",
    "Никольская", "Успенская",
)  # fmt: skip


def _largest_remainder(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Integers proportional to weights, each at least ``minimum``, summing to ``total``."""
    spare = total - minimum * len(weights)
    w = sum(weights)
    raw = [spare * x / w for x in weights]
    out = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: spare - sum(out)]:
        out[i] += 1
    return [o + minimum for o in out]


# Relative size of grades 1..11 in a school with a senior stage.
_GRADE_WEIGHTS = (1.08, 1.06, 1.04, 1.02, 1.0, 1.0, 0.98, 0.96, 0.95, 0.5, 0.47)
_TEACHER_SUBJECTS = (
    ("математика", 4.0), ("русский язык", 4.0), ("начальные классы", 6.0),
    ("английский язык", 2.0), ("история", 1.2), ("обществознание", 0.6), ("биология", 0.8),
    ("география", 0.7), ("физика", 0.8), ("химия", 0.6), ("информатика", 0.8),
    ("литература", 1.0), ("физическая культура", 1.5), ("музыка", 0.4), ("технология", 0.7),
)  # fmt: skip
_SPECIALISTS = (
    "педагог-психолог", "учитель-логопед", "учитель-дефектолог", "социальный педагог",
    "педагог доп. образования",
)  # fmt: skip


def build_region(spec: RegionSpec = DEFAULT) -> Region:
    """The region for ``spec``: the same spec always builds the same region."""
    rng = random.Random(derive_seed(spec.seed, "region"))
    n_years = len(spec.years)
    last = n_years - 1

    towns = list(_TOWNS)
    rng.shuffle(towns)
    municipalities = []
    for i in range(spec.municipalities):
        town = towns[i] if i < len(towns) else f"{towns[i % len(towns)]}-{i // len(towns) + 1}"
        city = i < max(1, spec.municipalities // 6)
        name = f"г. {town}" if city else f"муниципальный округ {town}"
        municipalities.append(Municipality(f"mo-{i + 1:02d}", name, city))

    # Schools per municipality: cities are bigger; each municipality gets at least one.
    mweights = [(4.0 if m.city else 1.0) * rng.uniform(0.6, 1.4) for m in municipalities]
    per_muni = _largest_remainder(spec.schools, mweights, minimum=1)
    schools: list[School] = []
    for mi, count in enumerate(per_muni):
        muni = municipalities[mi]
        numbers = iter(range(1, 10_000))
        names_taken: set[str] = set()
        for _ in range(count):
            rural = rng.random() < (0.08 if muni.city else 0.55)
            r = rng.random()
            if rural:
                kind = "ООШ" if r < 0.3 else "школа-интернат" if r < 0.33 else "СОШ"
            else:
                kind = "гимназия" if r < 0.1 else "лицей" if r < 0.17 else "СОШ"
            if rural:
                village = _VILLAGES[rng.randrange(len(_VILLAGES))]
                owner = "ГБОУ" if kind == "школа-интернат" else "МКОУ"
                base = f"{owner} «{village} {kind}"
                name, k = f"{base}»", 1
                while name in names_taken:
                    k += 1
                    name = f"{base} № {k}»"
                names_taken.add(name)
            else:
                label = {"гимназия": "Гимназия", "лицей": "Лицей"}.get(kind, "СОШ")
                name = f"МБОУ «{label} № {next(numbers)}»"
            mean = rng.gauss(0.0, 0.3) + (0.45 if kind in ("гимназия", "лицей") else 0.0)
            index = len(schools)
            schools.append(
                School(
                    index=index,
                    id=f"sch-{index + 1:04d}",
                    municipality=mi,
                    name=f"{name} ({muni.name})" if rural else name,
                    kind=kind,
                    rural=rural,
                    max_grade=9 if kind == "ООШ" else 11,
                    mean_ability=mean,
                )
            )

    _design(schools, rng)

    # Students enrolled in the latest year, per school: lognormal sizes, rural ones small.
    sweights = [
        math.exp(rng.gauss(math.log(140 if s.rural else 650), 0.5))
        * (0.5 if s.kind == "ООШ" else 1.0)
        * (0.35 if s.poor_context else 1.0)
        for s in schools
    ]
    per_school = _largest_remainder(spec.students, sweights, minimum=11)
    seq = 0
    for s, n in zip(schools, per_school, strict=True):
        gw = [w if g <= s.max_grade else 0.0 for g, w in enumerate(_GRADE_WEIGHTS, start=1)]
        per_grade = _largest_remainder(n, gw[: s.max_grade], minimum=1)
        s.latest_size = n
        # cohort sizes: grade g in the latest year is cohort g - last; graduates of earlier
        # years (cohorts past max_grade by the latest year) are as big as this year's last grade
        cohorts = {g - last: c for g, c in enumerate(per_grade, start=1)}
        for c in range(s.max_grade - last + 1, s.max_grade + 1):
            cohorts[c] = max(1, round(per_grade[-1] * rng.uniform(0.85, 1.15)))
        absentee_rate = 0.07 if s.poor_context else 0.04 if s.low_results else 0.012
        for cohort in sorted(cohorts):
            size = cohorts[cohort]
            classes = max(1, math.ceil(size / 27))
            for i in range(size):
                seq += 1
                s.students.append(
                    Student(
                        id=f"S-{seq:06d}",
                        school=s.index,
                        cohort=cohort,
                        class_index=i % classes,
                        ability=round(s.mean_ability + rng.gauss(0.0, 1.0), 4),
                        tilt=round(rng.gauss(0.0, 0.5), 4),
                        absentee=rng.random() < absentee_rate,
                    )
                )

    # Teachers and specialists: about one teacher per 11 students, at least 6.
    tseq = 0
    for s in schools:
        s.principal_id = f"D-{s.index + 1:04d}"
        n_teachers = max(6, round(len(s.students) / 11))
        subjects = [name for name, _ in _TEACHER_SUBJECTS]
        weights = [w for _, w in _TEACHER_SUBJECTS]
        staff: list[tuple[str | None, str]] = [(subj, "учитель") for subj in subjects[:3]]
        staff += [
            (rng.choices(subjects, weights)[0], "учитель") for _ in range(n_teachers - len(staff))
        ]
        for position in _SPECIALISTS:
            has = rng.random() < (0.35 if s.poor_context or s.small else 0.8)
            if has:
                staff.append((None, position))
        for subj, position in staff:
            tseq += 1
            first = 0 if rng.random() < 0.92 or n_years == 1 else rng.randrange(1, n_years)
            left = rng.random() < (0.12 if s.poor_context else 0.05)
            last_year = rng.randrange(first, n_years) if left else last
            s.teachers.append(
                Teacher(
                    id=f"T-{tseq:04d}",
                    school=s.index,
                    subject=subj,
                    position=position,
                    first_year=first,
                    last_year=last_year,
                    novice=first > 0 or rng.random() < 0.1,
                )
            )

    # Resource centres (ОРЦ): the strongest school of each municipality serves the others.
    for mi in range(len(municipalities)):
        local = [s for s in schools if s.municipality == mi]
        plain = [s for s in local if not (s.low_results or s.nonobjective_vpr)]
        leader = max(plain or local, key=lambda s: (s.mean_ability, -s.index))
        for s in local:
            if s is not leader and rng.random() < 0.6:
                s.resource_centre_id = leader.id
            if s.low_results and s is not leader:
                s.network_leader_id = leader.id
    return Region(spec, municipalities, schools)


def _design(schools: list[School], rng: random.Random) -> None:
    """Pick the schools built to be ШНОР, ШНСУ and non-objective; the sets are disjoint."""
    n = len(schools)
    pool = [s for s in schools if s.kind not in ("гимназия", "лицей")] or list(schools)
    rng.shuffle(pool)
    rest = [s for s in schools if s not in pool]
    rng.shuffle(rest)
    order = pool + rest

    def take(share: float, prefer_rural: bool = False) -> list[School]:
        k = min(len(order), max(1, round(share * n)))
        if prefer_rural:
            order.sort(key=lambda s: not s.rural)  # stable: keeps the shuffled order inside
        picked, order[:] = order[:k], order[k:]
        return picked

    for s in take(0.08):
        s.low_results = True
        s.mean_ability = rng.uniform(-1.5, -1.1)
    for s in take(0.08, prefer_rural=True):
        s.poor_context = True
        s.mean_ability -= 0.25
    for s in take(0.03):
        s.nonobjective_journal = True
    for s in take(0.03):
        s.nonobjective_vpr = True
    order.sort(key=lambda s: s.rural)  # a town school: enough ОГЭ results to show it
    for s in take(0.01):
        s.boundary_anomaly = True
        s.mean_ability -= 0.9  # weaker: many students near the mark-3 line to pull up
