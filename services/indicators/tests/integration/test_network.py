"""Resource centres, network pairs and seed 002's support indicators through real Kafka and
FerretDB: a small region built from raw rows (school contexts for two years, registrations
naming resource centres, network pairs), the API compared with a plain calculation from the
rows (shares summed over the schools, lists from the conditions the rows were built with)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from indicators_testkit import Region, wait_for

from shkala_contracts import Tenant
from shkala_contracts.events.org_units import (
    MunicipalityRegistered,
    NetworkPairFormed,
    RegionRegistered,
    SchoolRegistered,
)
from shkala_contracts.events.school_context import SchoolContextReportedV2
from shkala_contracts.vocabulary import AccreditationStatus
from shkala_indicators.bootstrap import bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher, Outgoing
from shkala_runtime.settings import ServiceSettings

Y0, Y1 = "2024/25", "2025/26"
SCHOOLS = {"m1": ["s1", "s2", "s3", "s4", "s5"], "m2": ["s6", "s7", "s8", "s9", "s10"]}
CENTRES = {"s1": "s5", "s2": "s5", "s3": "s5", "s9": "s5", "s6": "orc-2", "s7": "orc-2"}
# accreditation suspended (ШНОР whatever else) and the one school with the worst conditions
# (remote, small, no infrastructure, many on the register: the lowest wellbeing, ШНСУ)
SUSPENDED = {Y0: {"s1", "s2", "s6", "s8"}, Y1: {"s1", "s4", "s7"}}
WORST = {Y0: "s3", Y1: "s8"}
PAIRS = [  # (supported, leading, year, in force)
    ("s1", "s5", Y1, True),
    ("s7", "s10", Y1, True),
    ("s9", "s5", Y1, True),  # across municipalities (the region's upload)
    ("s6", "s10", Y1, False),  # ended
    ("s2", "s5", Y0, True),  # last year's
]
MUN = {s: m for m, ss in SCHOOLS.items() for s in ss}


def context(s: str, year: str, k: int) -> SchoolContextReportedV2:
    worst = WORST[year] == s
    total = 200 + 37 * k + (11 if year == Y1 else 0)
    return SchoolContextReportedV2(
        school_id=s,
        academic_year=year,
        as_of=f"{year[:4]}-09-01",
        students_total=total,
        on_juvenile_register=(30 if worst else (k * 3 + (year == Y1)) % 7),
        migrant_or_low_russian=0,
        special_needs_confirmed=0,
        not_attested=0,
        remote=worst,
        small_school=worst,
        infrastructure_deficit=worst,
        accreditation=AccreditationStatus.SUSPENDED
        if s in SUSPENDED[year]
        else AccreditationStatus.ACTIVE,
    )


def build() -> tuple[Region, list[Outgoing]]:
    reg = Region("demo", SCHOOLS)
    reg.org.append(RegionRegistered(region_id="demo", name="Демо"))
    for m, schools in SCHOOLS.items():
        reg.org.append(MunicipalityRegistered(region_id="demo", municipality_id=m, name=m))
        for s in schools:
            reg.org.append(
                SchoolRegistered(
                    region_id="demo", municipality_id=m, school_id=s, name=f"Школа {s}",
                    resource_centre_id=CENTRES.get(s),
                )
            )  # fmt: skip
    k = 0
    for schools in SCHOOLS.values():
        for s in schools:
            k += 1
            reg.originals += [context(s, Y0, k), context(s, Y1, k)]
    pairs = [
        Outgoing.of(
            NetworkPairFormed(school_id=s, leading_school_id=lead, academic_year=y, active=active),
            source="/shkala/test-ingest",
            tenant=Tenant(region="demo", municipality=MUN[s], school=s),
        )
        for s, lead, y, active in PAIRS
    ]
    return reg, pairs


# ------------------------------------------------------------ the plain calculation
def ctx_of(reg: Region) -> dict[tuple[str, str], SchoolContextReportedV2]:
    return {(f.school_id, f.academic_year): f for f in reg.originals}


def lists_by_rows(year: str) -> dict[str, set[str]]:
    """ШНОР: accreditation suspended (seed 002: «приостановление … аккредитации»); ШНСУ: the
    school with the lowest wellbeing, i.e. the one built with every unfavourable condition."""
    out: dict[str, set[str]] = {}
    for s in MUN:
        names = set()
        if s in SUSPENDED[year]:
            names.add("ШНОР")
        if s == WORST[year]:
            names.add("ШНСУ")
        out[s] = names
    return out


def register_share(ctx, schools, year) -> float:
    return (
        100
        * sum(ctx[(s, year)].on_juvenile_register for s in schools)
        / sum(ctx[(s, year)].students_total for s in schools)
    )


def support_by_rows(schools: list[str]) -> dict[str, tuple[int, int]]:
    now, before = lists_by_rows(Y1), lists_by_rows(Y0)
    paired = {s for s, _, y, active in PAIRS if y == Y1 and active}
    shnor = [s for s in schools if "ШНОР" in now[s]]
    in_lists = [s for s in schools if now[s] or before[s]]
    positive = [s for s in in_lists if (before[s] - now[s]) and not (now[s] - before[s])]
    negative = [s for s in in_lists if (now[s] - before[s]) and not (before[s] - now[s])]
    return {
        "network_pair_share": (len([s for s in shnor if s in paired]), len(shnor)),
        "list_positive_dynamics_share": (len(positive), len(in_lists)),
        "list_negative_dynamics_share": (len(negative), len(in_lists)),
    }


def _ind(entry: dict[str, Any], ind: str) -> dict[str, Any]:
    return next(i for i in entry["indicators"] if i["indicator_id"] == ind)


async def test_resource_centres_pairs_and_support(test_settings: ServiceSettings) -> None:
    settings = Settings(**test_settings.model_dump())
    reg, pairs = build()
    ctx = ctx_of(reg)
    svc = bootstrap(settings)
    async with svc.app.router.lifespan_context(svc.app):
        pub = EventPublisher(settings)
        await pub.start()
        try:
            await pub.publish(reg.org_outgoing())
            await pub.publish(reg.outgoing(reg.originals))
            await pub.publish(pairs)
        finally:
            await pub.stop()

        def client(role: str, **tenant: str) -> httpx.AsyncClient:
            token = issue_token(settings, role, **tenant)
            return httpx.AsyncClient(
                transport=httpx.ASGITransport(app=svc.app), base_url="http://t",
                headers={"Authorization": f"Bearer {token}"}, timeout=60,
            )  # fmt: skip

        shown = ["juvenile_register_share", "accreditation_problem"]
        q = [("period", Y1), *[("indicators", i) for i in shown]]
        async with client("region") as http:

            async def ready() -> bool:
                r = await http.get("/region/network-pairs", params=q)
                if r.status_code != 200 or len(r.json()["pairs"]) != 3:
                    return False
                body = r.json()["pairs"]
                # every school's values of both years are in, and the relative ШНСУ too
                lists = (await http.get("/lists/ШНСУ", params={"period": Y1})).json()
                old = (await http.get("/lists/ШНСУ", params={"period": Y0})).json()
                t = (await http.get("/municipalities/m1/table", params={"period": Y0})).json()
                t2 = (await http.get("/municipalities/m2/table", params={"period": Y1})).json()
                return (
                    all(_ind(p[side], shown[0])["previous"] is not None
                        for p in body for side in ("leading", "school"))
                    and [m["school_id"] for m in lists["members"]] == [WORST[Y1]]
                    and [m["school_id"] for m in old["members"]] == [WORST[Y0]]
                    and all(len(r["values"]) >= 5 for r in t["rows"] + t2["rows"])
                )  # fmt: skip

            await wait_for(ready, within=120)

            # ---- network pairs: in force this year, both sides with values and lists
            body = (await http.get("/region/network-pairs", params=q)).json()
            got = {(p["school_id"], p["leading_school_id"]) for p in body["pairs"]}
            assert got == {(s, lead) for s, lead, y, a in PAIRS if y == Y1 and a}
            now, before = lists_by_rows(Y1), lists_by_rows(Y0)
            for p in body["pairs"]:
                for side, s in (("school", p["school_id"]), ("leading", p["leading_school_id"])):
                    e = p[side]
                    assert e["shown"] is True
                    jr = _ind(e, "juvenile_register_share")
                    assert jr["value"] == pytest.approx(register_share(ctx, [s], Y1), abs=1e-5)
                    assert jr["previous"] == pytest.approx(register_share(ctx, [s], Y0), abs=1e-5)
                    change = register_share(ctx, [s], Y1) - register_share(ctx, [s], Y0)
                    assert jr["change"] == pytest.approx(change, abs=1e-5)
                    # fewer students on the register is better
                    want = (
                        "same" if abs(change) < 1e-9 else "improved" if change < 0 else "worsened"
                    )
                    assert jr["trend"] == want, (s, jr)
                    assert _ind(e, "accreditation_problem")["value"] == (s in SUSPENDED[Y1])
                    assert set(e["lists"]) == now[s]
                    assert set(e["previous_lists"]) == before[s]
                    assert set(e["entered"]) == now[s] - before[s]
                    assert set(e["left"]) == before[s] - now[s]

            # ---- resource centres: the region sees all; roll-up = sums over the schools
            body = (await http.get("/resource-centres", params={"period": Y1})).json()
            centres = {c["resource_centre_id"]: c for c in body["resource_centres"]}
            assert set(centres) == {"s5", "orc-2"}
            assert centres["s5"]["host_school"] is True
            assert centres["orc-2"]["host_school"] is False
            assert centres["s5"]["schools"] == 5
            assert centres["s5"]["schools_not_shown"] == 0
            assert centres["s5"]["municipality_ids"] == ["m1", "m2"]
            members = {"s5": ["s5", "s1", "s2", "s3", "s9"], "orc-2": ["s6", "s7"]}
            for cid, schools in members.items():
                c = (await http.get(f"/resource-centres/{cid}", params=q)).json()
                assert [x["school_id"] for x in c["schools"]] == schools
                roll = {r["indicator_id"]: r for r in c["roll_up"]}
                assert roll["juvenile_register_share"]["value"] == pytest.approx(
                    register_share(ctx, schools, Y1), abs=1e-5
                )
                assert roll["juvenile_register_share"]["previous"] == pytest.approx(
                    register_share(ctx, schools, Y0), abs=1e-5
                )
                assert roll["juvenile_register_share"]["denominator"] == sum(
                    ctx[(s, Y1)].students_total for s in schools
                )
                share = sum(s in SUSPENDED[Y1] for s in schools) / len(schools)
                assert roll["accreditation_problem"]["value"] == pytest.approx(share, abs=1e-5)
                counts: dict[str, int] = {}
                for s in schools:
                    for name in now[s]:
                        counts[name] = counts.get(name, 0) + 1
                assert c["list_counts"] == counts
            default = (await http.get("/resource-centres/s5", params={"period": Y1})).json()
            assert "accreditation_problem" in {i["id"] for i in default["indicators"]}
            r = await http.get("/resource-centres/nowhere", params={"period": Y1})
            assert r.status_code == 404
            r = await http.get("/resource-centres/s5", params={"period": "2025"})
            assert r.status_code == 422
            assert "2025" in r.json()["detail"]
            r = await http.get("/resource-centres/s5", params=[("period", Y1), ("indicators", "x")])
            assert r.status_code == 422

            # ---- support indicators, per municipality and region
            body = (await http.get("/support-indicators", params={"period": Y1})).json()
            assert {i["id"] for i in body["indicators"]} == set(support_by_rows([]))
            units = {**body["municipalities"], "region": body["region"]}
            scope = {**SCHOOLS, "region": list(MUN)}
            for unit, values in units.items():
                want = support_by_rows(scope[unit])
                for v in values:
                    num, den = want[v["indicator_id"]]
                    assert (v["numerator"], v["denominator"]) == (num, den), (unit, v)
                    assert v["value"] == (pytest.approx(100 * num / den, abs=1e-5) if den else None)
            cat = (await http.get("/catalogue")).json()
            for s in cat["support_indicators"]:
                assert s["numerator"]
                assert s["denominator"]
                assert s["sources"]["formula"].startswith("seed 002_2937984b5dfd35f2.txt")
                assert s["sources"]["denominator"]

            # ---- read-your-writes: a new pair is in the first answer that names its position
            pub = EventPublisher(settings)
            await pub.start()
            try:
                acks = await pub.publish(
                    [
                        Outgoing.of(
                            NetworkPairFormed(
                                school_id="s4", leading_school_id="s5", academic_year=Y1
                            ),
                            source="/shkala/test-ingest",
                            tenant=Tenant(region="demo", municipality="m1", school="s4"),
                        )
                    ]
                )
            finally:
                await pub.stop()
            after = [("after", f"{a.topic}:{a.partition}:{a.offset}") for a in acks]
            r = await http.get("/municipalities/m1/network-pairs", params=q + after)
            body = r.json()
            assert body["freshness"]["after"]["satisfied"] is True, body["freshness"]
            assert ("s4", "s5") in {(p["school_id"], p["leading_school_id"]) for p in body["pairs"]}

        # ---- tenants: a municipality sees its pairs, the other school without values
        async with client("municipality", municipality="m2") as http:
            body = (await http.get("/municipalities/m2/network-pairs", params=q)).json()
            by_school = {p["school_id"]: p for p in body["pairs"]}
            assert set(by_school) == {"s7", "s9"}
            assert by_school["s7"]["leading"]["shown"] is True
            assert by_school["s9"]["leading"] == {
                "school_id": "s5", "name": "Школа s5", "municipality_id": "m1", "shown": False,
                "reason": "outside your tenant: values not shown",
            }  # fmt: skip
            assert by_school["s9"]["school"]["shown"] is True
            r = await http.get("/municipalities/m1/network-pairs", params=q)
            assert r.status_code == 403
            c = (await http.get("/resource-centres/s5", params=q)).json()
            assert [x["school_id"] for x in c["schools"]] == ["s9"]
            assert c["schools_not_shown"] == 4
            roll = {r["indicator_id"]: r for r in c["roll_up"]}
            assert roll["juvenile_register_share"]["value"] == pytest.approx(
                register_share(ctx, ["s9"], Y1), abs=1e-5
            )
            body = (await http.get("/support-indicators", params={"period": Y1})).json()
            assert set(body["municipalities"]) == {"m2"}
            assert "region" not in body
            r = await http.get("/support-indicators", params={"period": Y1, "municipality": "m1"})
            assert r.status_code == 403
        async with client("school", municipality="m1", school="s1") as http:
            body = (await http.get("/schools/s1/network-pairs", params=q)).json()
            assert [(p["school_id"], p["leading"]["shown"]) for p in body["pairs"]] == [
                ("s1", False)
            ]
            r = await http.get("/schools/s5/network-pairs", params=q)
            assert r.status_code == 403
            r = await http.get("/resource-centres/orc-2", params=q)
            assert r.status_code == 403
            r = await http.get("/region/network-pairs", params=q)
            assert r.status_code == 403
