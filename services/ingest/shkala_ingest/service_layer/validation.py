"""Checking one upload's facts as they stream past: registry, tenant, duplicates, org-unit
parents. Each row is kept only as far as a later row needs it (its natural key, packed);
the errors are collected (the first ``cap`` listed) and refuse the whole file at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shkala_contracts import Tenant
from shkala_contracts.base import Fact
from shkala_contracts.events.org_units import MunicipalityRegistered, RegionRegistered
from shkala_contracts.formats import UploadFormat
from shkala_ingest.domain.errors import ImportRejected
from shkala_ingest.domain.rows import Built, RowError
from shkala_runtime.auth import Principal


@dataclass(slots=True)
class Accepted:
    """A valid row's fact, ready to publish: its value encoded once (``body``)."""

    row: int
    fact: Fact
    tenant: Tenant
    oid: str
    hash: str
    body: bytes


def content_of(fact: Fact) -> tuple[bytes, str]:
    """The fact's JSON (the Kafka value) and the hash that decides skip/correct."""
    body = fact.model_dump_json().encode()
    return body, hashlib.blake2b(body, digest_size=12).hexdigest()


def _packed_key(oid: str) -> bytes:
    return hashlib.blake2b(oid.encode(), digest_size=16).digest()


class Validation:
    """The state of one upload's validation (the rows' own checks are in ``domain/rows``)."""

    def __init__(
        self,
        fmt: UploadFormat,
        principal: Principal,
        *,
        cap: int,
        batch: bool,
        registry: Callable[[], Awaitable[dict[str, dict[str, Any]]]],
    ) -> None:
        self.fmt = fmt
        self.principal = principal
        self.cap = cap
        self.errors: list[RowError] = []
        self.total_errors = 0
        self.forbidden = False
        self.duplicates_skipped = 0
        self._seen: dict[bytes, bytes] = {}
        self._schools: dict[str, dict[str, Any]] = {}
        self._registry = registry
        self._registry_loaded = False
        self.org_units = fmt.kind == "org-units"
        self.parents: dict[str, tuple[int, Fact, Tenant]] = {}
        self._key_names = ", ".join(fmt.fact.key_fields)
        by_field = {c.field: c.header for c in fmt.columns}
        raw = {"student": "student_id", "teacher": "teacher_id", "mentor": "mentor_id",
               "mentee": "mentee_id", "principal": "principal_id"}  # fmt: skip
        self._key_headers = ", ".join(
            by_field.get(raw.get(f, f), f) for f in fmt.fact.key_fields if f not in fmt.fixed
        )
        self._school_header = (
            "school_id" if batch else next(c.header for c in fmt.columns if c.field == "school_id")
        )

    def fail(self, errs: Sequence[RowError]) -> None:
        self.total_errors += len(errs)
        self.forbidden = self.forbidden or any(e.code == "forbidden" for e in errs)
        room = self.cap - len(self.errors)
        if room > 0:
            self.errors.extend(errs[:room])

    async def check(self, built: Built) -> Accepted | None:
        """The row's fact if it passes every cross-row check, else None (errors noted)."""
        fact = built.fact
        if fact is None:
            self.fail(built.errors)
            return None
        sid = str(fact.school_id)  # type: ignore[attr-defined]
        if self.org_units:
            tenant = Tenant(
                region=fact.region_id,  # type: ignore[attr-defined]
                municipality=fact.municipality_id,  # type: ignore[attr-defined]
                school=sid,
            )
        else:
            if sid not in self._schools and not self._registry_loaded:
                # one read of the whole registry (thousands of schools): FerretDB scans
                # per query, so per-school lookups would cost a scan each
                self._schools.update(await self._registry())
                self._registry_loaded = True
            doc = self._schools.get(sid)
            if doc is None:
                self.fail(
                    [
                        RowError(
                            built.row,
                            self._school_header,
                            sid,
                            f"school {sid} is not registered (load the org-units format)",
                            "unregistered",
                        )
                    ]
                )
                return None
            tenant = Tenant(
                region=doc["region_id"], municipality=doc["municipality_id"], school=sid
            )
        if not self.principal.can_access(tenant):
            p = self.principal
            who = f"{p.role.value} {p.school or p.municipality or p.region}"
            self.fail(
                [
                    RowError(
                        built.row,
                        self._school_header,
                        sid,
                        f"school {sid} is outside your tenant ({who})",
                        "forbidden",
                    )
                ]
            )
            return None
        body, h = content_of(fact)
        oid = fact.originator_id()
        key = _packed_key(oid)
        mark = bytes.fromhex(h)
        prev = self._seen.get(key)
        if prev is not None:
            if prev[:12] == mark:
                self.duplicates_skipped += 1
                return None
            self.fail(
                [
                    RowError(
                        built.row,
                        self._key_headers,
                        None,
                        f"same natural key ({self._key_names}) as row "
                        f"{int.from_bytes(prev[12:], 'big')}, other values",
                        "duplicate",
                    )
                ]
            )
            return None
        self._seen[key] = mark + built.row.to_bytes(4, "big")
        if self.org_units:
            bad = self._parents(built, fact)
            if bad:
                self.fail(bad)
                return None
        return Accepted(built.row, fact, tenant, oid, h, body)

    def verdict(self, kind: str) -> None:
        """Refuses the whole upload if any row failed."""
        if not self.total_errors:
            return
        cap = self.cap
        raise ImportRejected(
            "forbidden-rows" if self.forbidden else "invalid-rows",
            f"{self.total_errors} error(s) in {kind!r}; nothing was published"
            + (f" (first {cap} listed)" if self.total_errors > cap else ""),
            errors=[e.as_dict() for e in self.errors],
            total_errors=self.total_errors,
        )

    def parent_facts(self) -> list[Accepted]:
        """Regions and municipalities named by org-unit rows, as facts of their own."""
        heads = []
        for _, parent, tenant in self.parents.values():
            body, h = content_of(parent)
            heads.append(Accepted(0, parent, tenant, parent.originator_id(), h, body))
        return heads

    def _parents(self, built: Built, fact: Fact) -> list[RowError]:
        """Regions and municipalities named by org-unit rows; names must agree."""
        region_id = fact.region_id  # type: ignore[attr-defined]
        mun_id = fact.municipality_id  # type: ignore[attr-defined]
        wanted = [
            (
                f"region:{region_id}",
                RegionRegistered(region_id=region_id, name=built.extras.get("region_name") or ""),
                Tenant(region=region_id),
                "Регион",
            )
            if built.extras.get("region_name")
            else None,
            (
                f"municipality:{mun_id}",
                MunicipalityRegistered(
                    region_id=region_id,
                    municipality_id=mun_id,
                    name=built.extras.get("municipality_name") or "",
                ),
                Tenant(region=region_id, municipality=mun_id),
                "Муниципалитет",
            )
            if built.extras.get("municipality_name")
            else None,
        ]
        errs = []
        for item in wanted:
            if item is None:
                continue
            key, event, tenant, header = item
            prev = self.parents.get(key)
            if prev is None:
                self.parents[key] = (built.row, event, tenant)
            elif prev[1] != event:
                errs.append(
                    RowError(
                        built.row,
                        header,
                        event.name,
                        f"differs from row {prev[0]} for the same id",
                    )
                )
        return errs
