"""The library of measures (меры) a targeted recommendation proposes, per problem, each with
the seed item it comes from (seed 002 step 4: «подготовка адресных рекомендаций (по выявленным
проблемным позициям, группам риска, уровням управления)»).

A problem is an indicator family (ids by prefix), a ВПР task / planned result that is a deficit,
or a risk list (ШНОР, ШНСУ, признаки необъективности). Each entry is addressed to one level of
management: the school (``school``) or its municipality (``municipality``). The texts are the
seeds' own measures, shortened; ``source`` names the file and item so a coordinator can check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["school", "municipality"]
LEVELS: tuple[Level, ...] = ("school", "municipality")

S000 = "seed 000_bfba15c98f14acb8.txt"
S002 = "seed 002_2937984b5dfd35f2.txt"
# seed 002, the support indicators table, row 2: «выданы рекомендации по устранению дефицитов
# (проведение индивидуальных занятий с обучающимися, организация ресурсных центров, издание
# методических рекомендаций по предметам, психологическая поддержка обучающихся и т.д.)»
S002_DEFICITS = f"{S002}: показатели, п. 2 «Доля школ ШНОР и ШНСУ … выданы адресные рекомендации»"
S000_SHNOR = f"{S000}: дорожная карта ШНОР и ШНСУ"


@dataclass(frozen=True)
class MeasureEntry:
    """One measure of the library. ``text`` may name ``{subject}``, ``{grade}``, ``{task}``,
    ``{planned_result}`` (ВПР deficits) and ``{indicator}`` (the indicator's Russian name)."""

    key: str
    level: Level
    text: str
    source: str


# indicator id prefix -> the measures for an indicator of that family at risk
BY_INDICATOR: dict[str, tuple[MeasureEntry, ...]] = {
    "vpr_mark2_share": (
        MeasureEntry(
            "vpr-element-analysis",
            "school",
            "Провести поэлементный анализ результатов ВПР по каждому обучающемуся, классу и "
            "параллели, определить несформированные планируемые результаты и внести их "
            "отработку в рабочие программы («{indicator}»).",
            f"{S000}: п. 5.3",
        ),
        MeasureEntry(
            "vpr-monitoring-gaps",
            "municipality",
            "Провести мониторинг качества образования в рамках ВПР в школе с выявлением пробелов "
            "в знаниях обучающихся и профессиональных дефицитов педагогов («{indicator}»).",
            f"{S000_SHNOR}, п. 2.3",
        ),
    ),
    "rdr_mark2_share": (
        MeasureEntry(
            "individual-modules",
            "school",
            "Организовать краткосрочные модули индивидуальной работы с обучающимися по "
            "ликвидации выявленных базовых пробелов в знаниях («{indicator}»).",
            f"{S000_SHNOR}, п. 4.6",
        ),
        MeasureEntry(
            "rdr-analysis",
            "municipality",
            "Проанализировать результаты региональных диагностических работ школы и направить "
            "методические рекомендации по предметам («{indicator}»).",
            f"{S000_SHNOR}, пп. 2.4, 2.7; {S002_DEFICITS}",
        ),
    ),
    "gia_below_minimum_share": (
        MeasureEntry(
            "individual-lessons",
            "school",
            "Провести индивидуальные занятия с обучающимися, не преодолевающими минимальный "
            "порог ГИА по математике и русскому языку («{indicator}»).",
            S002_DEFICITS,
        ),
        MeasureEntry(
            "targeted-consultations",
            "municipality",
            "Провести консультации по оказанию адресной помощи администрации школы "
            "(«{indicator}»).",
            f"{S000_SHNOR}, п. 4.7",
        ),
    ),
    "ege_high_scorers_share": (
        MeasureEntry(
            "resource-centre",
            "municipality",
            "Организовать для обучающихся школы занятия в ресурсном центре по предметам ЕГЭ "
            "(«{indicator}»).",
            S002_DEFICITS,
        ),
    ),
    "vpr_journal_correlation": (
        MeasureEntry(
            "current-marks-review",
            "school",
            "Проанализировать систему текущего оценивания: сопоставить отметки по журналу с "
            "результатами ВПР и срезов, согласовать критерии оценивания («{indicator}»).",
            f"{S002}: показатели ШНОР, п. 1 «корреляция результатов ВПР, текущего оценивания "
            "и срезов»",
        ),
        MeasureEntry(
            "control-check",
            "municipality",
            "Провести срез (контрольную работу) в школе в ходе контрольно-надзорной и/или "
            "профилактической деятельности («{indicator}»).",
            f"{S002}: показатели ШНОР, п. 1",
        ),
    ),
    "accreditation_problem": (
        MeasureEntry(
            "programme-correction",
            "school",
            "Скорректировать образовательную программу школы и её нормативные документы.",
            f"{S000_SHNOR}, п. 4.9",
        ),
        MeasureEntry(
            "targeted-consultations",
            "municipality",
            "Провести консультации по оказанию адресной помощи администрации школы.",
            f"{S000_SHNOR}, п. 4.7",
        ),
    ),
    # objectivity: the ВПР / ОГЭ non-objectivity indices and the medalists' index
    "vpr_lowered_share": (),
    "vpr_raised_share": (),
    "medalists_not_confirming_share": (),
    "oge_lowered_share": (),
    "wellbeing_index": (
        MeasureEntry(
            "psychological-support",
            "school",
            "Организовать психолого-педагогическое сопровождение слабомотивированных "
            "обучающихся и обучающихся «группы риска» («{indicator}»).",
            f"{S000_SHNOR}, п. 4.9; {S002_DEFICITS}",
        ),
        MeasureEntry(
            "parents-involvement",
            "municipality",
            "Вовлечь родителей (законных представителей) обучающихся в работу со школой "
            "(«{indicator}»).",
            f"{S002}: задачи программы ШНОР и ШНСУ, п. 11",
        ),
    ),
    "staffing_fill_share": (
        MeasureEntry(
            "staff-support",
            "municipality",
            "Принять меры поддержки в решении проблем с дефицитом педагогических кадров, в том "
            "числе создать комфортные условия проживания и работы для привлекаемых "
            "специалистов («{indicator}»).",
            f"{S002}: показатели, п. 3 «Наличие мер поддержки в решении проблем с дефицитом "
            "педагогических кадров»",
        ),
        MeasureEntry(
            "network-lessons",
            "school",
            "Внедрить практики сетевого взаимодействия: уроки педагогов из сильных школ, в том "
            "числе с элементами цифровой образовательной среды («{indicator}»).",
            f"{S002}: показатели, п. 3 «Доля школ, внедряющих практики сетевого взаимодействия»",
        ),
    ),
}

OBJECTIVITY_MEASURES = (
    MeasureEntry(
        "objectivity-explaining",
        "school",
        "Обеспечить объективность оценочных процедур: информационно-разъяснительная работа с "
        "педагогами и родителями, своевременное размещение информации на сайте школы "
        "(«{indicator}»).",
        f"{S000_SHNOR}, п. 3.1",
    ),
    MeasureEntry(
        "independent-observation",
        "municipality",
        "Обеспечить общественное/независимое наблюдение и контроль на муниципальном уровне за "
        "соблюдением процедур оценки в школе, исключить конфликт интересов проверяющих "
        "(«{indicator}»).",
        f"{S000}: дорожная карта ФИОКО, п. 2.5",
    ),
)
for _id in (
    "vpr_lowered_share",
    "vpr_raised_share",
    "medalists_not_confirming_share",
    "oge_lowered_share",
):
    BY_INDICATOR[_id] = OBJECTIVITY_MEASURES

# a ВПР task or planned result (проверяемое умение) that is a deficit
VPR_TASK_MEASURES = (
    MeasureEntry(
        "vpr-task-programme",
        "school",
        "Включить в рабочую программу по предмету «{subject}» ({grade} класс) отработку "
        "планируемого результата «{planned_result}»: адресная работа с обучающимися, не "
        "справившимися с заданием {task}.",
        f"{S000}: п. 5.3 «дефициты в виде несформированности планируемых результатов»",
    ),
    MeasureEntry(
        "vpr-task-method-guidance",
        "municipality",
        "Подготовить для учителей предмета «{subject}» методические рекомендации по "
        "формированию планируемого результата «{planned_result}» ({grade} класс, задание "
        "{task}).",
        S002_DEFICITS,
    ),
)

# risk group (list membership) -> the measures for a school on it
BY_LIST: dict[str, tuple[MeasureEntry, ...]] = {
    "ШНОР": (
        MeasureEntry(
            "school-improvement-programme",
            "school",
            "Разработать (скорректировать) школьную программу повышения качества образования "
            "(«дорожную карту») по выявленным причинам низких результатов.",
            f"{S002}: задачи программы ШНОР и ШНСУ, п. 7; {S000_SHNOR}, п. 4.1",
        ),
        MeasureEntry(
            "network-pair",
            "municipality",
            "Организовать сетевую пару: руководитель школы — наставник из числа руководителей "
            "школ-партнёров с высокими результатами; определить индивидуальные маршруты "
            "педагогов по выявленным дефицитам.",
            f"{S000_SHNOR}, пп. 4.3, 4.12",
        ),
    ),
    "ШНСУ": (
        MeasureEntry(
            "psychological-support",
            "school",
            "Организовать психолого-педагогическое сопровождение слабомотивированных "
            "обучающихся и обучающихся «группы риска».",
            f"{S000_SHNOR}, п. 4.9; {S002_DEFICITS}",
        ),
        MeasureEntry(
            "network-partnership",
            "municipality",
            "Включить школу в сетевое партнёрство и обмен опытом со школами с высокими "
            "результатами, в том числе через сетевые педагогические сообщества.",
            f"{S002}: задачи программы ШНОР и ШНСУ, п. 8",
        ),
    ),
    "признаки необъективности": OBJECTIVITY_MEASURES,
}


def measures_for_indicator(indicator_id: str) -> tuple[MeasureEntry, ...]:
    """The measures for an indicator at risk: by exact id, else by the longest prefix
    (``vpr_mark2_share_2y_math`` → ``vpr_mark2_share``)."""
    if indicator_id in BY_INDICATOR:
        return BY_INDICATOR[indicator_id]
    prefixes = [p for p in BY_INDICATOR if indicator_id.startswith(p)]
    return BY_INDICATOR[max(prefixes, key=len)] if prefixes else ()


# an indicator at risk the library has no entry for: the technological map's own steps 4-5
GENERIC = (
    MeasureEntry(
        "cause-analysis",
        "school",
        "Проанализировать причины значения показателя «{indicator}» и включить меры по его "
        "улучшению в школьную «дорожную карту».",
        f"{S002}: технологическая карта, пп. 4-5",
    ),
)
