"""Whole views as they stood (ADR 0010) on a generated region, real Kafka and FerretDB: the
originals are written, then a moment passes, then the corrections. ``as_of`` that moment gives
every municipality table (each school value and the roll-up) as recomputed independently from
the originals, the lists as counted from those values, and the same rating as the live answer
read at that moment; without ``as_of`` the corrections count."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from typing import Any

import httpx
import pytest
from indicators_testkit import (
    YEARS,
    as_value,
    expected_lists,
    expected_school_values,
    generate,
    wait_for,
)

from shkala_indicators.bootstrap import Service, bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher
from shkala_runtime.settings import ServiceSettings

YEAR = YEARS[1]


async def wait_applied(svc: Service, acks: list[Any]) -> None:
    """Until every acknowledged record is applied and visible in the read table."""
    need: dict[tuple[str, int], int] = {}
    for a in acks:
        need[(a.topic, a.partition)] = max(need.get((a.topic, a.partition), -1), a.offset)
    after = [(t, p, off) for (t, p), off in need.items()]
    read = svc.app.state.read_model

    async def done() -> bool:
        return not await read.missing(after)

    await wait_for(done, within=60)


def tables_expected(
    values: dict[tuple[str, str, str], tuple[float, float]], sm: dict[str, str]
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, tuple[float, float]]]]:
    """Per municipality: each school's values, and the roll-up (sums of numerators and
    denominators), for YEAR."""
    rows: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for (ind, school, year), (num, den) in values.items():
        if year != YEAR:
            continue
        rows[sm[school]][school][ind] = as_value(ind, num, den)
        sums[sm[school]][ind][0] += num
        sums[sm[school]][ind][1] += den
    return (
        {m: dict(r) for m, r in rows.items()},
        {m: {i: (n, d) for i, (n, d) in s.items()} for m, s in sums.items()},
    )


def check_table(body: dict[str, Any], rows: dict[str, dict[str, float]],
                sums: dict[str, tuple[float, float]]) -> None:  # fmt: skip
    got = {r["school_id"]: r["values"] for r in body["rows"] if r["values"]}
    assert set(got) == set(rows)
    for school, values in rows.items():
        assert set(got[school]) == set(values), school
        for ind, x in values.items():
            assert got[school][ind] == pytest.approx(x, abs=1e-5), (school, ind)
    assert set(body["municipality"]) == set(sums)
    for ind, (num, den) in sums.items():
        m = body["municipality"][ind]
        assert (m["numerator"], m["denominator"]) == pytest.approx((num, den)), ind


async def test_as_of_gives_whole_views_from_the_facts_written_by_then(
    test_settings: ServiceSettings,
) -> None:
    settings = Settings(**{**test_settings.model_dump(), "indicators_batch_size": 300})
    svc = bootstrap(settings)
    reg = generate(seed=5, n_mun=2, per_mun=5)
    sm = reg.school_municipality()
    token = issue_token(settings, "region")
    async with (
        svc.app.router.lifespan_context(svc.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=svc.app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ) as http,
    ):

        async def get(path: str, **params: Any) -> dict[str, Any]:
            r = await http.get(path, params={"period": YEAR, **params})
            assert r.status_code == 200, r.text
            return r.json()

        pub = EventPublisher(settings)
        await pub.start()
        try:
            await wait_applied(svc, await pub.publish(reg.org_outgoing()))
            await wait_applied(svc, await pub.publish(reg.outgoing(reg.originals)))
            # the live answers at that moment, read before anything else is written
            ratings_then = {m: await get(f"/municipalities/{m}/rating") for m in reg.municipalities}
            await asyncio.sleep(0.3)
            moment = dt.datetime.now(dt.UTC)
            await asyncio.sleep(0.3)
            await wait_applied(svc, await pub.publish(reg.outgoing(reg.corrections, version=2)))
        finally:
            await pub.stop()

        before = expected_school_values(reg.originals)
        after = expected_school_values(reg.final_facts())
        assert before != after  # the corrections change something
        rows_then, sums_then = tables_expected(before, sm)
        rows_now, sums_now = tables_expected(after, sm)
        for m in reg.municipalities:
            then = await get(f"/municipalities/{m}/table", as_of=moment.isoformat())
            assert then["as_of"]["time"].startswith(moment.isoformat()[:19])
            check_table(then, rows_then[m], sums_then[m])
            check_table(await get(f"/municipalities/{m}/table"), rows_now[m], sums_now[m])

            # the rating as it stood: the live answer read at that moment
            rating = await get(f"/municipalities/{m}/rating", as_of=moment.isoformat())
            was = ratings_then[m]
            assert [(r["school_id"], r["rank"]) for r in rating["rows"]] == [
                (r["school_id"], r["rank"]) for r in was["rows"]
            ]
            for a, b in zip(rating["rows"], was["rows"], strict=True):
                assert a["score"] == pytest.approx(b["score"], abs=1e-3), a["school_id"]

        # the lists as they stood, counted from the values of the originals
        lists_then, lists_now = expected_lists(before), expected_lists(after)
        for name in ("ШНОР", "ШНСУ", "признаки необъективности"):
            then = await get(f"/lists/{name}", as_of=moment.isoformat())
            assert {x["school_id"] for x in then["members"]} == lists_then[(name, YEAR)], name
            now = await get(f"/lists/{name}")
            assert {x["school_id"] for x in now["members"]} == lists_now[(name, YEAR)], name
        # the region summary as it stood: sums over every school
        summary = await get("/region/summary", as_of=moment.isoformat())
        for ind, (num, den) in {
            i: (sum(s[i][0] for s in sums_then.values() if i in s),
                sum(s[i][1] for s in sums_then.values() if i in s))
            for i in {i for s in sums_then.values() for i in s}
        }.items():  # fmt: skip
            got = summary["region"][ind]
            assert (got["numerator"], got["denominator"]) == pytest.approx((num, den)), ind
