"""Every plans event gets its own Russian sentence naming the school (or municipality), the
row, recommendation, measure or period, and the date."""

import datetime as dt

import pytest

from shkala_contracts import Envelope, Tenant
from shkala_contracts.catalog import EVENT_TYPES
from shkala_contracts.domain_event import DomainEvent
from shkala_contracts.events.cycle import (
    MeasureStatus,
    MeasureStatusChanged,
    MonitoringPeriodApproved,
    MonitoringPeriodLocked,
    MonitoringPeriodReopened,
    MonitoringPeriodReturned,
    MonitoringPeriodSubmitted,
    RecommendationStatus,
    RecommendationStatusChanged,
)
from shkala_contracts.events.plans import (
    EffectivenessEvaluated,
    RecommendationIssued,
    RoadmapRowDue,
    RoadmapRowOverdue,
    Verdict,
)
from shkala_notify.domain.cloudevents import structured
from shkala_notify.domain.texts import describe, named_ids

AT = dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.UTC)
NAMES = {"sch-5": "МБОУ СОШ № 5", "mun-a": "Ишимбайский район"}.get


def ce(event, school="sch-5"):
    env = Envelope.for_event(
        event,
        source="/shkala/plans",
        tenant=Tenant(region="r1", municipality="mun-a", school=school),
        time=AT,
    )
    return structured(env, event)


def text(event, school="sch-5"):
    return describe(ce(event, school), lambda i: NAMES(i) or i)


T = {"region_id": "r1", "municipality_id": "mun-a", "school_id": "sch-5"}
BY_SCHOOL = {"actor_role": "school", "actor_unit": "sch-5"}
BY_MUN = {"actor_role": "municipality", "actor_unit": "mun-a"}
BY_REGION = {"actor_role": "region", "actor_unit": "r1"}
P = {"originator_id": "period:sch-5:2025-26", "period": "2025/26", **T}


def test_row_due_and_overdue_name_school_row_and_date():
    due = RoadmapRowDue(
        originator_id="roadmap:x",
        originator_version=3,
        row_id="r4",
        number="2.3",
        due_on=dt.date(2026, 4, 20),
        **T,
    )
    assert text(due) == (
        "Школа МБОУ СОШ № 5: мероприятие 2.3 дорожной карты нужно выполнить до 20.04.2026"
    )
    overdue = RoadmapRowOverdue(
        originator_id="roadmap:x",
        originator_version=4,
        row_id="r4",
        number=None,
        due_on=dt.date(2026, 1, 1),
        **{**T, "school_id": None},
    )
    assert text(overdue, school=None) == (
        "Муниципалитет Ишимбайский район: просрочено мероприятие r4 дорожной карты — срок"
        " 01.01.2026 прошёл, о выполнении не сообщено"
    )


def test_recommendation_issued_and_accepted():
    issued = RecommendationIssued(
        originator_id="recommendation:1",
        originator_version=1,
        direction="low_results",
        period="2025/26",
        text="Провести диагностику профессиональных дефицитов",
        **T,
    )
    assert text(issued) == (
        "Школа МБОУ СОШ № 5: выдана адресная рекомендация по направлению «работа со ШНОР и"
        " ШНСУ» по итогам 2025/26 учебного года (05.03.2026): «Провести диагностику"
        " профессиональных дефицитов»"
    )
    accepted = RecommendationStatusChanged(
        originator_id="recommendation:1",
        originator_version=2,
        status=RecommendationStatus.ACCEPTED,
        **BY_SCHOOL,
        **T,
    )
    assert text(accepted) == (
        "Школа МБОУ СОШ № 5: рекомендация recommendation:1 принята к исполнению (05.03.2026)"
    )


def test_measure_evaluated_and_its_status():
    ev = EffectivenessEvaluated(
        originator_id="evaluation:m1",
        originator_version=1,
        measure_id="measure:m1",
        baseline_period="2024/25",
        evaluation_period="2025/26",
        verdict=Verdict.EFFECTIVE,
        improved=2,
        worsened=0,
        unchanged=1,
        changes=(),
        left_lists=("sch-5",),
        trigger="request",
        **{**T, "school_id": None},
    )
    assert text(ev, school=None) == (
        "Муниципалитет Ишимбайский район: мера measure:m1 эффективна (2024/25 → 2025/26:"
        " улучшилось 2, ухудшилось 0, без изменений 1; вышли из списков ШНОР/ШНСУ: 1;"
        " 05.03.2026)"
    )
    running = MeasureStatusChanged(
        originator_id="measure:m1",
        originator_version=2,
        status=MeasureStatus.RUNNING,
        **BY_MUN,
        **{**T, "school_id": None},
    )
    assert text(running, school=None) == (
        "Муниципалитет Ишимбайский район: мера measure:m1 — реализуется (05.03.2026)"
    )


def test_period_steps():
    v = iter(range(1, 20))
    assert text(MonitoringPeriodSubmitted(originator_version=next(v), **P, **BY_SCHOOL)) == (
        "Школа МБОУ СОШ № 5 представила данные мониторинга за 2025/26 учебный год на проверку"
        " (05.03.2026)"
    )
    returned = MonitoringPeriodReturned(
        originator_version=next(v), reason="нет протоколов ВПР 5 класса", **P, **BY_MUN
    )
    assert text(returned) == (
        "Данные мониторинга школы МБОУ СОШ № 5 за 2025/26 учебный год возвращены"
        " муниципалитетом на доработку (05.03.2026): «нет протоколов ВПР 5 класса»"
    )
    again = MonitoringPeriodSubmitted(
        originator_version=next(v), resubmission=True, **P, **BY_SCHOOL
    )
    assert text(again).startswith("Школа МБОУ СОШ № 5 повторно представила данные")
    assert text(MonitoringPeriodApproved(originator_version=next(v), **P, **BY_MUN)) == (
        "Данные мониторинга школы МБОУ СОШ № 5 за 2025/26 учебный год утверждены"
        " муниципалитетом (05.03.2026)"
    )
    assert text(MonitoringPeriodLocked(originator_version=next(v), **P, **BY_REGION)) == (
        "Период мониторинга 2025/26 учебного года школы МБОУ СОШ № 5 закрыт регионом"
        " (05.03.2026); изменить данные можно только после его повторного открытия"
        " региональным оператором"
    )
    reopened = MonitoringPeriodReopened(
        originator_version=next(v), reason="ошибка в протоколе", **P, **BY_REGION
    )
    assert "снова открыт регионом (05.03.2026): «ошибка в протоколе»" in text(reopened)


@pytest.mark.parametrize(
    "event_type",
    sorted(t for t, c in EVENT_TYPES.items() if t.startswith("ru.shkala.plans.")),
)
def test_no_plans_event_falls_back_to_the_generic_sentence(event_type):
    assert issubclass(EVENT_TYPES[event_type], DomainEvent)
    sentence = describe(
        {"type": event_type, "region": "r1", "municipality": "mun-a", "data": {}, "time": AT}
    )
    assert "событие «" not in sentence


def test_a_proposal_accepted_or_dismissed_says_what_became_of_it():
    from shkala_contracts.events.plans import ProposalAccepted, ProposalDismissed

    common = {
        "originator_id": "proposal:sch-5~2025-26~abc",
        "originator_version": 1,
        "period": "2025/26",
        "direction": "low_results",
        "level": "school",
        "problem_kind": "indicator",
        "problem_key": "vpr_mark2_share_math",
        "measure_key": "vpr-element-analysis",
        "measure_source": "seed 000: п. 5.3",
        "proposed_text": "Провести поэлементный анализ",
        **BY_MUN,
        **T,
    }
    accepted = ProposalAccepted(
        **common, text="Провести анализ ВПР", recommendation_id="recommendation:pabc"
    )
    assert text(accepted) == (
        "Школа МБОУ СОШ № 5: принято предложение адресной рекомендации по направлению «работа"
        " со ШНОР и ШНСУ» по итогам 2025/26 учебного года (05.03.2026), выдана рекомендация:"
        " «Провести анализ ВПР»"
    )
    dismissed = ProposalDismissed(**common, reason="Уже в дорожной карте")
    assert text(dismissed).endswith("(05.03.2026): «Уже в дорожной карте»")


def test_rows_measures_and_recommendations_by_their_titles_once_known():
    """The title notify learned from the object's first event names it in later sentences
    (the id only while it is not known)."""
    titles = {
        "roadmap:x|r4": "Семинар для учителей математики по итогам ВПР",
        "measure:m1": "Наставничество для ШНОР",
        "recommendation:1": "Провести диагностику профессиональных дефицитов",
    }

    def named(event, school="sch-5"):
        return describe(ce(event, school), lambda i: titles.get(i) or NAMES(i) or i)

    due = RoadmapRowDue(
        originator_id="roadmap:x", originator_version=3, row_id="r4", number="2.3",
        due_on=dt.date(2026, 4, 20), **T,
    )  # fmt: skip
    assert named(due) == (
        "Школа МБОУ СОШ № 5: мероприятие 2.3 «Семинар для учителей математики по итогам ВПР»"
        " дорожной карты нужно выполнить до 20.04.2026"
    )
    running = MeasureStatusChanged(
        originator_id="measure:m1", originator_version=2, status=MeasureStatus.RUNNING,
        **BY_MUN, **{**T, "school_id": None},
    )  # fmt: skip
    assert named(running, school=None) == (
        "Муниципалитет Ишимбайский район: мера «Наставничество для ШНОР» — реализуется (05.03.2026)"
    )
    accepted = RecommendationStatusChanged(
        originator_id="recommendation:1", originator_version=2,
        status=RecommendationStatus.ACCEPTED, **BY_SCHOOL, **T,
    )  # fmt: skip
    assert named(accepted) == (
        "Школа МБОУ СОШ № 5: рекомендация «Провести диагностику профессиональных дефицитов»"
        " принята к исполнению (05.03.2026)"
    )
    assert named_ids(ce(due)) == {"roadmap:x|r4"}
    assert named_ids(ce(running)) == {"measure:m1"}


def test_only_plans_events_name_titles_to_look_up():
    """An indicator event's originator is no title: nothing to ask the database for (the
    fan-out looks the named ids up before each sentence)."""
    from shkala_contracts.events.indicators import IndicatorValueChanged, Scope

    value = IndicatorValueChanged(
        originator_id="indicator:vpr_mark2_share_math|school|sch-5|2025/26",
        originator_version=1, indicator_id="vpr_mark2_share_math", direction="low_results",
        scope=Scope.SCHOOL, period="2025/26", definition_version="1", old_value=None,
        new_value=10.0, numerator=1, denominator=10, **T,
    )  # fmt: skip
    assert named_ids(ce(value)) == set()
