"""The ВПР task → planned-result mapping the demo region uploads (``vpr-planned-results``):
for every protocol in :mod:`shkala_demo.protocols` and every year, the planned results
(проверяемые умения) each task checks — so the workspace shows deficits by planned result
(seed 000 item 5.3), not only by task.

Shaped like the federal descriptions (обобщённый план варианта): consecutive tasks check
the same skill, some tasks a second one. The texts are generic skills of the subject, not a
copy of a particular year's description. Constant for every seed, like the protocols.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shkala_demo.protocols import MATHS, RUSSIAN, VPR
from shkala_demo.world import Region

SKILLS: dict[str, tuple[str, ...]] = {
    MATHS: (
        "Выполнять арифметические действия с натуральными числами и дробями",
        "Решать текстовые задачи, в том числе на движение и работу",
        "Решать задачи на проценты и пропорции",
        "Читать и интерпретировать данные таблиц и диаграмм",
        "Применять геометрические понятия, вычислять длины и площади",
        "Решать уравнения и преобразовывать выражения",
        "Решать логические задачи, задачи повышенной сложности",
    ),
    RUSSIAN: (
        "Соблюдать орфографические нормы при списывании и письме",
        "Проводить морфемный и словообразовательный анализ",
        "Проводить морфологический анализ слова",
        "Проводить синтаксический анализ предложения, соблюдать пунктуационные нормы",
        "Соблюдать орфоэпические нормы",
        "Определять тему и основную мысль текста",
        "Понимать лексическое значение слова в контексте",
    ),
}
GENERIC = (
    "Знать и понимать основные понятия предмета",
    "Работать с текстом, картой, схемой, иллюстрацией",
    "Устанавливать причинно-следственные связи",
    "Применять знания в новой ситуации",
    "Формулировать и обосновывать свою точку зрения",
)


def mapping(subject: str, grade: int) -> list[tuple[str, str, str]]:
    """``(task, code, text)`` rows for one protocol: task i of n checks skill ⌊i·k/n⌋ of
    the subject's k skills; every third task also the next skill."""
    skills = SKILLS.get(subject, GENERIC)
    tasks = VPR[(subject, grade)].tasks
    n, k = len(tasks), len(skills)
    out: list[tuple[str, str, str]] = []
    for i, task in enumerate(tasks):
        first = i * k // n
        picks = [first] + ([first + 1] if i % 3 == 2 and first + 1 < k else [])
        out.extend((task.number, f"{grade}.{j + 1}", skills[j]) for j in picks)
    return out


def vpr_planned_results(region: Region) -> Iterator[dict[str, Any]]:
    for year in region.years:
        for (subject, grade), _ in sorted(VPR.items()):
            for task, code, text in mapping(subject, grade):
                yield {
                    "academic_year": year,
                    "subject": subject,
                    "grade": grade,
                    "task": task,
                    "planned_result_code": code,
                    "planned_result": text,
                }
