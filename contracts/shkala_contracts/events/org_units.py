"""Org-unit registry: region → municipality → school."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from shkala_contracts.base import Fact
from shkala_contracts.vocabulary import OrgId

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
