"""The four directions that were missing (assessment, career guidance, principals,
upbringing) through real Kafka and FerretDB: every school value and municipality roll-up of
``GET /directions/{direction}`` equals the independent computation from the raw rows
(directions_testkit), a «Доля ОО» indicator rolls up to the share of schools, and seed 003's
programme indicators carry the year's target and whether it is met."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from directions_testkit import region_share_of_schools
from indicators_testkit import (
    YEARS,
    as_value,
    catalogue_raw,
    expected_school_values,
    generate,
    wait_for,
)

from shkala_indicators.bootstrap import Service, bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher
from shkala_runtime.settings import ServiceSettings

DIRECTIONS = ("assessment", "career", "principals", "upbringing")
SCHOOL_SHARES = {  # «Доля ОО …»: 1 per school, rolled up to the share of schools
    "profile_classes_school", "upbringing_programme_school", "tochka_rosta_school",
    "principal_assessed", "functional_literacy_dynamics", "vpr_quality_dynamics_ooo",
}  # fmt: skip
SEED_003 = {  # the programme indicators with expected results (seed 003: 1.1, 3.1, 3.3, 3.5, 3.6)
    "vpr_quality_dynamics_ooo", "gia_below_minimum_share_sat", "functional_literacy_dynamics",
    "tochka_rosta_school", "additional_education_share",
}  # fmt: skip


def make_settings(test_settings: ServiceSettings, **extra: Any) -> Settings:
    return Settings(**{**test_settings.model_dump(), **extra})


async def wait_applied(svc: Service, acks: list[Any], within: float = 60.0) -> None:
    """Every acknowledged record applied and visible in this instance's read table."""
    need: dict[tuple[str, int], int] = {}
    for a in acks:
        need[(a.topic, a.partition)] = max(need.get((a.topic, a.partition), -1), a.offset)
    after = [(t, p, off) for (t, p), off in need.items()]
    read = svc.app.state.read_model

    async def done() -> bool:
        return not await read.missing(after)

    await wait_for(done, within=within)


async def test_four_directions_match_the_raw_rows_with_targets(
    test_settings: ServiceSettings,
) -> None:
    settings = make_settings(test_settings, indicators_batch_size=300)
    svc = bootstrap(settings)
    reg = generate(seed=13, n_mun=2, per_mun=6)
    async with svc.app.router.lifespan_context(svc.app):
        pub = EventPublisher(settings)
        await pub.start()
        try:
            await wait_applied(svc, await pub.publish(reg.org_outgoing()))
            acks = await pub.publish(reg.outgoing(reg.originals))
            acks += await pub.publish(reg.outgoing(reg.corrections, version=2))
        finally:
            await pub.stop()
        await wait_applied(svc, acks)

        expected = expected_school_values(reg.final_facts())
        raw = {i["id"]: i for i in catalogue_raw()["indicators"]}
        ours = {i for i, spec in raw.items() if spec["direction"] in DIRECTIONS}
        assert len(ours) >= 20
        seen: set[str] = set()
        token = issue_token(settings, "region")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=svc.app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {token}"},
        ) as http:
            r = await http.get("/catalogue")
            assert r.status_code == 200, r.text
            described = {i["id"]: i for i in r.json()["indicators"]}
            assert {i for i, d in described.items() if d["targets"]} >= SEED_003
            for ind in SEED_003:
                t = described[ind]["targets"]
                assert t["indicator"].startswith("seed 003_a65b2d89a1faf16b.txt: показатель")
                assert t["values_source"].startswith(("seed 00", "regional setting"))
                assert set(t["values"]) >= set(YEARS)

            for direction in DIRECTIONS:
                for year in YEARS:
                    for m, schools in reg.municipalities.items():
                        r = await http.get(
                            f"/directions/{direction}",
                            params={"period": year, "municipality": m},
                        )
                        assert r.status_code == 200, r.text
                        body = r.json()
                        got = {(v["indicator_id"], v["scope"], v["unit_id"]): v
                               for v in body["values"]}  # fmt: skip
                        mine = {i for i in ours if raw[i]["direction"] == direction}
                        want = {
                            (i, "school", s): expected[(i, s, year)]
                            for i in mine
                            for s in schools
                            if (i, s, year) in expected
                        }
                        assert {k for k in got if k[1] == "school"} == set(want), (direction, m)
                        for key, (num, den) in want.items():
                            v = got[key]
                            assert (v["numerator"], v["denominator"]) == pytest.approx(
                                (num, den)
                            ), (key, year)
                            assert v["value"] == pytest.approx(as_value(key[0], num, den), abs=1e-5)
                            seen.add(key[0])
                        for ind in mine:
                            parts = [want[(ind, "school", s)] for s in schools
                                     if (ind, "school", s) in want]  # fmt: skip
                            total: dict[str, Any] | None = got.get((ind, "municipality", m))
                            if not parts:
                                assert total is None, (ind, m, year)
                                continue
                            assert total is not None, (ind, m, year)
                            num = sum(p[0] for p in parts)
                            den = sum(p[1] for p in parts)
                            assert total["value"] == pytest.approx(
                                as_value(ind, num, den), abs=1e-5
                            )
                            if ind in SCHOOL_SHARES:  # «доля ОО»: schools with 1, of all
                                share = region_share_of_schools(expected, ind, year, set(schools))
                                assert total["value"] == pytest.approx(share, abs=1e-5), (
                                    ind,
                                    m,
                                    year,
                                )
                            if ind in SEED_003:
                                target = raw[ind]["targets"]["values"][year]
                                better = raw[ind]["targets"]["expected"]
                                met = (
                                    total["value"] >= target
                                    if better == "up"
                                    else total["value"] <= target
                                )
                                assert total["target"] == {
                                    "period": year, "value": target, "expected": better,
                                    "met": met,
                                }, (ind, m, year)  # fmt: skip
                                for s in schools:
                                    sv = got.get((ind, "school", s))
                                    if sv is not None:
                                        assert sv["target"]["value"] == target
                            else:
                                assert "target" not in total, ind
            # every new indicator had a value somewhere in the generated region
            assert seen == ours, ours - seen

            # one school's value alone carries the target of its year too
            s = reg.municipalities["m1"][0]
            r = await http.get(
                f"/schools/{s}/indicators/tochka_rosta_school", params={"period": YEARS[1]}
            )
            assert r.status_code == 200, r.text
            value = r.json()["value"]
            if value is not None:
                target = raw["tochka_rosta_school"]["targets"]["values"][YEARS[1]]
                assert value["target"]["met"] == (value["value"] >= target)
