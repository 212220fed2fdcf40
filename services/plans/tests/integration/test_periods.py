"""Monitoring periods on the real broker and database: the approval walk, who may take
each step, and the events subscribers see."""

import json

from shkala_runtime.auth import Role

from .conftest import auth, read_topic, running

PERIOD = "2025-26"


def school(settings, school="s1", municipality="m1"):
    return auth(settings, Role.SCHOOL, municipality=municipality, school=school)


def mun(settings, municipality="m1"):
    return auth(settings, Role.MUNICIPALITY, municipality=municipality)


def region(settings):
    return auth(settings, Role.REGION, municipality=None)


async def test_submit_return_resubmit_approve_lock_reopen(settings):
    async with running(settings) as (_svc, c):
        base = f"/periods/s1/{PERIOD}"
        r = await c.get(base, headers=school(settings))
        assert r.status_code == 404  # nothing submitted yet

        r = await c.post(f"{base}/submit", json={"note": "все данные"}, headers=school(settings))
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "submitted"
        assert r.json()["approved"] is False

        r = await c.post(
            f"{base}/return", json={"reason": "нет данных ВПР 5 класса"}, headers=mun(settings)
        )
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "returned"
        assert r.json()["last_reason"] == "нет данных ВПР 5 класса"

        # approving a returned period is refused: the school must correct and resubmit
        r = await c.post(f"{base}/approve", json={}, headers=mun(settings))
        assert r.status_code == 422, r.text

        r = await c.post(f"{base}/submit", json={}, headers=school(settings))
        assert r.json()["state"] == "submitted"
        r = await c.post(f"{base}/approve", json={}, headers=mun(settings))
        assert r.status_code == 200
        assert r.json()["approved"] is True

        r = await c.post(
            "/periods/lock",
            json={"municipality_id": "m1", "period": "2025/26"},
            headers=region(settings),
        )
        assert r.status_code == 200, r.text
        assert r.json()["locked"] == ["s1"]

        r = await c.get(base, headers=mun(settings))
        body = r.json()
        assert body["state"] == "locked"
        assert body["approved"] is True
        assert [h["state"] for h in body["history"]] == [
            "open",
            "submitted",
            "returned",
            "submitted",
            "approved",
            "locked",
        ]
        assert [h["actor_role"] for h in body["history"][1:]] == [
            "school",
            "municipality",
            "school",
            "municipality",
            "region",
        ]

        # a locked period cannot be submitted again, nor reopened without a reason
        assert (
            await c.post(f"{base}/submit", json={}, headers=school(settings))
        ).status_code == 422
        r = await c.post(f"{base}/reopen", json={"reason": " "}, headers=region(settings))
        assert r.status_code == 422
        r = await c.post(
            f"{base}/reopen",
            json={"reason": "исправление ошибки в протоколе"},
            headers=region(settings),
        )
        assert r.status_code == 200
        assert r.json()["state"] == "open"

        listed = (await c.get(f"/periods?period={PERIOD}", headers=mun(settings))).json()
        assert [(x["school_id"], x["state"]) for x in listed["items"]] == [("s1", "open")]

        records = await read_topic(settings, "shkala.plans.v1", expect=8)
        types = [dict(r.headers)["ce_type"].decode() for r in records]
        period_types = [t.split(".")[-2] for t in types if "monitoring_period" in t]
        assert period_types == [
            "monitoring_period_opened",
            "monitoring_period_submitted",
            "monitoring_period_returned",
            "monitoring_period_submitted",
            "monitoring_period_approved",
            "monitoring_period_locked",
            "monitoring_period_reopened",
        ]
        locked = next(
            r for r in records if b"monitoring_period_locked" in dict(r.headers)["ce_type"]
        )
        data = json.loads(locked.value)
        assert data["school_id"] == "s1"
        assert data["period"] == "2025/26"


async def test_each_step_checks_role_and_tenant(settings):
    async with running(settings) as (_svc, c):
        base = f"/periods/s1/{PERIOD}"
        # a school submits only its own period
        r = await c.post(f"{base}/submit", json={}, headers=school(settings, school="s2"))
        assert r.status_code == 403, r.text
        # a municipality does not submit for its schools
        assert (await c.post(f"{base}/submit", json={}, headers=mun(settings))).status_code == 403
        assert (
            await c.post(f"{base}/submit", json={}, headers=school(settings))
        ).status_code == 200
        # another municipality can neither see nor approve it
        other = mun(settings, municipality="m2")
        assert (await c.get(base, headers=other)).status_code == 403
        assert (await c.post(f"{base}/approve", json={}, headers=other)).status_code == 403
        assert (await c.get("/periods?municipality_id=m1", headers=other)).status_code == 403
        # the school cannot approve itself, nor lock; the municipality cannot lock
        assert (
            await c.post(f"{base}/approve", json={}, headers=school(settings))
        ).status_code == 403
        assert (await c.post(f"{base}/approve", json={}, headers=mun(settings))).status_code == 200
        assert (await c.post(f"{base}/lock", json={}, headers=mun(settings))).status_code == 403
        r = await c.post(
            "/periods/lock",
            json={"municipality_id": "m1", "period": "2025/26"},
            headers=mun(settings),
        )
        assert r.status_code == 403
        # only a region token asks the lock state; the answer names who reopens
        q = {"items": [{"school_id": "s1", "period": "2025/26"}]}
        assert (
            await c.post("/periods/locks/query", json=q, headers=mun(settings))
        ).status_code == 403
        assert (await c.post("/periods/locks/query", json=q, headers=region(settings))).json() == {
            "locked": []
        }
        assert (await c.post(f"{base}/lock", json={}, headers=region(settings))).status_code == 200
        locked = (await c.post("/periods/locks/query", json=q, headers=region(settings))).json()
        assert [(x["school_id"], x["period"], x["reopen_by"]) for x in locked["locked"]] == [
            ("s1", "2025/26", "region")
        ]
        # a stale expected_version is a 409, and nothing changes
        r = await c.post(
            f"{base}/reopen", json={"reason": "x", "expected_version": 1}, headers=region(settings)
        )
        assert r.status_code == 409
        assert (await c.get(base, headers=region(settings))).json()["state"] == "locked"
