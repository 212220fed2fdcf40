"""MongoDB persistence of subscriptions, deliveries (the outbox) and org-unit names.

Works on FerretDB (no transactions, no change streams): every state change is a single
document write; workers claim deliveries with ``find_one_and_update`` and a lease.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shkala_notify.domain.subscriptions import SubscriptionStatus
from shkala_runtime.mongo import bulk_update

Doc = dict[str, Any]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


DUPLICATE_KEY = 11000


class Store:
    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db
        self.subscriptions = db["subscriptions"]
        self.deliveries = db["deliveries"]
        self.org_units = db["org_units"]
        self.titles = db["plan_titles"]  # plans' rows, measures, recommendations: id → title

    async def create_indexes(self) -> None:
        await self.deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        await self.deliveries.create_index(
            [("subscription_id", ASCENDING), ("created_at", DESCENDING)]
        )
        await self.deliveries.create_index([("status", ASCENDING), ("updated_at", ASCENDING)])
        await self.subscriptions.create_index([("status", ASCENDING)])

    # -- subscriptions ---------------------------------------------------------------------
    async def insert_subscription(self, doc: Doc) -> None:
        await self.subscriptions.insert_one(doc)

    async def get_subscription(self, sub_id: str) -> Doc | None:
        return await self.subscriptions.find_one({"_id": sub_id})

    async def list_subscriptions(self, owner_query: Doc) -> list[Doc]:
        return await self.subscriptions.find(owner_query).sort("created_at", ASCENDING).to_list()

    async def active_subscriptions(self) -> list[Doc]:
        return await self.subscriptions.find({"status": SubscriptionStatus.ACTIVE.value}).to_list()

    async def update_subscription(self, sub_id: str, changes: Doc) -> Doc | None:
        return await self.subscriptions.find_one_and_update(
            {"_id": sub_id},
            {"$set": {**changes, "updated_at": now_utc()}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def delete_subscription(self, sub_id: str) -> bool:
        result = await self.subscriptions.delete_one({"_id": sub_id})
        return result.deleted_count == 1

    async def endpoint_succeeded(self, sub_id: str) -> None:
        await self.subscriptions.update_one(
            {"_id": sub_id, "failing_since": {"$ne": None}},
            {"$set": {"failing_since": None, "last_error": None}},
        )

    async def endpoint_failed(self, sub_id: str, at: dt.datetime, error: str | None) -> Doc | None:
        """Remember since when the endpoint fails; returns the subscription after the write."""
        await self.subscriptions.update_one(
            {"_id": sub_id, "failing_since": None}, {"$set": {"failing_since": at}}
        )
        return await self.subscriptions.find_one_and_update(
            {"_id": sub_id},
            {"$set": {"last_error": error}},
            return_document=ReturnDocument.AFTER,
        )

    async def disable(self, sub_id: str, at: dt.datetime, reason: str) -> Doc | None:
        """Active → disabled, with the operational event pending in the same write."""
        return await self.subscriptions.find_one_and_update(
            {"_id": sub_id, "status": SubscriptionStatus.ACTIVE.value},
            {
                "$set": {
                    "status": SubscriptionStatus.DISABLED.value,
                    "disabled_at": at,
                    "disabled_reason": reason,
                    "op_event": {"kind": "disabled", "published": False, "at": at},
                    "updated_at": at,
                },
                "$inc": {"version": 1},
            },
            return_document=ReturnDocument.AFTER,
        )

    async def enable(self, sub_id: str, at: dt.datetime) -> Doc | None:
        return await self.subscriptions.find_one_and_update(
            {"_id": sub_id, "status": SubscriptionStatus.DISABLED.value},
            {
                "$set": {
                    "status": SubscriptionStatus.ACTIVE.value,
                    "failing_since": None,
                    "disabled_at": None,
                    "disabled_reason": None,
                    "op_event": {"kind": "enabled", "published": False, "at": at},
                    "updated_at": at,
                },
                "$inc": {"version": 1},
            },
            return_document=ReturnDocument.AFTER,
        )

    async def unpublished_op_events(self) -> list[Doc]:
        return await self.subscriptions.find({"op_event.published": False}).to_list()

    async def mark_op_event_published(self, sub_id: str, version: int) -> None:
        await self.subscriptions.update_one(
            {"_id": sub_id, "version": version}, {"$set": {"op_event.published": True}}
        )

    # -- deliveries (the outbox) -----------------------------------------------------------
    async def add_deliveries(self, docs: Sequence[Doc]) -> int:
        """Idempotent: a redelivered Kafka message leaves an existing delivery untouched."""
        if not docs:
            return 0
        # inserts, not upserts: on FerretDB 1.24 an upsert costs tens of milliseconds and a
        # client killed in the middle of a bulk upsert left the database hanging
        try:
            result = await self.deliveries.insert_many(list(docs), ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise
            return int(exc.details.get("nInserted", 0))
        return len(result.inserted_ids)

    async def claim_due(self, at: dt.datetime, lease: dt.timedelta, limit: int) -> list[Doc]:
        claimed: list[Doc] = []
        for _ in range(limit):
            token = secrets.token_hex(8)
            doc = await self.deliveries.find_one_and_update(
                {"status": "pending", "next_attempt_at": {"$lte": at}},
                {"$set": {"next_attempt_at": at + lease, "lease": token}},
                sort=[("next_attempt_at", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                break
            claimed.append(doc)
        return claimed

    async def record_attempt(
        self, delivery: Doc, entry: Doc, *, status: str, next_attempt_at: dt.datetime | None
    ) -> bool:
        changes: Doc = {
            "status": status,
            "lease": None,
            "updated_at": entry["at"],
            "last_status_code": entry.get("status_code"),
            "last_error": entry.get("error"),
            "next_attempt_at": next_attempt_at,
        }
        if status == "delivered":
            changes["delivered_at"] = entry["at"]
        result = await self.deliveries.update_one(
            {"_id": delivery["_id"], "lease": delivery["lease"]},
            {
                "$set": changes,
                "$inc": {"attempts": 1, "round_attempts": 1},
                "$push": {"log": entry},
            },
        )
        return result.modified_count == 1

    async def release(self, deliveries: Sequence[Doc], at: dt.datetime) -> None:
        for d in deliveries:
            await self.deliveries.update_one(
                {"_id": d["_id"], "lease": d["lease"]},
                {"$set": {"lease": None, "next_attempt_at": at}},
            )

    async def give_up(self, delivery: Doc, reason: str, at: dt.datetime) -> None:
        await self.deliveries.update_one(
            {"_id": delivery["_id"], "lease": delivery["lease"]},
            {
                "$set": {
                    "status": "failed",
                    "lease": None,
                    "last_error": reason,
                    "updated_at": at,
                    "next_attempt_at": None,
                }
            },
        )

    async def list_deliveries(
        self, sub_id: str, status: str | None, limit: int, before: dt.datetime | None
    ) -> list[Doc]:
        query: Doc = {"subscription_id": sub_id}
        if status:
            query["status"] = status
        if before:
            query["created_at"] = {"$lt": before}
        cursor = self.deliveries.find(query, {"body": 0}).sort("created_at", DESCENDING)
        return await cursor.limit(limit).to_list()

    async def get_delivery(self, sub_id: str, delivery_id: str) -> Doc | None:
        return await self.deliveries.find_one({"_id": delivery_id, "subscription_id": sub_id})

    async def redeliver(self, delivery_id: str, at: dt.datetime) -> Doc | None:
        """Back to pending for a fresh retry round; the body (and webhook-id) stay the same."""
        return await self.deliveries.find_one_and_update(
            {"_id": delivery_id},
            {
                "$set": {
                    "status": "pending",
                    "next_attempt_at": at,
                    "round_attempts": 0,
                    "lease": None,
                    "updated_at": at,
                }
            },
            return_document=ReturnDocument.AFTER,
        )

    async def purge_finished(self, statuses: tuple[str, ...], before: dt.datetime) -> int:
        result = await self.deliveries.delete_many(
            {"status": {"$in": list(statuses)}, "updated_at": {"$lt": before}}
        )
        return int(result.deleted_count)

    # -- org-unit names --------------------------------------------------------------------
    async def put_org_units(self, units: Iterable[Doc]) -> None:
        await _upsert(self.org_units, units)

    async def org_unit(self, unit_id: str) -> Doc | None:
        return await self.org_units.find_one({"_id": unit_id})

    async def put_titles(self, titles: Iterable[Doc]) -> None:
        await _upsert(self.titles, titles)

    async def title(self, key: str) -> Doc | None:
        return await self.titles.find_one({"_id": key})


async def _upsert(collection: Any, docs: Iterable[Doc]) -> None:
    """Each document by its ``_id`` (the last one of an id wins)."""
    ops = [
        UpdateOne({"_id": d["_id"]}, {"$set": d}, upsert=True)
        for d in {d["_id"]: d for d in docs}.values()
    ]
    await bulk_update(collection, ops)
