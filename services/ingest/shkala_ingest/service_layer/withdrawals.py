"""Withdrawing facts a school or municipality submitted by mistake (отзыв данных).

Each row names one fact by its natural key; the fact must be on the log (its stream known)
and inside the caller's tenant. All rows pass or nothing is published; the withdrawals of
one request go in one Kafka transaction, each the next version of the fact's stream. A
withdrawal changes its monitoring period like an upload: one touching a locked period is
refused the same way (``periods``, the import's lock check, ADR 0006).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shkala_contracts import Tenant
from shkala_contracts.events.withdrawals import FactWithdrawn
from shkala_contracts.formats import FORMATS, names_no_school
from shkala_ingest.domain.errors import ImportRejected, NotAllowed, UnknownFormat
from shkala_ingest.domain.pseudonyms import Pseudonymiser
from shkala_ingest.domain.rows import RowError
from shkala_ingest.domain.withdrawals import natural_key_of
from shkala_runtime.auth import Principal
from shkala_runtime.problems import Problem
from shkala_runtime.transactions import HeaderTemplate, Record, TransactionalPublisher, now_text

WITHDRAWN = "withdrawn"
"""The content hash a withdrawn stream is recorded with: any later submission differs."""


@dataclass(frozen=True)
class Touch:
    """A row's (school, school year), as the period check reads an import's rows."""

    row: int
    year: str | None
    tenant: Tenant


PeriodCheck = Callable[[Sequence[Touch]], Awaitable[Problem | None]]


class WithdrawalStore(Protocol):
    async def schools(self) -> dict[str, dict[str, Any]]: ...

    async def known(self, partition: str) -> dict[str, tuple[str, int]]: ...

    async def record(self, partition: str, published: Sequence[tuple[str, str, int]]) -> None: ...


async def withdraw(
    *,
    kind: str,
    principal: Principal,
    rows: Sequence[dict[str, Any]],
    reason: str | None,
    store: WithdrawalStore,
    publisher: TransactionalPublisher,
    pseudonymiser: Pseudonymiser,
    source: str,
    topic_name: Any,
    cap: int = 100,
    periods: PeriodCheck | None = None,
) -> dict[str, Any]:
    fmt = FORMATS.get(kind)
    if fmt is None:
        raise UnknownFormat(f"no upload format {kind!r}; known: {', '.join(FORMATS)}")
    if kind == "org-units":
        raise NotAllowed("registry units are not withdrawn; upload the registry corrected")
    if names_no_school(fmt):
        raise NotAllowed(f"{kind!r} is reference data: upload its rows corrected")
    registry = await store.schools()
    streams: dict[str, dict[str, tuple[str, int]]] = {}
    errors: list[RowError] = []
    chosen: dict[str, tuple[FactWithdrawn, Tenant, int]] = {}
    touches: list[Touch] = []
    for i, item in enumerate(rows, start=1):
        school, key, errs = natural_key_of(fmt, i, item, pseudonymiser)
        if errs or school is None:
            errors.extend(errs)
            continue
        doc = registry.get(school)
        if doc is None:
            errors.append(RowError(i, "school_id", school, "not registered", "unregistered"))
            continue
        tenant = Tenant(region=doc["region_id"], municipality=doc["municipality_id"], school=school)
        if not principal.can_access(tenant):
            errors.append(RowError(i, "school_id", school, "outside your tenant", "forbidden"))
            continue
        event = FactWithdrawn.of(fmt.fact, school, key, reason=reason)
        assert isinstance(event, FactWithdrawn)
        oid = event.originator_id()
        if school not in streams:
            streams[school] = await store.known(school)
        prev = streams[school].get(oid)
        if prev is None or prev[0] == WITHDRAWN:
            errors.append(
                RowError(
                    i,
                    None,
                    None,
                    "no such fact is on the log (or it is withdrawn already)",
                    "unknown-fact",
                )
            )
            continue
        chosen.setdefault(oid, (event, tenant, prev[1] + 1))
        year = key.get("academic_year")
        touches.append(Touch(i, str(year) if year else None, tenant))
    if errors:
        forbidden = any(e.code == "forbidden" for e in errors)
        raise ImportRejected(
            "forbidden-rows" if forbidden else "invalid-rows",
            f"{len(errors)} error(s) in the withdrawal; nothing was withdrawn",
            errors=[e.as_dict() for e in errors[:cap]],
            total_errors=len(errors),
        )
    if periods is not None and (locked := await periods(touches)) is not None:
        raise ImportRejected(
            locked.type.rsplit(":", 1)[-1], locked.detail or locked.title, **locked.extensions
        )
    time = now_text().encode()
    templates: dict[str, HeaderTemplate] = {}
    records = []
    for oid, (event, tenant, version) in chosen.items():
        template = templates.setdefault(event.event_type, HeaderTemplate(event.event_type, source))
        records.append(
            Record(
                topic_name(event.topic),
                event.partition_key().encode(),
                event.model_dump_json().encode(),
                template.headers(originator_id=oid, version=version, tenant=tenant, time=time),
                event.event_type,
            )
        )
    async with publisher.transaction() as tx:
        await tx.send(records)
    done: dict[str, list[tuple[str, str, int]]] = {}
    for oid, (event, _, version) in chosen.items():
        done.setdefault(event.school_id, []).append((oid, WITHDRAWN, version))
    for school, items in done.items():
        await store.record(school, items)
    return {"kind": kind, "withdrawn": len(records), "log_positions": tx.positions}
