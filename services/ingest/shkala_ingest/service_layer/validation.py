"""Checking one upload's facts as they stream past: registry, tenant, duplicates, org-unit
parents. Each row is kept only as far as a later row needs it (its natural key, packed);
the errors are collected (the first ``cap`` listed) and refuse the whole file at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shkala_contracts import Tenant
from shkala_contracts.base import Fact
from shkala_contracts.events.org_units import MunicipalityRegistered, RegionRegistered
from shkala_contracts.formats import UploadFormat, names_no_school
from shkala_ingest.domain.columns import FastChunk
from shkala_ingest.domain.errors import ImportRejected
from shkala_ingest.domain.rows import Built, RowError
from shkala_runtime.auth import Principal


@dataclass(slots=True)
class Accepted:
    """A valid row's fact, ready to publish: its value encoded once (``body``). Rows built
    by columns carry no model (``fact`` None): what publishing needs is in the fields."""

    row: int
    fact: Fact | None
    tenant: Tenant
    oid: str
    hash: str
    body: bytes
    school: str
    """the partition key"""
    event_type: str
    topic: str
    year: str | None = None

    @classmethod
    def of(cls, row: int, fact: Fact, tenant: Tenant) -> Accepted:
        body, h = content_of(fact)
        return cls(
            row,
            fact,
            tenant,
            fact.originator_id(),
            h,
            body,
            fact.partition_key(),
            fact.event_type,
            fact.topic,
            getattr(fact, "academic_year", None),
        )


def content_of(fact: Fact) -> tuple[bytes, str]:
    """The fact's JSON (the Kafka value) and the hash that decides skip/correct."""
    body = fact.model_dump_json().encode()
    return body, hashlib.blake2b(body, digest_size=12).hexdigest()


def _packed_key(oid: str) -> bytes:
    """An originator id's digest (``family:<32 hex>``; one family per format)."""
    return bytes.fromhex(oid[-32:])


MERGE_LIMIT = 1 << 18
"""Runs stop merging at this size: a merge holds both runs and the result at once."""


class SeenKeys:
    """The natural keys accepted so far in one upload, 32 bytes a row: sorted runs of (key
    16 bytes, content hash 12, row 4) in numpy arrays, merged as they grow (a dict of a
    million keys would cost ~170 MB)."""

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(keys)
        found = np.zeros(n, dtype=bool)
        marks = np.zeros(n, dtype="S12")
        rows = np.zeros(n, dtype=np.uint32)
        for rk, rm, rr in self.runs:
            pos = np.minimum(np.searchsorted(rk, keys), len(rk) - 1)
            hit = (rk[pos] == keys) & ~found
            found |= hit
            marks[hit] = rm[pos[hit]]
            rows[hit] = rr[pos[hit]]
        return found, marks, rows

    def check(
        self, keys: np.ndarray, marks: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row: 0 new (now remembered), 1 same key and content as an earlier row, 2
        same key, other content; and the earlier row."""
        n = len(keys)
        if n == 0:
            return np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.uint32)
        order = np.argsort(keys, kind="stable")
        sk = keys[order]
        starts = np.ones(n, dtype=bool)
        starts[1:] = sk[1:] != sk[:-1]
        group_sorted = np.cumsum(starts) - 1
        group = np.empty(n, dtype=np.int64)
        group[order] = group_sorted
        first = order[np.flatnonzero(starts)]  # the earliest row of each key in the chunk
        found, fmarks, frows = self.find(keys[first])
        ref_found = found[group]
        firsts = first[group]
        ref_mark = np.where(ref_found, fmarks[group], marks[firsts])
        ref_row = np.where(ref_found, frows[group], rows[firsts])
        new = (firsts == np.arange(n)) & ~ref_found
        status = np.where(new, 0, np.where(marks == ref_mark, 1, 2)).astype(np.int8)
        self.add(keys[new], marks[new], rows[new])
        return status, ref_row.astype(np.uint32)

    def add(self, keys: np.ndarray, marks: np.ndarray, rows: np.ndarray) -> None:
        if not len(keys):
            return
        o = np.argsort(keys, kind="stable")
        self.runs.append((keys[o], marks[o], rows[o]))
        while (
            len(self.runs) > 1
            and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0])
            and len(self.runs[-2][0]) + len(self.runs[-1][0]) <= MERGE_LIMIT
        ):
            (ak, am, ar), (bk, bm, br) = self.runs[-2], self.runs.pop()
            k, m, r = np.concatenate([ak, bk]), np.concatenate([am, bm]), np.concatenate([ar, br])
            o = np.argsort(k, kind="stable")
            self.runs[-1] = (k[o], m[o], r[o])


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
        self._seen: dict[bytes, bytes] = {}  # rows checked one by one
        self.seen = SeenKeys()  # rows checked by chunks
        self._schools: dict[str, dict[str, Any]] = {}
        self._registry = registry
        self._registry_loaded = False
        self._verdicts: dict[str, Tenant | str] = {}
        self.org_units = fmt.kind == "org-units"
        self.reference = names_no_school(fmt)
        self.parents: dict[str, tuple[int, Fact, Tenant]] = {}
        self._key_names = ", ".join(fmt.fact.key_fields)
        by_field = {c.field: c.header for c in fmt.columns}
        raw = {"student": "student_id", "teacher": "teacher_id", "mentor": "mentor_id",
               "mentee": "mentee_id", "principal": "principal_id"}  # fmt: skip
        self._key_headers = ", ".join(
            by_field.get(raw.get(f, f), f) for f in fmt.fact.key_fields if f not in fmt.fixed
        )
        self._batch = batch
        self._school_header = next(
            (c.header for c in fmt.columns if c.field == "school_id" and not batch), "school_id"
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
        sid = str(getattr(fact, "school_id", ""))
        if self.reference:
            # reference data names no school: it belongs to the uploader's region (and
            # municipality); the school role was refused before the first row
            tenant = Tenant(region=self.principal.region, municipality=self.principal.municipality)
        elif self.org_units:
            tenant = Tenant(
                region=fact.region_id,  # type: ignore[attr-defined]
                municipality=fact.municipality_id,  # type: ignore[attr-defined]
                school=sid,
            )
            if not self.principal.can_access(tenant):
                self.fail([self._refusal(built.row, sid, "forbidden")])
                return None
        else:
            await self._load_registry()
            verdict = self._school(sid)
            if not isinstance(verdict, Tenant):
                self.fail([self._refusal(built.row, sid, verdict)])
                return None
            tenant = verdict
            refused = self._other_schools(built.row, fact)
            if refused:
                self.fail(refused)
                return None
        accepted = Accepted.of(built.row, fact, tenant)
        oid, h = accepted.oid, accepted.hash
        key = _packed_key(oid)
        mark = bytes.fromhex(h)
        prev = self._seen.get(key)
        if prev is None and self.seen.runs:
            found, fm, fr = self.seen.find(np.frombuffer(key, dtype="S16"))
            if found[0]:
                prev = bytes(fm[0]).ljust(12, b"\0") + int(fr[0]).to_bytes(4, "big")
        if prev is not None:
            if prev[:12] == mark:
                self.duplicates_skipped += 1
                return None
            self.fail([self._duplicate(built.row, int.from_bytes(prev[12:], "big"))])
            return None
        self._seen[key] = mark + built.row.to_bytes(4, "big")
        if self.org_units:
            bad = self._parents(built, fact)
            if bad:
                self.fail(bad)
                return None
        return accepted

    async def _load_registry(self) -> None:
        if not self._registry_loaded:
            # one read of the whole registry (thousands of schools): FerretDB scans
            # per query, so per-school lookups would cost a scan each
            self._schools.update(await self._registry())
            self._registry_loaded = True

    def _school(self, sid: str) -> Tenant | str:
        """The school's tenant, or why its rows are refused (``unregistered``/``forbidden``)."""
        cached = self._verdicts.get(sid)
        if cached is not None:
            return cached
        doc = self._schools.get(sid)
        verdict: Tenant | str
        if doc is None:
            verdict = "unregistered"
        else:
            tenant = Tenant(
                region=doc["region_id"], municipality=doc["municipality_id"], school=sid
            )
            verdict = tenant if self.principal.can_access(tenant) else "forbidden"
        self._verdicts[sid] = verdict
        return verdict

    def _other_schools(self, row: int, fact: Fact) -> list[RowError]:
        """Every further school a row names (``school_refs``: the leading school of a
        network pair) must be registered and in the caller's tenant too."""
        errs = []
        for name in self.fmt.school_refs:
            other = getattr(fact, name, None)
            if other is None:
                continue
            verdict = self._school(str(other))
            if not isinstance(verdict, Tenant):
                errs.append(self._refusal(row, str(other), verdict, self._header(name)))
        return errs

    def _header(self, name: str) -> str:
        if self._batch:
            return name
        return next((c.header for c in self.fmt.columns if c.field == name), name)

    def _refusal(self, row: int, sid: str, code: str, header: str | None = None) -> RowError:
        if code == "unregistered":
            return RowError(
                row,
                header or self._school_header,
                sid,
                f"school {sid} is not registered (load the org-units format)",
                "unregistered",
            )
        p = self.principal
        who = f"{p.role.value} {p.school or p.municipality or p.region}"
        return RowError(
            row, header or self._school_header, sid,
            f"school {sid} is outside your tenant ({who})", "forbidden",
        )  # fmt: skip

    def _duplicate(self, row: int, earlier: int) -> RowError:
        return RowError(
            row,
            self._key_headers,
            None,
            f"same natural key ({self._key_names}) as row {earlier}, other values",
            "duplicate",
        )

    async def check_chunk(self, chunk: FastChunk, slow: dict[int, Built]) -> list[Accepted]:
        """The rows of a chunk built by columns (``slow``: those built one by one), in file
        order; the same checks and errors as :meth:`check`."""
        await self._load_registry()
        fact = self.fmt.fact
        event_type, topic = fact.event_type, fact.topic
        verdicts = {sid: self._school(sid) for sid in set(chunk.school)}
        n = len(chunk.oid)
        fast_rows = [r for p, r in enumerate(chunk.rows) if p not in slow]
        ok = np.fromiter(
            (isinstance(verdicts[s], Tenant) for s in chunk.school), dtype=bool, count=n
        )
        idx = np.flatnonzero(ok)
        pick = idx.tolist()
        keys = np.frombuffer(b"".join(bytes.fromhex(chunk.oid[i][-32:]) for i in pick), "S16")
        marks = np.frombuffer(b"".join(bytes.fromhex(chunk.hash[i]) for i in pick), "S12")
        rows = np.asarray([fast_rows[i] for i in pick], dtype=np.uint32)
        st, earlier = self.seen.check(keys, marks, rows)
        status = np.zeros(n, dtype=np.int8)
        other = np.zeros(n, dtype=np.int64)
        status[idx] = st
        other[idx] = earlier
        if self._seen:  # rows checked one by one came first
            for i in pick:
                prev = self._seen.get(bytes.fromhex(chunk.oid[i][-32:]))
                if prev is not None and status[i] == 0:
                    same = prev[:12] == bytes.fromhex(chunk.hash[i])
                    status[i], other[i] = (1 if same else 2), int.from_bytes(prev[12:], "big")
        status_l, other_l = status.tolist(), other.tolist()
        out: list[Accepted] = []
        j = 0
        for p, row in enumerate(chunk.rows):
            built = slow.get(p)
            if built is not None:
                a = await self.check(built)
                if a is not None:
                    out.append(a)
                continue
            sid = chunk.school[j]
            v = verdicts[sid]
            s = status_l[j]
            if not isinstance(v, Tenant):
                self.fail([self._refusal(row, sid, v)])
            elif s == 1:
                self.duplicates_skipped += 1
            elif s == 2:
                self.fail([self._duplicate(row, other_l[j])])
            else:
                out.append(
                    Accepted(
                        row,
                        None,
                        v,
                        chunk.oid[j],
                        chunk.hash[j],
                        chunk.body[j],
                        sid,
                        event_type,
                        topic,
                        chunk.year[j],
                    )
                )
            j += 1
        return out

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
        return [Accepted.of(0, parent, tenant) for _, parent, tenant in self.parents.values()]

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
