"""The Tula, Yefremov and Arkhangelsk templates map their sections to the nine directions
(issue 17), so a direction's cycle finds their rows. Expected directions are read from the
seeds' own section titles (what each section is about), not from the mapping table."""

from shkala_contracts.vocabulary import Direction as D
from shkala_plans.domain.templates import load_seed_templates

TEMPLATES = {t.id: t for t in load_seed_templates()}


def directions_of_rows(template_id: str) -> dict[str, D | None]:
    t = TEMPLATES[template_id]
    by_key = {s.key: s.direction for s in t.sections}
    return {r.number or "": by_key.get(r.section_key or "") for r in t.rows}


def test_tula_fioko_rows_2_1_to_2_9_are_the_nine_directions_in_order():
    rows = directions_of_rows("tula-fioko-2021")
    assert [rows[f"2.{i}"] for i in range(1, 10)] == [
        D.ASSESSMENT,
        D.LOW_RESULTS,
        D.TALENTS,
        D.CAREER,
        D.OBJECTIVITY,
        D.PRINCIPALS,
        D.TEACHER_DEVELOPMENT,
        D.METHODICAL_WORK,
        D.UPBRINGING,
    ]
    # section 1 («единый подход … в логике управленческого цикла») serves every direction
    assert {rows["1.1"], rows["1.2"], rows["1.3"]} == {None}
    t = TEMPLATES["tula-fioko-2021"]
    assert len(t.rows) == 12  # nothing lost by the split
    assert {s.title for s in t.sections if s.direction is D.METHODICAL_WORK} == {
        "Система методической работы"
    }


def test_tula_shnor_sections_are_low_results_and_objectivity():
    rows = directions_of_rows("tula-shnor-2021")
    # 2.x: «Проведение мониторингов качества образования в школах с низкими
    # образовательными результатами»
    assert {rows[f"2.{i}"] for i in range(1, 8)} == {D.LOW_RESULTS}
    assert rows["3.1"] is D.OBJECTIVITY
    assert {rows[f"4.{i}"] for i in range(1, 13)} == {D.LOW_RESULTS}


def test_yefremov_programme_tasks_have_directions():
    rows = directions_of_rows("yefremov-2021-2025")
    assert rows["1.6"] is D.ASSESSMENT  # мониторинг качества подготовки в рамках ВПР
    assert rows["2.2"] is D.LOW_RESULTS  # адресные мероприятия по поддержке ШНОР и ШНСУ
    assert rows["3.4"] is D.LOW_RESULTS  # партнёрство ШНОР с ведущими школами
    assert rows["4.2"] is D.TEACHER_DEVELOPMENT  # диагностика профессиональных дефицитов
    assert rows["5.1"] is D.METHODICAL_WORK  # развитие педагогических сообществ
    assert rows["6.1"] is D.OBJECTIVITY  # независимая оценка
    assert None not in rows.values()


def test_arkhangelsk_plan_sections_have_directions_but_the_general_ones():
    rows = directions_of_rows("arkhangelsk-2021-2025")
    assert rows["2.2"] is D.ASSESSMENT  # мониторинг деятельности организаций
    assert rows["3.1"] is D.ASSESSMENT  # ВСОКО
    assert rows["4.1"] is D.LOW_RESULTS  # нижние позиции в муниципальном рейтинге
    assert rows["5.2"] is D.LOW_RESULTS  # сопровождение учащихся с низкими результатами
    assert {rows["7.1"], rows["7.2"], rows["7.3"]} == {D.OBJECTIVITY}
    # organising the plan itself and informing the public serve every direction
    assert {rows["1.1"], rows["6.1"]} == {None}


async def test_a_roadmap_from_the_tula_template_feeds_each_directions_cycle():
    from shkala_plans.service_layer import cycle_view, roadmaps
    from shkala_runtime.auth import Principal, Role

    from .fakes import fake_deps

    deps, _ = fake_deps()
    mun = Principal(subject="h", role=Role.MUNICIPALITY, region="r", municipality="m1")
    await roadmaps.create_roadmap(
        deps,
        mun,
        region="r",
        municipality="m1",
        school=None,
        title="Тула",
        template_id="tula-fioko-2021",
        templates=TEMPLATES,
    )
    view = await cycle_view.management_cycle(
        deps, mun, region="r", municipality="m1", direction=D.METHODICAL_WORK
    )
    assert [g["number"] for g in view["goals"]] == ["2.8"]
