"""What the reading worker hands the service for rows built by columns, and which formats
can be built so (:mod:`shkala_ingest.domain.fast_rows` builds them; this module stays free of
polars, which only the worker loads)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.formats import UploadFormat
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.domain.rows import PSEUDONYM_TO_RAW, RowBuilder, _unwrap, field_kind

RULE_FIELDS: dict[type, tuple[str, ...]] = {
    AssessmentResultRecorded: (
        "procedure",
        "olympiad_stage",
        "olympiad_status",
        "test_score",
        "mark",
    ),
}
"""The fields a fact's cross-field rule (its ``model_validator``) reads: the rule is checked
once per distinct combination of them. A fact with a rule not listed here stays per row."""

SUPPORTED_KINDS = {"str", "date", "int", "float", "bool", "list"}


@dataclass
class FastChunk:
    """One chunk of data rows: ``rows`` (file row numbers of the non-blank rows), ``slow``
    (position → cells, the rows the per-row builder decides), and for the others, in order,
    school, academic year, originator id, content hash and the encoded payload."""

    rows: list[int]
    slow: dict[int, list[Any]]
    school: list[str]
    year: list[str | None]
    oid: list[str]
    hash: list[str]
    body: list[bytes]

    def as_frame(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "slow": self.slow,
            "school": self.school,
            "year": self.year,
            "oid": self.oid,
            "hash": self.hash,
            "body": self.body,
        }

    @classmethod
    def from_frame(cls, d: dict[str, Any]) -> FastChunk:
        return cls(d["rows"], d["slow"], d["school"], d["year"], d["oid"], d["hash"], d["body"])


def supports(fmt: UploadFormat) -> bool:
    """Whether a format's rows can be built by columns (else they stay per row)."""
    fact = fmt.fact
    deco = fact.__pydantic_decorators__
    if fmt.extra_fields or fmt.school_refs or fmt.kind == "org-units" or deco.field_validators:
        return False
    if deco.model_validators and fact not in RULE_FIELDS:
        return False
    if "school_id" not in fact.model_fields:
        return False
    kinds = RowBuilder(fmt, Pseudonymiser(b"0" * 16)).kinds
    for name, f in fact.model_fields.items():
        if name == "tasks" and fact is AssessmentResultRecorded:
            continue
        if name in PSEUDONYM_TO_RAW:
            continue
        kind = kinds.get(name) or field_kind(f.annotation)
        if kind not in SUPPORTED_KINDS or (kind == "list" and not _is_str_tuple(f.annotation)):
            return False
    return True


def _is_str_tuple(annotation: Any) -> bool:
    args: tuple[Any, ...] = getattr(_unwrap(annotation), "__args__", ())
    return bool(args) and args[0] is str
