"""The demo region (tiny) through ingest, indicators and plans as processes on the real
infrastructure: every school at risk in the latest year — on a list (ШНОР, ШНСУ, признаки
необъективности) or with an indicator on the risk side of its catalogue threshold, as the
indicators service shows them — gets at least one generated proposal citing its values, and
accepting one creates the plans recommendation (checked through ``GET /recommendations``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.processes import ServiceProcesses, wait_until
from support.projections import applied, log_end, upload

from shkala_demo.facts import KINDS
from shkala_demo.region import TINY, build_region, write_region
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

PERIOD = "2025/26"
LISTS = ("ШНОР", "ШНСУ", "признаки необъективности")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, infra: None) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("proposals")
    region = build_region(TINY)
    files = {w.kind: w.path for w in write_region(region, work / "region", "csv")}
    procs = ServiceProcesses(
        work / "logs",
        services=("ingest", "indicators", "plans"),
        env={"SHKALA_REGION_ID": region.id},
    )
    procs.env["SHKALA_INDICATORS_URL"] = procs.url("indicators")
    token = issue_token(ServiceSettings(), Role.REGION, region=region.id)
    auth = {"Authorization": f"Bearer {token}"}
    try:
        procs.start()
        for kind in KINDS:  # org units first: the order the files are written
            upload(procs, auth, files, kind)
        yield {"procs": procs, "auth": auth, "region": region}
    finally:
        procs.stop()


def at_risk_by_indicators(url: str, auth: dict[str, str], schools: list[str]) -> dict[str, Any]:
    """The schools at risk as the indicators service shows them, with the values at risk
    (each must be cited by a proposal of its school)."""
    catalogue = httpx.get(url + "/catalogue", headers=auth, timeout=60).json()
    thresholds = {i["id"]: i["threshold"] for i in catalogue["indicators"] if i["threshold"]}
    out: dict[str, Any] = {}
    for risk_list in LISTS:
        body = httpx.get(
            f"{url}/lists/{risk_list}", params={"period": PERIOD}, headers=auth, timeout=60
        ).json()
        for m in body.get("members", []):
            out.setdefault(m["school_id"], {})
    for sid in schools:
        card = httpx.get(f"{url}/schools/{sid}", headers=auth, timeout=60).json()
        for ind in card["indicators"]:
            t = thresholds.get(ind["id"])
            for v in ind["trend"]:
                if v["period"] != PERIOD or v["value"] is None or t is None:
                    continue
                over = v["value"] > t["value"] if t["risk_if"] == "above" else None
                under = v["value"] < t["value"] if t["risk_if"] == "below" else None
                if over or under:
                    figures = (v["value"], v["numerator"], v["denominator"])
                    out.setdefault(sid, {})[ind["id"]] = figures
    return out


async def test_every_at_risk_demo_school_gets_a_proposal_and_accepting_one_issues_it(
    system: dict[str, Any],
) -> None:
    procs, auth, region = system["procs"], system["auth"], system["region"]
    total = await log_end(procs.env["SHKALA_KAFKA_TOPIC_PREFIX"])
    wait_until(lambda: applied(procs.url("indicators"), auth) >= total, 300, "indicators caught up")
    schools = sorted(s.id for s in region.schools)
    expected = at_risk_by_indicators(procs.url("indicators"), auth, schools)
    assert region.designed_low_results <= set(expected), "the designed ШНОР school is at risk"
    plans = procs.url("plans")

    def proposals() -> dict[str, Any] | None:
        r = httpx.get(plans + "/proposals", params={"period": PERIOD}, headers=auth, timeout=60)
        log = procs.log_path("plans")
        assert r.status_code == 200, r.text + log.read_text(errors="replace")[-4000:]
        body = r.json()
        return body if set(body["schools_at_risk"]) >= set(expected) else None

    body = wait_until(proposals, 180, "plans proposed for every school at risk")
    assert body["incomplete"] == []
    extra = [p for p in body["proposals"] if p["school_id"] not in expected]
    assert set(body["schools_at_risk"]) == set(expected), extra
    for sid, values in expected.items():
        mine = [p for p in body["proposals"] if p["school_id"] == sid]
        assert mine, f"{sid} is at risk and got no proposal"
        cited = {
            c["indicator_id"]: (c["value"], c["numerator"], c["denominator"])
            for p in mine
            for c in p["cited"]
            if c["source"] == "indicator"
        }
        for ind, figures in values.items():
            assert cited.get(ind) == pytest.approx(figures), (sid, ind)

    pick = next(
        p
        for p in body["proposals"]
        if p["school_id"] in region.designed_low_results and p["indicator_id"]
    )
    token = issue_token(
        ServiceSettings(), Role.MUNICIPALITY, region=region.id, municipality=pick["municipality_id"]
    )
    mun = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=plans, headers=mun, timeout=60) as client:
        r = await client.post(f"/proposals/{pick['id']}/accept")
        assert r.status_code == 201, r.text
        rec_id = r.json()["recommendation"]["id"]
        recs = (await client.get("/recommendations")).json()
    (rec,) = [x for x in recs if x["id"] == rec_id]
    assert (rec["school"], rec["indicator_id"]) == (pick["school_id"], pick["indicator_id"])
