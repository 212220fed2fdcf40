"""Org-unit registry: region → municipality → school."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, model_validator

from shkala_contracts.base import Fact
from shkala_contracts.vocabulary import AcademicYear, OrgId

TOPIC = "shkala.org_units.v1"


class RegionRegistered(Fact):
    """A region (субъект РФ) — the top of one deployment's tree."""

    event_type: ClassVar[str] = "ru.shkala.org.region_registered.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("region_id",)

    region_id: OrgId
    name: str = Field(min_length=1, max_length=200)

    def partition_key(self) -> str:
        return self.region_id


class MunicipalityRegistered(Fact):
    """A municipality (муниципалитет: город, район, округ) and its education authority."""

    event_type: ClassVar[str] = "ru.shkala.org.municipality_registered.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("municipality_id",)

    region_id: OrgId
    municipality_id: OrgId
    name: str = Field(min_length=1, max_length=200)

    def partition_key(self) -> str:
        return self.municipality_id


class SchoolKind(StrEnum):
    PRIMARY = "НОШ"
    BASIC = "ООШ"
    SECONDARY = "СОШ"
    GYMNASIUM = "гимназия"
    LYCEUM = "лицей"
    BOARDING = "школа-интернат"


class SchoolRegistered(Fact):
    """A school (образовательная организация, ОО) registered or its attributes changed.

    The natural key is the school id: a second registration with new attributes is the
    change (``SchoolChanged`` is the same fact, corrected).
    """

    event_type: ClassVar[str] = "ru.shkala.org.school_registered.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("school_id",)

    region_id: OrgId
    municipality_id: OrgId
    school_id: OrgId
    name: str = Field(min_length=1, max_length=300, description="Наименование ОО")
    kind: SchoolKind = SchoolKind.SECONDARY
    rural: bool = False
    resource_centre_id: OrgId | None = Field(default=None, description="Ресурсный центр (ОРЦ)")
    network_leader_id: OrgId | None = Field(
        default=None, description="Ведущая школа сетевой пары (для ШНОР)"
    )


class SchoolMoved(Fact):
    """A school moved to another municipality (переподчинение ОО) — by the region only.

    Published just before the ``SchoolRegistered`` that carries the new municipality, on the
    school's partition: consumers that fold ``SchoolRegistered`` need nothing else; this
    event is the record that the move happened, who it was from and to. One stream per
    school: a later move is the stream's next version.
    """

    event_type: ClassVar[str] = "ru.shkala.org.school_moved.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("school_id",)

    region_id: OrgId
    school_id: OrgId
    from_municipality_id: OrgId
    to_municipality_id: OrgId


class NetworkPairFormed(Fact):
    """A network pair (сетевая пара, seed 004 §4.3-4.4 «межшкольное партнёрство и сетевое
    взаимодействие ОО с разным уровнем качества результатов»; seed 002 «сетевое
    взаимодействие … с привлечением педагогов из сильных школ»): a leading school (ведущая
    школа, школа-лидер) supports a school with low results (ШНОР) for one academic year.

    Partitioned by the supported school (``school_id``). Natural key: the supported school,
    the leading school and the academic year; a later row for the same key corrects it
    (``active = false`` ends the pair for that year). Ingest checks the tenant of **both**
    schools. A new type on the org-unit topic: subscribers that fold only the registrations
    ignore it (the ``network_leader_id`` of ``SchoolRegistered`` is the older, yearless form).
    """

    event_type: ClassVar[str] = "ru.shkala.org.network_pair.v1"
    topic: ClassVar[str] = TOPIC
    key_fields: ClassVar[tuple[str, ...]] = ("school_id", "leading_school_id", "academic_year")

    school_id: OrgId = Field(description="Школа, получающая поддержку (ШНОР)")
    leading_school_id: OrgId = Field(description="Ведущая школа (школа-лидер)")
    academic_year: AcademicYear
    active: bool = Field(default=True, description="Пара действует (нет — пара прекращена)")
    since: dt.date | None = Field(default=None, description="Дата соглашения о сетевой паре")
    form: str | None = Field(
        default=None,
        max_length=200,
        description="Форма взаимодействия (уроки педагогов ведущей школы, наставничество…)",
    )

    @model_validator(mode="after")
    def _two_schools(self) -> NetworkPairFormed:
        if self.school_id == self.leading_school_id:
            raise ValueError("leading_school_id equals school_id: a school cannot lead itself")
        return self
