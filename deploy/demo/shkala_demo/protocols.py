"""The shapes of the assessment procedures the demo region sits: task lists, scales, minimums.

The task lists are shaped like the federal ВПР protocols (numbered tasks, some split into
sub-tasks such as ``3.1``, each with its maximum), not copies of a particular year's.
They are constants: every generated region uses the same protocols, whatever its seed.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

MATHS = "математика"
RUSSIAN = "русский язык"


@dataclass(frozen=True, slots=True)
class Task:
    number: str
    max_points: int
    difficulty: float
    """On the ability scale: a student of ability ``a`` scores a point with
    probability ``sigmoid(a - difficulty + 0.6)``."""


@dataclass(frozen=True, slots=True)
class VprProtocol:
    subject: str
    grade: int
    tasks: tuple[Task, ...]

    @property
    def max_total(self) -> int:
        return sum(t.max_points for t in self.tasks)

    def mark(self, total: int) -> int:
        """Primary score → mark by the usual ВПР cut shares of the maximum."""
        share = total / self.max_total
        if share < 0.3:
            return 2
        if share < 0.6:
            return 3
        if share < 0.8:
            return 4
        return 5


def _jitter(*parts: object) -> float:
    """A fixed pseudo-random number in [-0.5, 0.5) from its parts (protocols take no seed)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 - 0.5


def _protocol(subject: str, grade: int, spec: list[tuple[str, int]]) -> VprProtocol:
    n = len(spec)
    tasks = []
    for i, (number, max_points) in enumerate(spec):
        # Later tasks are harder; one task per protocol is the classic deficit (much harder).
        difficulty = -1.4 + 2.4 * i / max(1, n - 1) + 0.8 * _jitter(subject, grade, number)
        if i == n // 2:
            difficulty += 1.2
        tasks.append(Task(number, max_points, round(difficulty, 3)))
    return VprProtocol(subject, grade, tuple(tasks))


def _numbered(*maxima: int | tuple[int, ...]) -> list[tuple[str, int]]:
    """``_numbered(1, 2, (1, 1))`` → tasks 1, 2, 3.1, 3.2."""
    out: list[tuple[str, int]] = []
    for i, m in enumerate(maxima, start=1):
        if isinstance(m, tuple):
            out.extend((f"{i}.{j}", sub) for j, sub in enumerate(m, start=1))
        else:
            out.append((str(i), m))
    return out


_VPR_SPECS: dict[tuple[str, int], list[tuple[str, int]]] = {
    (MATHS, 4): _numbered(1, 1, 2, 1, 1, 2, 1, 2, 1, 2, 2, 2),
    (MATHS, 5): _numbered(1, 1, 1, 1, 1, 1, 1, 2, 2, 1, 2, 1, 2, 2),
    (MATHS, 6): _numbered(1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 2, 2),
    (MATHS, 7): _numbered(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2),
    (MATHS, 8): _numbered(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2),
    (MATHS, 10): _numbered(1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 2),
    (MATHS, 11): _numbered(1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2),
    (RUSSIAN, 4): _numbered(4, 3, (1, 3), 1, 2, (1, 2), 1, 2, 1, 1, 1, 1, (1, 2), 1, 2),
    (RUSSIAN, 5): _numbered(9, (3, 3), 2, 3, 2, 2, 2, 2, 2, 1, 2, 2),
    (RUSSIAN, 6): _numbered(9, 3, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 1),
    (RUSSIAN, 7): _numbered(9, 3, 2, 3, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2),
    (RUSSIAN, 8): _numbered(9, 3, 2, 3, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 1),
    (RUSSIAN, 10): _numbered(3, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 3),
    (RUSSIAN, 11): _numbered(2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3),
    ("окружающий мир", 4): _numbered(2, 3, 2, 2, 2, (1, 2), 2, 3, 3, 3),
    ("история", 5): _numbered(2, 1, 3, 3, 1, 2, 2, 1),
    ("биология", 6): _numbered(2, 2, 1, 2, 3, 2, 2, 2, 3, 2),
    ("география", 7): _numbered(3, 2, 3, 2, 3, 2, 2, 3, 2, 2),
    ("обществознание", 8): _numbered(2, 2, 1, 2, 3, 3, 2, 2, 3, 2),
    ("история", 11): _numbered(1, 2, 2, 1, 1, 3, 2, 3, 3, 2, 3, 2),
}

VPR: dict[tuple[str, int], VprProtocol] = {
    key: _protocol(key[0], key[1], spec) for key, spec in _VPR_SPECS.items()
}
VPR_GRADES = (4, 5, 6, 7, 8, 10, 11)


def vpr_protocols(grade: int) -> list[VprProtocol]:
    return [p for (_, g), p in VPR.items() if g == grade]


def all_vpr_task_columns() -> list[tuple[str, int]]:
    """Every distinct (task, max) across the protocols, in a stable order."""
    pairs = {(t.number, t.max_points) for p in VPR.values() for t in p.tasks}

    def order(pair: tuple[str, int]) -> tuple[int, int, int]:
        number, max_points = pair
        major, _, minor = number.partition(".")
        return int(major), int(minor or 0), max_points

    return sorted(pairs, key=order)


# ОГЭ: maximum primary score and the primary-score cuts for marks 3, 4, 5 (ФИПИ-like).
@dataclass(frozen=True, slots=True)
class OgeScale:
    max_score: int
    cuts: tuple[int, int, int]

    def mark(self, score: int) -> int:
        three, four, five = self.cuts
        return 5 if score >= five else 4 if score >= four else 3 if score >= three else 2

    def logit_share(self, ability: float) -> float:
        """Logit of the expected score share: an average student (0) just reaches mark 4,
        a weak one (-1.8) just reaches mark 3."""
        three, four, _ = self.cuts
        at_zero = _logit(four / self.max_score + 0.02)
        at_weak = _logit(three / self.max_score)
        return at_zero + ability * (at_zero - at_weak) / 1.8


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


OGE: dict[str, OgeScale] = {
    RUSSIAN: OgeScale(33, (15, 23, 29)),
    MATHS: OgeScale(31, (8, 15, 22)),
    "обществознание": OgeScale(37, (14, 24, 32)),
    "информатика": OgeScale(19, (5, 11, 17)),
    "биология": OgeScale(48, (13, 26, 37)),
    "география": OgeScale(31, (12, 19, 25)),
    "английский язык": OgeScale(68, (29, 46, 58)),
    "химия": OgeScale(40, (10, 21, 31)),
    "физика": OgeScale(45, (11, 22, 34)),
}
OGE_ELECTIVES = tuple(s for s in OGE if s not in (MATHS, RUSSIAN))

# ЕГЭ: the minimum test score (порог) per subject, and the mean and slope of the test score
# on the ability scale (score ≈ mean + slope * ability + noise).
EGE_MINIMUM: dict[str, int] = {
    RUSSIAN: 24,
    "математика профильная": 27,
    "обществознание": 42,
    "биология": 36,
    "химия": 36,
    "физика": 36,
    "история": 32,
    "информатика": 40,
    "английский язык": 22,
    "литература": 32,
}
EGE_SCALE: dict[str, tuple[float, float]] = {
    RUSSIAN: (68.0, 15.0),
    "математика профильная": (52.0, 17.0),
    "обществознание": (58.0, 15.0),
    "биология": (54.0, 16.0),
    "химия": (56.0, 18.0),
    "физика": (55.0, 16.0),
    "история": (58.0, 16.0),
    "информатика": (60.0, 17.0),
    "английский язык": (68.0, 15.0),
    "литература": (62.0, 14.0),
}
EGE_MATHS = "математика профильная"
EGE_ELECTIVES = tuple(s for s in EGE_MINIMUM if s not in (RUSSIAN, EGE_MATHS))
EGE_HIGH_SCORE = 81

# РДР: regional diagnostic works, maths and Russian in grades 6 and 9, max primary 20.
RDR_GRADES = (6, 9)
RDR_SUBJECTS = (MATHS, RUSSIAN)
RDR_MAX = 20

OLYMPIAD_SUBJECTS = (
    MATHS,
    RUSSIAN,
    "информатика",
    "физика",
    "биология",
    "история",
    "английский язык",
    "литература",
    "обществознание",
    "экология",
)
