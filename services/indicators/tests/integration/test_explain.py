"""«Как посчитано» through real Kafka and FerretDB and the HTTP API: a generated region's
values, list entries and rating scores explained, each compared with a plain count from the
raw rows (the test kit's formulas, never the service's code); another municipality's school
is refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from directions_testkit import ADMISSION
from indicators_testkit import (
    MATH,
    YEARS,
    as_value,
    catalogue_raw,
    expected_lists,
    expected_school_values,
    generate,
    wait_for,
)

from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.school_context import SchoolContextReported
from shkala_contracts.events.staffing import PrincipalCompetenceAssessed
from shkala_indicators.bootstrap import Service, bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher
from shkala_runtime.settings import ServiceSettings

Y0, Y1 = YEARS


async def wait_applied(svc: Service, acks: list[Any], within: float = 90.0) -> None:
    """Until every acknowledged fact is applied and visible in this instance's read table."""
    need: dict[tuple[str, int], int] = {}
    for a in acks:
        need[(a.topic, a.partition)] = max(need.get((a.topic, a.partition), -1), a.offset)
    after = [(t, p, off) for (t, p), off in need.items()]
    read = svc.app.state.read_model

    async def done() -> bool:
        return not await read.missing(after)

    await wait_for(done, within=within)


def client(svc: Any, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=svc.app), base_url="http://t",
        headers={"Authorization": f"Bearer {token}"}, timeout=60,
    )  # fmt: skip


def vpr_rows(facts: list[Any], school: str, year: str) -> list[AssessmentResultRecorded]:
    """ВПР maths results of grades 5 and 8 (seed 002's parallels) of a school and year."""
    return [
        f for f in facts
        if isinstance(f, AssessmentResultRecorded) and f.school_id == school
        and f.academic_year == year and f.procedure == "ВПР" and f.subject == MATH
        and f.grade in (5, 8) and f.mark is not None
    ]  # fmt: skip


async def test_values_lists_and_rating_explained_against_the_raw_rows(
    test_settings: ServiceSettings,
) -> None:
    settings = Settings(**test_settings.model_dump())
    svc = bootstrap(settings)
    reg = generate(seed=13, n_mun=2, per_mun=4)
    final = reg.final_facts()
    expected = expected_school_values(final)
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
        m1 = reg.municipalities["m1"]
        async with client(svc, issue_token(settings, "region")) as http:
            # 1. every value of two schools: the explanation's numerator and denominator are
            # the independent count's, and the stored value agrees
            checked = 0
            for school in m1[:2]:
                for (ind, s, year), (num, den) in expected.items():
                    if s != school or year != Y1:
                        continue
                    r = await http.get(
                        f"/schools/{school}/indicators/{ind}/explain", params={"period": Y1}
                    )
                    assert r.status_code == 200, r.text
                    body = r.json()
                    assert (body["numerator"], body["denominator"]) == pytest.approx((num, den)), (
                        ind
                    )
                    assert body["itemised"] is True, (ind, body["note"])
                    assert body["matches_stored"] is True, ind
                    assert body["definition_version"] == "2026.1"
                    assert body["rule"]["numerator_text"]
                    text = json.dumps(body, ensure_ascii=False)
                    assert '"oid"' not in text
                    assert "assessment:" not in text  # no stored fact ids
                    checked += 1
            assert checked > 40

            # 2. the facts themselves: the one-year ВПР maths share's results, by natural key
            school = m1[0]
            rows = vpr_rows(final, school, Y1)
            r = await http.get(
                f"/schools/{school}/indicators/vpr_mark2_share_math/explain",
                params={"period": Y1},
            )
            body = r.json()

            def keys(items: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
                return sorted((i["key"]["student"], i["key"]["grade"], i["key"]["subject"])
                              for i in items)  # fmt: skip

            assert keys(body["in_numerator"]) == sorted(
                (f.student, f.grade, f.subject) for f in rows if f.mark == 2
            )
            assert keys(body["in_denominator_only"]) == sorted(
                (f.student, f.grade, f.subject) for f in rows if f.mark != 2
            )
            # the two-year share: students with a «2» in each year, and the rolls of the
            # parallels written, from each year's school context
            r = await http.get(
                f"/schools/{school}/indicators/vpr_mark2_share_2y_math/explain",
                params={"period": Y1},
            )
            body = r.json()
            want_students = sorted(
                (f.student, y) for y in (Y0, Y1) for f in vpr_rows(final, school, y) if f.mark == 2
            )
            got_students = sorted(
                (i["key"]["student"], i["key"]["year"]) for i in body["in_numerator"]
            )
            assert got_students == sorted(set(want_students))
            ctx = {
                f.academic_year: f for f in final
                if isinstance(f, SchoolContextReported) and f.school_id == school
            }  # fmt: skip
            rolls = sorted(
                (y, g, getattr(ctx[y], f"enrolled_grade_{g}"))
                for y in (Y0, Y1)
                for g in {f.grade for f in vpr_rows(final, school, y)}
            )
            assert (
                sorted(
                    (i["key"]["year"], i["values"]["grade"], i["denominator"])
                    for i in body["in_denominator_only"]
                )
                == rolls
            )

            # the four directions: the grade-4 ВПР results, the graduates over the admission
            # minimum in 3+ subjects and each principal's latest assessment, from the raw rows
            mine = [
                f for f in final
                if getattr(f, "school_id", None) == school
                and getattr(f, "academic_year", None) == Y1
            ]  # fmt: skip
            vpr4 = [
                f for f in mine
                if isinstance(f, AssessmentResultRecorded) and f.procedure == "ВПР"
                and f.grade == 4 and f.mark is not None
            ]  # fmt: skip
            assert vpr4
            r = await http.get(
                f"/schools/{school}/indicators/vpr_success_share_noo/explain", params={"period": Y1}
            )
            body = r.json()
            assert keys(body["in_numerator"]) == sorted(
                (f.student, f.grade, f.subject) for f in vpr4 if f.mark >= 3
            )
            assert keys(body["in_denominator_only"]) == sorted(
                (f.student, f.grade, f.subject) for f in vpr4 if f.mark < 3
            )
            passed: dict[str, set[str]] = {}
            for f in mine:
                if isinstance(f, AssessmentResultRecorded) and f.procedure == "ЕГЭ":
                    passed.setdefault(f.student, set())
                    if f.test_score is not None and f.test_score >= ADMISSION.get(f.subject, 101):
                        passed[f.student].add(f.subject)
            r = await http.get(
                f"/schools/{school}/indicators/ege_three_subjects_passed_share/explain",
                params={"period": Y1},
            )
            body = r.json()
            assert body["itemised"] is True, body["note"]
            assert sorted(i["key"]["student"] for i in body["in_numerator"]) == sorted(
                st for st, subj in passed.items() if len(subj) >= 3
            )
            # each principal's latest assessment, in the schools that uploaded any
            principals_checked = 0
            for sch in m1:
                last: dict[str, PrincipalCompetenceAssessed] = {}
                for f in sorted(
                    (
                        f for f in final
                        if isinstance(f, PrincipalCompetenceAssessed)
                        and f.school_id == sch and f.academic_year == Y1
                    ),
                    key=lambda f: f.assessed_on,
                ):  # fmt: skip
                    last[f.principal] = f
                if not last:
                    continue
                r = await http.get(
                    f"/schools/{sch}/indicators/principal_high_level_share/explain",
                    params={"period": Y1},
                )
                body = r.json()
                assert sorted(
                    (i["key"]["principal"], i["key"]["assessed_on"], i["numerator"])
                    for i in body["in_numerator"] + body["in_denominator_only"]
                ) == sorted(
                    (p, f.assessed_on.isoformat(), int(f.level == "высокий"))
                    for p, f in last.items()
                )
                principals_checked += 1
            assert principals_checked

            # 3. list entries: membership and each criterion's figures, for every school
            lists = expected_lists(expected, screening=False)
            th = {i["id"]: i.get("threshold") for i in catalogue_raw()["indicators"]}
            for school in [s for ss in reg.municipalities.values() for s in ss]:
                r = await http.get(f"/lists/ШНОР/{school}/explain", params={"period": Y1})
                assert r.status_code == 200, r.text
                body = r.json()
                assert body["member"] is (school in lists[("ШНОР", Y1)]), school
                assert body["consistent"] is True
                for c in body["criteria"]:
                    want = expected.get((c["indicator_id"], school, Y1))
                    if want is None:
                        assert c["value"] is None
                        assert c["fired"] is False
                        continue
                    x = as_value(c["indicator_id"], *want)
                    t = th[c["indicator_id"]]
                    risky = x > t["value"] if t["risk_if"] == "above" else x < t["value"]
                    assert (c["numerator"], c["denominator"]) == pytest.approx(want)
                    assert c["threshold"] == {"risk_if": t["risk_if"], "value": t["value"]}
                    assert c["fired"] is risky, (school, c["indicator_id"])
            # the list itself names each member's reasons in full
            members = (await http.get("/lists/ШНОР", params={"period": Y1})).json()["members"]
            assert members
            assert {m["school_id"] for m in members} == lists[("ШНОР", Y1)]
            for m in members:
                assert [c["indicator_id"] for c in m["criteria"]] == m["reasons"]
                for c in m["criteria"]:
                    want = expected[(c["indicator_id"], m["school_id"], Y1)]
                    assert c["fired"] is True
                    assert (c["numerator"], c["denominator"]) == pytest.approx(want)
                    assert c["threshold"]["value"] == th[c["indicator_id"]]["value"]
            r = await http.get(f"/lists/ШНСУ/{m1[0]}/explain", params={"period": Y1})
            body = r.json()
            assert body["member"] is (m1[0] in lists[("ШНСУ", Y1)])
            assert body["schools_ranked"] == len(
                {s for (i, s, y) in expected if i == "wellbeing_index" and y == Y1}
            )

            # the objectivity list: its criteria plus the region-relative signs, as GET /lists
            screened = expected_lists(expected)[("признаки необъективности", Y1)]
            for school in [s for ss in reg.municipalities.values() for s in ss]:
                r = await http.get(
                    f"/lists/признаки необъективности/{school}/explain", params={"period": Y1}
                )
                body = r.json()
                assert body["member"] is (school in screened), school
                fired = {c["indicator_id"] for c in body["criteria"] if c["fired"]}
                flagged = {f["rule"] for f in body["flags"]}
                assert set(body["reasons"]) == fired | flagged, school

            # 4. the rating: each school's score from the weights and the raw values
            rating = catalogue_raw()["rating"]["indicators"]
            better = {i["id"]: i["better"] for i in catalogue_raw()["indicators"]}
            vals = {
                s: {
                    w["id"]: as_value(w["id"], *expected[(w["id"], s, Y1)])
                    for w in rating
                    if (w["id"], s, Y1) in expected
                }
                for s in m1
            }
            for school in m1:
                total = part = 0.0
                for w in rating:
                    have = [v[w["id"]] for v in vals.values() if w["id"] in v]
                    if w["id"] not in vals[school]:
                        continue
                    lo, hi = min(have), max(have)
                    pos = 1.0 if hi == lo else (vals[school][w["id"]] - lo) / (hi - lo)
                    part += w["weight"] * (pos if better[w["id"]] == "up" else 1 - pos)
                    total += w["weight"]
                r = await http.get(f"/municipalities/m1/rating/{school}/explain",
                                   params={"period": Y1})  # fmt: skip
                assert r.status_code == 200, r.text
                got = r.json()["explanation"]
                assert got["score"] == pytest.approx(part / total * 100, abs=1e-3), school
                assert sum(c["contribution"] for c in got["components"] if c["included"]) == (
                    pytest.approx(got["score"], abs=1e-3)
                )
                listed = (await http.get("/municipalities/m1/rating", params={"period": Y1})).json()
                row = next(x for x in listed["rows"] if x["school_id"] == school)
                assert (got["score"], got["rank"]) == (row["score"], row["rank"])

        # 5. tenants: a municipality sees its own schools only; a school only itself
        other = reg.municipalities["m2"][0]
        async with client(svc, issue_token(settings, "municipality", municipality="m1")) as http:
            ok = await http.get(
                f"/schools/{m1[0]}/indicators/vpr_mark2_share_math/explain", params={"period": Y1}
            )
            assert ok.status_code == 200
            for path in (
                f"/schools/{other}/indicators/vpr_mark2_share_math/explain",
                f"/lists/ШНОР/{other}/explain",
                f"/municipalities/m2/rating/{other}/explain",
            ):
                r = await http.get(path, params={"period": Y1})
                assert r.status_code == 403, (path, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
            # a school of another municipality named under one's own: not there
            r = await http.get(f"/municipalities/m1/rating/{other}/explain", params={"period": Y1})
            assert r.status_code == 404, r.text
        token = issue_token(settings, "school", municipality="m1", school=m1[0])
        async with client(svc, token) as http:
            own = f"/schools/{m1[0]}/indicators/vpr_mark2_share_math/explain"
            assert (await http.get(own, params={"period": Y1})).status_code == 200
            r = await http.get(
                f"/schools/{m1[1]}/indicators/vpr_mark2_share_math/explain", params={"period": Y1}
            )
            assert r.status_code == 403
            r = await http.get(f"/lists/ШНОР/{m1[0]}/explain", params={"period": Y1})
            assert r.status_code == 403
