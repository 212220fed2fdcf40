"""A lease in the database: one holder at a time across every instance of the service.

One document, taken or renewed by a single conditional update (free, expired, or already
ours); a second instance's attempt matches nothing and its upsert hits the unique ``_id``,
so it does not hold the lease. Works on FerretDB (no transactions needed) and on MongoDB.
The document also keeps when the guarded job last ran, so a takeover does not rerun it early.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shkala_plans.adapters.event_store import COUNTERS


class Lease:
    def __init__(self, db: AsyncDatabase, name: str, ttl_seconds: float) -> None:
        self.docs = db[COUNTERS]
        self.id = f"lease:{name}"
        self.ttl = dt.timedelta(seconds=ttl_seconds)
        self.owner = uuid.uuid4().hex

    async def hold(self) -> bool:
        """Take or renew the lease; False while another instance holds it."""
        now = _now()
        try:
            await self.docs.update_one(
                {"_id": self.id, "$or": [{"owner": self.owner}, {"expires": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires": now + self.ttl}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def last_run(self) -> dt.datetime | None:
        doc = await self.docs.find_one({"_id": self.id})
        value = doc.get("last_run") if doc else None
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value

    async def ran(self, at: dt.datetime) -> None:
        await self.docs.update_one(
            {"_id": self.id, "owner": self.owner}, {"$set": {"last_run": at}}
        )

    async def release(self) -> None:
        await self.docs.update_one(
            {"_id": self.id, "owner": self.owner}, {"$set": {"expires": _now()}}
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
