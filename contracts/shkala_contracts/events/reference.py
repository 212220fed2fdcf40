"""Reference data that names no school: the region's (or a municipality's) description of
what the assessments check, uploaded once and used by every school's analysis."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shkala_contracts.base import Fact
from shkala_contracts.vocabulary import AcademicYear, Grade

TOPIC = "shkala.reference.v1"


class VprTaskPlannedResult(Fact):
    """One planned result (планируемый результат, проверяемое умение) that one ВПР task
    checks, from the assessment's description (описание КИМ / обобщённый план варианта).

    A task may check several planned results: one fact per (task, planned result). Seed 000
    item 5.3 asks for deficits «в виде несформированности планируемых результатов для каждого
    обучающегося, класса, параллели и образовательной организации»; this mapping turns the
    per-task points of the protocols into those.

    Natural key: academic year, subject, grade, task and planned-result code; a later row
    with the same key corrects the text. Keyed (partitioned) by the assessment, so every row
    of one year, subject and grade stays in order.
    """

    event_type: ClassVar[str] = "ru.shkala.reference.vpr_task_planned_result.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = (
        "academic_year",
        "subject",
        "grade",
        "task",
        "planned_result_code",
    )

    academic_year: AcademicYear
    subject: str = Field(min_length=1, max_length=64, description="Предмет, e.g. математика")
    grade: Grade
    task: str = Field(
        min_length=1,
        max_length=16,
        pattern=r"^[0-9]+(\.[0-9]+)?$",
        description="Номер задания, e.g. 1, 9.1 (as in the protocol's «Задание N» columns)",
    )
    planned_result_code: str = Field(
        min_length=1, max_length=32, description="Код планируемого результата (КЭС/КПУ), e.g. 1.2"
    )
    planned_result: str = Field(
        min_length=1, max_length=1000, description="Планируемый результат (проверяемое умение)"
    )

    def partition_key(self) -> str:
        return f"{self.academic_year}|{self.subject}|{self.grade}"
