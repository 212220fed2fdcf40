"""Which fact a withdrawal names: a row of natural-key fields (as in the format's JSON
batches, raw personal ids included) becomes the fact's key in the fact's own words.

Only the key is checked here (types, vocabularies, pseudonyms); whether such a fact was ever
submitted is the service layer's question (the stream store)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from shkala_contracts.formats import PERSONAL_IDS, UploadFormat, normalise_header
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.domain.rows import CONVERTERS, REDACTED, RowError, field_kind

RAW_OF = {v: k for k, v in PERSONAL_IDS.items()}


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def withdrawal_fields(fmt: UploadFormat) -> list[str]:
    """The fields a withdrawal row of this format gives: the school and the natural key."""
    names = ["school_id"]
    for f in fmt.fact.key_fields:
        if f in fmt.fixed:
            continue
        names.append(RAW_OF.get(f, f))
    return names


def natural_key_of(
    fmt: UploadFormat, row: int, item: Mapping[str, Any], pseudonymiser: Pseudonymiser
) -> tuple[str | None, dict[str, Any], list[RowError]]:
    """``(school_id, key, errors)``: the key as the fact's fields (None where absent)."""
    allowed = set(withdrawal_fields(fmt))
    errors = [
        RowError(row, k, None, f"not a natural-key field; expected {sorted(allowed)}")
        for k in item
        if k not in allowed
    ]
    fields = fmt.fact.model_fields
    key: dict[str, Any] = {}
    for f in fmt.fact.key_fields:
        if f in fmt.fixed:
            key[f] = fmt.fixed[f]
            continue
        raw_name = RAW_OF.get(f, f)
        raw = item.get(raw_name)
        if raw_name in PERSONAL_IDS:
            text = None if raw is None else str(raw).strip() or None
            if text is None:
                errors.append(RowError(row, raw_name, None, "required"))
                continue
            key[f] = pseudonymiser.pseudonym(raw_name, text)
            continue
        annotation = fields[f].annotation
        value = CONVERTERS[field_kind(annotation)](raw)
        if value is None:
            if fields[f].is_required():
                errors.append(RowError(row, raw_name, None, "required"))
            key[f] = None
            continue
        try:
            adapter = _adapter(annotation)  # type: ignore[arg-type]
            key[f] = adapter.validate_python(_vocabulary(annotation, value))
        except ValidationError as exc:
            reason = exc.errors(include_url=False)[0].get("msg", "invalid")
            errors.append(RowError(row, raw_name, _short(raw), reason))
    school = item.get("school_id")
    school_id = None if school is None else str(school).strip() or None
    if school_id is None:
        errors.append(RowError(row, "school_id", None, "required"))
    return school_id, key, errors


def _vocabulary(annotation: Any, value: Any) -> Any:
    """Vocabulary values match whatever their case, as in uploads."""
    from enum import Enum

    from shkala_ingest.domain.rows import _unwrap

    enum = _unwrap(annotation)
    if isinstance(value, str) and isinstance(enum, type) and issubclass(enum, Enum):
        for m in enum:
            if normalise_header(str(m.value)) == normalise_header(value):
                return m.value
    return value


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 100:
        return value[:100] + "…"
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


__all__ = ["REDACTED", "natural_key_of", "withdrawal_fields"]
