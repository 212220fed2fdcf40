"""The topic catalogue: the one place topic names, keys, partitions and retention live.

Services create these topics at start (idempotently); ``deploy/`` reads the same list.
"""

from __future__ import annotations

from dataclasses import dataclass

UNLIMITED = -1
DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    description: str
    key: str = "school id"
    partitions: int = 6
    retention_ms: int = UNLIMITED
    public: bool = False
    """Other systems may consume it directly (documented in the AsyncAPI document)."""

    @property
    def dead_letter(self) -> str:
        return self.name + DEAD_LETTER_SUFFIX


FACT_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "shkala.org_units.v1",
        "Org-unit registry: regions, municipalities, schools",
        key="the unit's own id",
    ),
    TopicSpec("shkala.facts.assessment.v1", "Assessment results (ВПР, ОГЭ, ЕГЭ, РДР, olympiads…)"),
    TopicSpec("shkala.facts.attendance.v1", "Missed lessons with reason"),
    TopicSpec("shkala.facts.staffing.v1", "Posts, vacancies, movements, teacher development"),
    TopicSpec("shkala.facts.school_context.v1", "Social and material context of schools"),
)
DOMAIN_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "shkala.indicators.v1",
        "Indicator changes, list membership, objectivity flags",
        key="school id (municipality or region id for roll-ups)",
        public=True,
    ),
    TopicSpec(
        "shkala.plans.v1",
        "Roadmaps, recommendations, measures, effectiveness",
        key="school id, else municipality id",
        public=True,
    ),
    TopicSpec(
        "shkala.notify.v1",
        "Operational events of webhook delivery",
        key="subscription id",
        partitions=3,
        public=True,
    ),
)
REFERENCE_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "shkala.reference.v1",
        "Reference data naming no school: ВПР task → planned-result mappings",
        key="the assessment (academic year | subject | grade)",
    ),
)
"""Not a school's facts: the projection does not consume them; read models fold them whole."""
TOPICS: tuple[TopicSpec, ...] = FACT_TOPICS + DOMAIN_TOPICS + REFERENCE_TOPICS


def dead_letter_topics() -> tuple[TopicSpec, ...]:
    """One dead-letter topic per topic: the message as it came, plus the reason in headers."""
    return tuple(
        TopicSpec(
            t.dead_letter,
            f"Dead letters of {t.name}",
            key=t.key,
            partitions=1,
            retention_ms=UNLIMITED,
        )
        for t in TOPICS
    )


def all_topics() -> tuple[TopicSpec, ...]:
    return TOPICS + dead_letter_topics()


def topic(name: str) -> TopicSpec:
    for spec in all_topics():
        if spec.name == name:
            return spec
    raise KeyError(f"unknown topic {name!r}")
