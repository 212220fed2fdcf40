"""Keyed pseudonyms: the only form in which a student or teacher id leaves ingest.

``p`` + the first 24 hex digits of HMAC-SHA256(key, namespace ␟ raw id). Students and staff
are separate namespaces; teacher, mentor, mentee and principal ids are all staff, so the same
person links across staffing facts. Without the key a pseudonym cannot be reversed or
recomputed from a guessed id.
"""

from __future__ import annotations

import hashlib
import hmac

from shkala_contracts.formats import PERSONAL_IDS

try:  # OpenSSL's one-shot HMAC, without the wrapper's checks
    from _hashlib import hmac_digest as _hmac_digest
except ImportError:  # pragma: no cover - CPython without OpenSSL
    _hmac_digest = hmac.digest  # type: ignore[assignment]

NAMESPACES: dict[str, str] = {
    raw: ("student" if raw == "student_id" else "staff") for raw in PERSONAL_IDS
}


class Pseudonymiser:
    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must have at least 16 bytes")
        self._key = key

    @property
    def key(self) -> bytes:
        """The key itself: handed only to the process that reads the upload (on its stdin)."""
        return self._key

    def pseudonym(self, raw_field: str, raw_id: str) -> str:
        """The pseudonym of ``raw_id`` given in the upload field ``raw_field`` (student_id…)."""
        msg = f"{NAMESPACES[raw_field]}\x1f{raw_id}".encode()
        return "p" + hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:24]

    def pseudonyms(self, raw_field: str, raw_ids: list[str | None]) -> list[str | None]:
        """The pseudonyms of many ids of one field (None stays None): the same values as
        :meth:`pseudonym`, through the one-shot HMAC of OpenSSL."""
        prefix = f"{NAMESPACES[raw_field]}\x1f".encode()
        key, digest = self._key, _hmac_digest
        return [
            None if r is None else "p" + digest(key, prefix + r.encode(), "sha256")[:12].hex()
            for r in raw_ids
        ]
