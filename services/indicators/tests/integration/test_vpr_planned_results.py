"""ВПР deficits by planned result (seed 000 item 5.3) on real Kafka and FerretDB: generated
protocol rows and a generated task → planned-result mapping go on the log; per-planned-result
success (parallel, class, municipality), each vpr-tasks row's planned results, and each
student's failed tasks come back from the API equal to a plain computation over the raw
rows written here; an assessment without a mapping is reported missing; another school's
students are refused."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import httpx
import pytest
from indicators_testkit import YEARS, generate, wait_for

from shkala_contracts import Tenant
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_contracts.events.reference import VprTaskPlannedResult
from shkala_indicators.bootstrap import bootstrap
from shkala_indicators.settings import Settings
from shkala_runtime.auth import issue_token
from shkala_runtime.kafka import EventPublisher, Outgoing
from shkala_runtime.settings import ServiceSettings

YEAR = YEARS[1]
THRESHOLD = 50.0  # the catalogue's vpr_task_success_threshold, as the seed-free default


def mapping_for(vpr: list[AssessmentResultRecorded], rng: random.Random) -> list[Any]:
    """One or two planned results per task, some shared between tasks; Russian grade 8
    (if written) left without a mapping."""
    tasks: dict[tuple[str, int], set[str]] = defaultdict(set)
    for f in vpr:
        tasks[(f.subject, f.grade)].update(t.task for t in f.tasks)
    out = []
    for (subject, grade), names in sorted(tasks.items()):
        if (subject, grade) == ("русский язык", 8):
            continue
        for task in sorted(names):
            for code in rng.sample(["1.1", "1.2", "2.1", "3.1"], rng.randint(1, 2)):
                out.append(
                    VprTaskPlannedResult(
                        academic_year=YEAR, subject=subject, grade=grade, task=task,
                        planned_result_code=code, planned_result=f"Умение {code} ({subject})",
                    )
                )  # fmt: skip
    return out


async def test_planned_result_and_student_deficits(test_settings: ServiceSettings) -> None:
    settings = Settings(**{**test_settings.model_dump(), "indicators_batch_size": 300})
    svc = bootstrap(settings)
    reg = generate(seed=5, n_mun=2, per_mun=2)
    finals = reg.final_facts()
    vpr = [
        f
        for f in finals
        if isinstance(f, AssessmentResultRecorded) and f.procedure == "ВПР"
        and f.academic_year == YEAR
    ]  # fmt: skip
    mapping = mapping_for(vpr, random.Random(3))
    codes: dict[tuple[str, int, str], set[str]] = defaultdict(set)  # task -> planned results
    for m in mapping:
        codes[(m.subject, m.grade, m.task)].add(m.planned_result_code)
    async with svc.app.router.lifespan_context(svc.app):
        pub = EventPublisher(settings)
        await pub.start()
        try:
            acks = await pub.publish(reg.org_outgoing())
            acks += await pub.publish(reg.outgoing(reg.originals))
            acks += await pub.publish(reg.outgoing(reg.corrections, version=2))
            acks += await pub.publish(
                [Outgoing.of(m, source="/t", tenant=Tenant(region=reg.region)) for m in mapping]
            )
        finally:
            await pub.stop()
        last: dict[tuple[str, int], int] = {}
        for a in acks:
            last[(a.topic, a.partition)] = max(last.get((a.topic, a.partition), -1), a.offset)
        after = [f"{t}:{p}:{off}" for (t, p), off in sorted(last.items())]
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=svc.app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {issue_token(settings, 'region')}"},
        )
        school = sorted({f.school_id for f in vpr})[0]
        mine = [f for f in vpr if f.school_id == school]

        async def settled() -> bool:  # facts applied, mapping folded (read-your-writes)
            r = await http.get(
                f"/schools/{school}/vpr-students",
                params={"period": YEAR, "after": after, "wait_ms": 5000},
            )
            return r.status_code == 200

        def pooled(facts: list[AssessmentResultRecorded], by_class: bool) -> dict:
            won: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
            for f in facts:
                for t in f.tasks:
                    for c in codes.get((f.subject, f.grade, t.task), ()):
                        k = (f.subject, f.grade, f.class_label if by_class else None, c)
                        won[k][0] += t.points
                        won[k][1] += t.max_points
            return {k: p / m * 100 for k, (p, m) in won.items()}

        def got(body: dict[str, Any]) -> dict:
            return {
                (r["subject"], r["grade"], r["class_label"], r["code"]): r["rate"]
                for r in body["planned_results"]
            }

        async with http:
            await wait_for(settled, within=90)
            # 1. a school's parallels and classes, and a municipality's schools together
            deficits_seen = 0
            for by in ("parallel", "class"):
                r = await http.get(
                    f"/schools/{school}/vpr-planned-results", params={"period": YEAR, "by": by}
                )
                assert r.status_code == 200, r.text
                want = pooled(mine, by == "class")
                assert want, "the generated school has mapped ВПР results"
                assert got(r.json()) == pytest.approx(want)
                flagged = {
                    (d["subject"], d["grade"], d["class_label"], d["code"])
                    for d in r.json()["deficits"]
                }
                assert flagged == {k for k, v in want.items() if v < THRESHOLD}
                deficits_seen += len(flagged)
            assert deficits_seen, "the generated school has planned-result deficits"
            sm = reg.school_municipality()
            mun = sm[school]
            r = await http.get(
                f"/municipalities/{mun}/vpr-planned-results", params={"period": YEAR}
            )
            assert r.status_code == 200, r.text
            want = pooled([f for f in vpr if sm[f.school_id] == mun], False)
            assert got(r.json()) == pytest.approx(want)

            # 2. the per-task rows name their planned results
            r = await http.get(f"/schools/{school}/vpr-tasks", params={"period": YEAR})
            assert r.status_code == 200, r.text
            for row in r.json()["tasks"]:
                named = {p["code"] for p in row["planned_results"]}
                assert named == codes.get((row["subject"], row["grade"], row["task"]), set())
            # ... and carry the same per-planned-result rows (the web card reads them there)
            by_pr = {"planned_results": r.json()["by_planned_result"]}
            assert got(by_pr) == pytest.approx(pooled(mine, False))

            # 3. per student: the tasks below half their maximum, and what they check
            r = await http.get(f"/schools/{school}/vpr-students", params={"period": YEAR})
            assert r.status_code == 200, r.text
            body = r.json()
            students = {(s["student"], s["subject"]): s for s in body["students"]}
            assert len(students) == len(mine)
            any_failed = False
            for f in mine:
                s = students[(f.student, f.subject)]
                failed = {t.task for t in f.tasks if t.points / t.max_points * 100 < THRESHOLD}
                any_failed |= bool(failed)
                assert {t["task"] for t in s["failed_tasks"]} == failed
                for t in s["failed_tasks"]:
                    assert {p["code"] for p in t["planned_results"]} == codes.get(
                        (f.subject, f.grade, t["task"]), set()
                    )
                own: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
                for t in f.tasks:
                    for c in codes.get((f.subject, f.grade, t.task), ()):
                        own[c][0] += t.points
                        own[c][1] += t.max_points
                assert set(s["deficits"]) == {
                    c for c, (p, m) in own.items() if p / m * 100 < THRESHOLD
                }
            assert any_failed
            # pseudonyms only: the answer names no raw id (the generator's are pseudonyms)
            assert all(s["student"].startswith("p") for s in body["students"])

            # 4. an assessment without a mapping is reported, not an empty success
            written = {(f.subject, f.grade) for f in mine}
            unmapped = {("русский язык", 8)} & written
            assert unmapped, "the school wrote the assessment left without a mapping"
            assert body["mapping"] == ("partial" if unmapped else "complete")
            assert {(m["subject"], m["grade"]) for m in body["mapping_missing"]} == unmapped
            r = await http.get(
                f"/schools/{school}/vpr-planned-results", params={"period": YEARS[0]}
            )
            assert r.status_code == 200, r.text
            assert r.json()["mapping"] == "missing"  # nothing uploaded for the earlier year
            assert r.json()["planned_results"] == []
            assert {(m["subject"], m["grade"]) for m in r.json()["mapping_missing"]}

            # 5. tenants: a school sees its own students, not another school's
            other = next(s for s in sm if s != school)
            own_token = issue_token(settings, "school", municipality=mun, school=school)
            hdr = {"Authorization": f"Bearer {own_token}"}
            r = await http.get(f"/schools/{school}/vpr-students", params={"period": YEAR},
                               headers=hdr)  # fmt: skip
            assert r.status_code == 200, r.text
            for path in ("vpr-students", "vpr-planned-results"):
                r = await http.get(f"/schools/{other}/{path}", params={"period": YEAR},
                                   headers=hdr)  # fmt: skip
                assert r.status_code == 403, r.text
            foreign = next(m for m in reg.municipalities if m != mun)
            mun_token = issue_token(settings, "municipality", municipality=foreign)
            mun_hdr = {"Authorization": f"Bearer {mun_token}"}
            r = await http.get(f"/schools/{school}/vpr-students", params={"period": YEAR},
                               headers=mun_hdr)  # fmt: skip
            assert r.status_code == 403, r.text
            r = await http.get(f"/municipalities/{mun}/vpr-planned-results",
                               params={"period": YEAR}, headers=mun_hdr)  # fmt: skip
            assert r.status_code == 403, r.text
