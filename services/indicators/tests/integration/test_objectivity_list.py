"""«Признаки необъективности» through real Kafka and FerretDB: the region-relative signs
(ВПР not backed by the cohort's ОГЭ; results piled just above the mark-3 line) and the
federal list beside them, against a plain calculation from the rows written for it."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

import httpx
import pytest
from indicators_testkit import Region, pseudo, wait_for

from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_contracts.events.school_context import FederalNonObjectivityListed
from shkala_indicators.bootstrap import bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher
from shkala_runtime.settings import ServiceSettings

Y0, Y1 = "2024/25", "2025/26"
MATH, RUS = "математика", "русский язык"
THREE = {MATH: 8, RUS: 15}  # ОГЭ: primary score from which «3» is given (ФИПИ 2024)
LIST = "признаки необъективности"
SCHOOLS = {"m1": ["s1", "s2", "s3", "s4", "s5", "s6"], "m2": ["s7", "s8", "s9", "s10"]}


def mark(subject: str, score: int) -> int:
    three = THREE[subject]
    four, five = {MATH: (15, 22), RUS: (23, 29)}[subject]
    return 5 if score >= five else 4 if score >= four else 3 if score >= three else 2


def build() -> Region:
    rng = random.Random(5)
    reg = Region("demo", SCHOOLS)
    reg.org.append(RegionRegistered(region_id="demo", name="Демо"))
    for m, schools in SCHOOLS.items():
        reg.org.append(MunicipalityRegistered(region_id="demo", municipality_id=m, name=m))
        for s in schools:
            reg.org.append(
                SchoolRegistered(region_id="demo", municipality_id=m, school_id=s, name=s)
            )
    for schools in SCHOOLS.values():
        for s in schools:
            for i in range(14):  # one grade-8 class in Y0, grade 9 in Y1: the same cohort
                st = pseudo(rng)
                for subject in (MATH, RUS):
                    vpr = 5 if s == "s2" else rng.choice((2, 3, 3, 4, 4, 5))
                    reg.originals.append(
                        AssessmentResultRecorded(
                            school_id=s, academic_year=Y0, procedure="ВПР", subject=subject,
                            grade=8, student=st, mark=vpr,
                        )
                    )  # fmt: skip
                    three = THREE[subject]
                    if s == "s3":  # everyone near the line sits at it or just above
                        score = three + i % 3 if i < 12 else three + 8
                    else:
                        score = max(0, min(30, three - 3 + rng.randint(0, 12)))
                    reg.originals.append(
                        AssessmentResultRecorded(
                            school_id=s, academic_year=Y1, procedure="ОГЭ", subject=subject,
                            grade=9, student=st, mark=mark(subject, score),
                            primary_score=float(score),
                        )
                    )  # fmt: skip
    reg.originals += [
        FederalNonObjectivityListed(school_id="s2", academic_year=Y1),
        FederalNonObjectivityListed(school_id="s9", academic_year=Y1, subjects=(MATH,)),
    ]
    return reg


def tail(k: int, n: int, p: Fraction) -> float:
    return float(sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def expected(reg: Region) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Written from the rules' wording: ВПР 8 quality (4-5) ≥ 15 points above the region and
    the cohort's ОГЭ quality a year later ≥ 20 points less above it; share within 3 points of
    the «3» line at or above it ≥ 1.3 × the region's and P(≥ k | n, region share) ≤ 0.001."""
    q8: dict[str, list[int]] = {}
    qo: dict[str, list[int]] = {}
    band: dict[str, list[int]] = {}
    for f in reg.originals:
        if not isinstance(f, AssessmentResultRecorded):
            continue
        if f.procedure == "ВПР":
            q8.setdefault(f.school_id, []).append(f.mark >= 4)
        else:
            qo.setdefault(f.school_id, []).append(f.mark >= 4)
            d = f.primary_score - THREE[f.subject]
            if -3 <= d < 3:
                band.setdefault(f.school_id, []).append(d >= 0)
    share = lambda xs: 100 * sum(xs) / len(xs)  # noqa: E731
    r8 = share([x for v in q8.values() for x in v])
    ro = share([x for v in qo.values() for x in v])
    p0 = Fraction(sum(sum(v) for v in band.values()), sum(len(v) for v in band.values()))
    not_backed, piled = {}, {}
    for s in q8:
        gap8, gapo = share(q8[s]) - r8, share(qo[s]) - ro
        if gap8 >= 15 and gap8 - gapo >= 20:
            not_backed[s] = {"vpr_gap_pp": gap8, "later_gap_pp": gapo}
    for s, xs in band.items():
        k, n = sum(xs), len(xs)
        if n >= 10 and Fraction(k, n) / p0 >= Fraction(13, 10) and tail(k, n, p0) <= 0.001:
            piled[s] = {"p_value": tail(k, n, p0), "ratio": float(Fraction(k, n) / p0)}
    return not_backed, piled


async def test_objectivity_list_screening_and_federal_list(test_settings: ServiceSettings) -> None:
    settings = Settings(**test_settings.model_dump())
    reg = build()
    not_backed, piled = expected(reg)
    assert not_backed, "the rows are built to fire both rules"
    assert piled, "the rows are built to fire both rules"
    svc = bootstrap(settings)
    async with svc.app.router.lifespan_context(svc.app):
        pub = EventPublisher(settings)
        await pub.start()
        try:
            await pub.publish(reg.org_outgoing())
            acks = await pub.publish(reg.outgoing(reg.originals))
        finally:
            await pub.stop()
        after = [f"{a.topic}:{a.partition}:{a.offset}" for a in acks]
        latest: dict[str, str] = {}
        for a in after:
            t, p, o = a.rsplit(":", 2)
            key = f"{t}:{p}"
            if key not in latest or int(o) > int(latest[key].rsplit(":", 1)[1]):
                latest[key] = a
        token = issue_token(settings, "region")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=svc.app), base_url="http://t",
            headers={"Authorization": f"Bearer {token}"}, timeout=60,
        ) as http:  # fmt: skip
            params: list[tuple[str, str]] = [("period", Y1), ("wait_ms", "10000")]
            params += [("after", a) for a in latest.values()]

            async def fresh() -> bool:
                r = await http.get(f"/lists/{LIST}", params=params)
                return r.status_code == 200 and r.json()["freshness"]["after"]["satisfied"]

            await wait_for(fresh, within=120)
            body = (await http.get(f"/lists/{LIST}", params=params)).json()
            members = {m["school_id"]: m for m in body["members"]}
            assert set(members) == set(not_backed) | set(piled)
            for s, m in members.items():
                rules = {f["rule"] for f in m["flags"]}
                want = {"vpr_not_backed"} if s in not_backed else set()
                want |= {"boundary_excess"} if s in piled else set()
                assert rules == want, s
                assert m["federal_list"] is (s == "s2")
                for f in m["flags"]:
                    if f["rule"] == "boundary_excess":
                        assert f["p_value"] == pytest.approx(piled[s]["p_value"], rel=1e-9)
                        assert f["ratio"] == pytest.approx(piled[s]["ratio"], rel=1e-5)
                    else:
                        assert f["vpr_gap_pp"] == pytest.approx(not_backed[s]["vpr_gap_pp"])
                        assert f["later_gap_pp"] == pytest.approx(not_backed[s]["later_gap_pp"])
            # on the federal list, not flagged by Shkala: shown beside, not mixed in
            assert body["federal_list_not_screened"] == sorted({"s2", "s9"} - set(members))
            # a municipality sees its own schools, still judged against the whole region
            r = await http.get(f"/lists/{LIST}", params=[("period", Y1), ("municipality", "m1")])
            assert {m["school_id"] for m in r.json()["members"]} == {
                s for s in members if s in SCHOOLS["m1"]
            }
