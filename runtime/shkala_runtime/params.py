"""Query parameters every API shares: an org-unit id in a filter is refused with a 422 when it
cannot be one (a NUL byte or a kilobyte of text would reach the database otherwise)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from shkala_contracts.vocabulary import ORG_ID_PATTERN

OrgUnitFilter = Annotated[
    str | None,
    Query(min_length=1, max_length=64, pattern=ORG_ID_PATTERN, description="Org-unit id"),
]

__all__ = ["OrgUnitFilter"]
