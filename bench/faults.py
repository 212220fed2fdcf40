"""`make faults`: the system under failures, on real Kafka and FerretDB.

    uv run python -m bench.faults [--only NAME ... | --ci] [--keep-infra]

``--ci`` (what .ci/run runs, a few minutes): kill-9-indicators, kill-9-notify,
poison-messages, duplicate-upload; the full suite is the default.

Starts a private Kafka (127.0.0.1:19092) and FerretDB (27019) with data in .local/faults, so
restarting them never disturbs the shared infrastructure; stops them at the end (also on
Ctrl-C). Every scenario runs the services it needs as processes with its own topic prefix and
database, uploads a small generated region (the demo generator, 8 schools) and injects one
fault:

| scenario | fault |
|---|---|
| kill-9-ingest | SIGKILL of ingest while an import publishes; restart; the user re-sends |
| kill-9-indicators | SIGKILL of the projection mid-stream; restart |
| kill-9-plans | SIGKILL of plans while it consumes the indicators topic; restart |
| kill-9-notify | SIGKILL of notify while it delivers webhooks; restart |
| kafka-restart-during-ingest | the broker stops and starts while files are being uploaded |
| db-restart-during-projection | FerretDB stops and starts while indicators projects |
| poison-messages | undecodable, schema-invalid, unknown type, wrong tenant (assessment topic) |
| duplicate-upload | one file twice, one three times at once, one with a changed byte |
| webhook-receiver-outage | the webhook receiver's port is closed for a while, then open |
| sse-resume | a dashboard leaves; notify is killed -9, restarted; it resumes (Last-Event-ID) |
| webhook-secret-rotation | the secret is rotated while webhooks flow; the receiver switches |
| consumer-group-per-deployment | after the others: each group on the broker has one run's prefix |

The notify scenarios are described in bench/fault_notify.py.

What every scenario checks (``events``: rows / events involved; ``seconds``: wall time):

- **Ingest and indicators** (every scenario but the notify/plans ones): the *acknowledged
  rows* are the rows of every file ingest answered ``completed`` for. Reading the fact topics
  back, each must be there as a distinct fact (originator id): the expected count comes from
  the generator (one fact per row; org units: region + municipalities + schools), so
  ``lost`` = expected facts missing from the log, ``duplicated`` = distinct facts beyond the
  expected ones plus facts that got a second version (a spurious correction). Then the
  projection is compared with a clean second indicators instance (own database and consumer
  group) over the same topics: every school card (numerator, denominator, value per
  indicator and period, lists) and the ШНОР/ШНСУ lists must be equal (``equal_to_clean``);
  a denominator above the clean one counts as duplicated, below as lost.
- **plans** relies on the indicators topic for effectiveness: the value of every indicator of
  every school and period, and ШНОР/ШНСУ membership, at the latest version. The harness folds
  the topic itself; ``lost`` = keys plans lacks or holds at an older version, ``duplicated``
  = keys plans holds that the log does not (or at a version the log never had).
- **notify**: a subscription with no filter must receive every event of the indicators and
  plans topics. ``lost`` = CloudEvents ids on the log never acknowledged (2xx) by the
  receiver; ``duplicated`` = acknowledged deliveries of a webhook-id beyond its first (a
  retry after a failed attempt is not a duplicate; a second 2xx is, even though Standard
  Webhooks receivers deduplicate by webhook-id) — except a second 2xx of a webhook whose
  first 2xx notify had not recorded yet when it was killed: that resend is at-least-once
  delivery, inherent to any sender that can die, and is counted as ``resent_unrecorded``.
- **poison-messages**: each poison message must reach ``<topic>.dlq`` once per consumer group
  with an ``x-dlq-reason`` (``lost`` counts those that did not), and the projection must still
  equal the clean one over the good events.

When a scenario stops making progress for a minute, the harness unblocks it once as an
operator would (restarts FerretDB if the scenario's database does not answer, else restarts
the stuck service), records that as ``unblocked_by`` and fails the scenario: the system did
not heal itself. The counts are still taken after the recovery.

Writes bench/results/faults-<date>.json ({"scenarios": [{name, events, lost, duplicated,
seconds, ...}]}) (``--ci``: faults-ci-<date>.json) and prints a markdown table and a closing
``N passed, N failed``; exits 1 when any scenario failed, lost, duplicated or differed from
the clean recomputation.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import json
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from bench.fault_checks import POISON_HEADER, Receiver, fold_plans_view, headers
from bench.fault_infra import PrivateInfra
from bench.fault_notify import sse_resume, webhook_secret_rotation
from bench.fault_world import (
    ROOT,
    Files,
    Stage,
    applied,
    free_port,
    in_thread,
    log,
    read_log,
    wait_until,
)
from shkala_demo.region import TINY, build_region, write_region
from shkala_runtime.settings import ServiceSettings

RESULTS = ROOT / "bench/results"
SPEC = replace(TINY, students=200)  # 8 schools, ~950 facts: the projection does ~50/s today
KINDS = ("org-units", "vpr", "gia", "school-context")
FACT_KINDS = KINDS[1:]
NOTIFY_ENV = {
    "SHKALA_WEBHOOK_ALLOW_NETWORKS": '["127.0.0.0/8"]',
    "SHKALA_WEBHOOK_RETRY_SCHEDULE_S": "[1, 2, 4, 8, 15, 30, 60]",
    "SHKALA_WEBHOOK_LEASE_S": "5",
    "SHKALA_WEBHOOK_POLL_INTERVAL_S": "0.5",
}
SSE_ENV = {"SHKALA_SSE_PING_S": "2"}  # checkpoint ids while nothing matches
# notify delivers a few webhooks per second on FerretDB: a smaller upload for its scenarios.
NOTIFY_KINDS = ("gia", "school-context")
DOMAIN_TOPICS = ("shkala.indicators.v1", "shkala.plans.v1")


class Faults:
    def __init__(self, work: Path, infra: PrivateInfra) -> None:
        self.work = work
        self.infra = infra
        region = build_region(SPEC)
        written = write_region(region, work / "region", "csv", kinds=KINDS)
        rows = {w.kind: w.rows for w in written}
        facts = {**rows, "org-units": 1 + len(region.municipalities) + len(region.schools)}
        self.files = Files(region, {w.kind: w.path for w in written}, rows, facts)

    def stage(self, name: str, services: tuple[str, ...], **env: str) -> Stage:
        restart = lambda: self.infra.ferretdb("stop") + self.infra.ferretdb("start")  # noqa: E731
        return Stage(name, self.work, self.files, services, env=dict(env), restart_db=restart)

    def upload_facts(self, st: Stage) -> None:
        for kind in FACT_KINDS:
            st.upload(kind)

    # ------------------------------------------------------------------ scenarios

    def kill_9_ingest(self, st: Stage) -> dict[str, Any]:
        st.procs.start()
        st.upload_org_units()

        def kill_mid_import(state: dict[str, Any]) -> None:
            url = st.url("ingest") + f"/imports/{state['import_id']}"
            deadline = time.monotonic() + 5
            progress: dict[str, Any] = {}
            while time.monotonic() < deadline:
                progress = httpx.get(url, headers=st.auth, timeout=5).json().get("progress") or {}
                if progress.get("rows_published"):
                    break
                time.sleep(0.01)
            st.procs.kill("ingest")
            st.note(f"ingest killed at {progress}")
            st.procs.start("ingest")

        st.upload("vpr", on_accepted=kill_mid_import)
        st.upload("gia")
        st.upload("school-context")
        return st.verify_indicators()

    def mid_stream(self, st: Stage) -> Callable[[], Any]:
        """Facts are being uploaded and projected: the projection has applied some beyond
        the org units while more keep coming (the uploads go on in a thread; join them)."""
        st.procs.start()
        st.upload_org_units()
        base = applied(st.url("indicators"), st.auth)
        join = in_thread(lambda: self.upload_facts(st))
        wait_until(lambda: applied(st.url("indicators"), st.auth) > base, 300, "mid-stream")
        return join

    def kill_9_indicators(self, st: Stage) -> dict[str, Any]:
        join = self.mid_stream(st)
        st.note(f"indicators killed at {applied(st.url('indicators'), st.auth)} applied")
        st.procs.kill("indicators")
        st.procs.start("indicators")
        join()
        st.note(f"uploads done; {st.log_total()} messages on the log")
        return st.verify_indicators()

    def kafka_restart_during_ingest(self, st: Stage) -> dict[str, Any]:
        """The broker stops as soon as the ВПР import is accepted (mid-publish, or before it
        publishes at all), stays down 8 s while the ГИА file goes up, then starts again."""
        st.procs.start()
        st.upload_org_units()
        joins = []

        def restart(state: dict[str, Any]) -> None:
            def run() -> None:
                st.note(f"kafka stop took {self.infra.kafka('stop'):.1f}s")
                time.sleep(8)
                st.note(f"kafka start took {self.infra.kafka('start'):.1f}s")

            joins.append(in_thread(run))

        vpr = st.upload("vpr", on_accepted=restart, attempts=30)
        st.note(f"vpr: {vpr['status']}, progress {vpr['progress']}")
        gia = st.upload("gia", attempts=30)
        st.note(f"gia: {gia['status']}, progress {gia['progress']}")
        for join in joins:
            join()
        st.upload("school-context")
        return st.verify_indicators()

    def db_restart_during_projection(self, st: Stage) -> dict[str, Any]:
        join = self.mid_stream(st)
        st.note(f"FerretDB stopped at {applied(st.url('indicators'), st.auth)} applied")
        st.note(f"ferretdb stop took {self.infra.ferretdb('stop'):.1f}s")
        time.sleep(5)
        st.note(f"ferretdb start took {self.infra.ferretdb('start'):.1f}s")
        join()
        return st.verify_indicators()

    def poison_messages(self, st: Stage) -> dict[str, Any]:
        st.procs.start()
        st.upload_org_units()
        st.upload("vpr")
        sent = asyncio.run(self._publish_poison(st))
        st.upload("gia")
        st.upload("school-context")
        result = st.verify_indicators()
        dlq = asyncio.run(read_log([st.prefix + "shkala.facts.assessment.v1.dlq"]))
        # the clean rebuild skips, never dead-letters
        groups = (st.prefix + "shkala-indicators-partitioned",)
        missing = 0
        for group in groups:
            got = {
                h[POISON_HEADER]
                for r in dlq
                if (h := headers(r)).get("x-dlq-consumer-group") == group
                and POISON_HEADER in h
                and h.get("x-dlq-reason")
            }
            missing += len(set(sent) - got)
            reasons = sorted(
                {
                    f"{h[POISON_HEADER]}: {h['x-dlq-reason'][:60]}"
                    for r in dlq
                    if POISON_HEADER in (h := headers(r)) and h.get("x-dlq-consumer-group") == group
                }
            )
            st.note(f"{group}: {len(got)} of {len(sent)} poison dead-lettered: {reasons}")
        result["lost"] += missing
        result["poison_sent"] = len(sent)
        result["poison_not_dead_lettered"] = missing
        return result

    async def _publish_poison(self, st: Stage) -> list[str]:
        topic = st.prefix + "shkala.facts.assessment.v1"
        [good] = [r for r in await read_log([topic]) if r.offset == 0][:1]
        good_headers = [(k, v) for k, v in good.headers if k != "ce_id"]
        data = json.loads(good.value or b"{}")

        def h(name: str, *extra: tuple[str, bytes]) -> list[tuple[str, bytes]]:
            return [*extra, (POISON_HEADER, name.encode())]

        ce_id = ("ce_id", b"poison-" + str(time.time_ns()).encode())
        poison = {
            "undecodable": (b"\x00\xffnot json at all", h("undecodable")),
            "schema-invalid": (
                json.dumps({**data, "mark": "seven", "grade": -3}).encode(),
                h("schema-invalid", ce_id, *good_headers),
            ),
            "unknown-type": (
                good.value,
                h(
                    "unknown-type",
                    ce_id,
                    ("ce_type", b"ru.shkala.fact.nonexistent.v1"),
                    *[(k, v) for k, v in good_headers if k != "ce_type"],
                ),
            ),
            # filed under another school's tenant than the school it names (a fact for a
            # school not registered yet is not poison: it waits for its registration)
            "wrong-tenant": (
                good.value,
                h(
                    "wrong-tenant",
                    ce_id,
                    ("ce_school", b"sch-9999"),
                    ("ce_originatorid", b"poison-wrong-tenant"),
                    *[(k, v) for k, v in good_headers if k not in ("ce_school", "ce_originatorid")],
                ),
            ),
        }
        producer = AIOKafkaProducer(bootstrap_servers=ServiceSettings().kafka_bootstrap_servers)
        await producer.start()
        try:
            for value, hdrs in poison.values():
                await producer.send_and_wait(topic, value=value, key=b"sch-0001", headers=hdrs)
        finally:
            await producer.stop()
        st.note(f"published {len(poison)} poison messages to {topic}")
        return list(poison)

    def duplicate_upload(self, st: Stage) -> dict[str, Any]:
        st.procs.start()
        st.upload_org_units()
        first = st.upload("vpr")
        again = st.upload("vpr")
        st.note(
            f"vpr again: replayed={again['replayed']}, "
            f"same import={again['import_id'] == first['import_id']}"
        )
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            states = list(pool.map(lambda _: st.upload("gia"), range(3)))
        st.note(
            f"gia x3 at once: {len({s['import_id'] for s in states})} import(s), "
            f"replayed {[s['replayed'] for s in states]}"
        )
        st.upload("school-context")
        changed = st.upload(
            "school-context", body=st.body("school-context") + b"\r\n", key="changed-byte"
        )
        st.note(f"school-context with a changed byte: {changed['progress']}")
        result = st.verify_indicators()
        if result["log_messages"] != result["distinct_facts"]:
            st.note("some facts are on the log more than once (identical republish)")
        return result

    def kill_9_plans(self, st: Stage) -> dict[str, Any]:
        st.procs.start()
        st.upload_org_units()
        self.upload_facts(st)
        client, db = st.db()
        try:
            wait_until(
                lambda: (
                    db["plan_indicator_values"].estimated_document_count() > 0
                    or db["plan_indicator_values"].count_documents({}) > 0
                ),
                300,
                "plans consuming",
            )
            st.note(f"plans killed with {db['plan_indicator_values'].count_documents({})} values")
            st.procs.kill("plans")
            st.procs.start("plans")
            st.wait_projected(lambda: st.url("indicators"))
            expected = fold_plans_view(asyncio.run(read_log([st.prefix + "shkala.indicators.v1"])))

            def plans_view() -> dict[str, tuple[int, Any]]:
                view = {}
                for coll, field in (
                    ("plan_indicator_values", "value"),
                    ("plan_list_membership", "change"),
                ):
                    for d in db[coll].find({}):
                        view[d["_id"]] = (int(d["version"]), d.get(field))
                return view

            def matched() -> int:
                view = plans_view()
                return sum(1 for k, v in expected.items() if view.get(k) == v)

            try:
                st.wait(matched, len(expected), "plans caught up", service="plans")
            except TimeoutError as exc:
                st.note(str(exc))
            view = plans_view()
        finally:
            client.close()
        lost = sum(1 for k, v in expected.items() if k not in view or view[k][0] < v[0])
        wrong = sum(1 for k, v in expected.items() if k in view and view[k] != v)
        phantom = sum(1 for k, v in view.items() if k not in expected or v[0] > expected[k][0])
        return {
            **st.extra,
            "events": len(expected),
            "lost": lost,
            "duplicated": phantom,
            "equal_to_clean": view == expected,
            "differing": wrong,
        }

    def _notify(
        self,
        st: Stage,
        receiver: Receiver,
        fault: Callable[[], None],
        on_subscribed: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        st.procs.start()
        r = httpx.post(
            st.url("notify") + "/subscriptions",
            headers=st.auth,
            json={"url": receiver.url, "description": "make faults"},
            timeout=30,
        )
        if r.status_code != 201:
            raise RuntimeError(f"subscription: HTTP {r.status_code} {r.text[:300]}")
        if on_subscribed is not None:
            on_subscribed(r.json())
        st.upload_org_units()
        for kind in NOTIFY_KINDS:
            st.upload(kind)
        fault()
        st.wait_projected(lambda: st.url("indicators"))
        records = asyncio.run(read_log([st.prefix + t for t in DOMAIN_TOPICS]))
        expected = {headers(r)["ce_id"] for r in records}
        try:
            st.wait(
                lambda: len(expected & set(receiver.acked)),
                len(expected),
                "deliveries",
                service="notify",
            )
        except TimeoutError as exc:
            st.note(str(exc))
        lost = len(expected - set(receiver.acked))
        st.note(
            f"{len(expected)} events, {receiver.attempts} acknowledged attempts, "
            f"{len(set(receiver.acked) - expected)} ids not on the log"
        )
        resent = self._resent_unrecorded(st, receiver)
        if resent:
            st.note(
                f"{resent} webhook(s) sent again after a kill -9 that came between the "
                "receiver's 2xx and notify recording it (at-least-once; not a duplicate)"
            )
        return {
            **st.extra,
            "events": len(expected),
            "lost": lost,
            "duplicated": receiver.duplicated() - resent,
            "resent_unrecorded": resent,
            "equal_to_clean": lost == 0,
        }

    def _resent_unrecorded(self, st: Stage, receiver: Receiver) -> int:
        """Second 2xx of a webhook whose first 2xx notify never recorded (it was killed
        before the write): at-least-once delivery, inherent to any sender that can die.
        A second 2xx of a delivery notify had recorded as delivered stays a duplicate."""
        twice = {i: n for i, n in receiver.acked.items() if n > 1}
        if not twice:
            return 0
        client, db = st.db()
        try:
            resent = 0
            for doc in db["deliveries"].find({"event_id": {"$in": list(twice)}}):
                recorded = sum(
                    1 for a in doc.get("log", []) if 200 <= (a.get("status_code") or 0) < 300
                )
                resent += max(0, min(twice[doc["event_id"]] - 1, twice[doc["event_id"]] - recorded))
            return resent
        finally:
            client.close()

    def kill_9_notify(self, st: Stage) -> dict[str, Any]:
        receiver = Receiver(free_port())
        receiver.up()

        def fault() -> None:
            wait_until(lambda: len(receiver.acked) >= 5, 300, "first deliveries")
            st.note(f"notify killed after {len(receiver.acked)} deliveries")
            st.procs.kill("notify")
            st.procs.start("notify")

        try:
            return self._notify(st, receiver, fault)
        finally:
            receiver.down()

    def webhook_receiver_outage(self, st: Stage) -> dict[str, Any]:
        receiver = Receiver(free_port())  # down: nothing listens on the port yet

        def fault() -> None:
            wait_until(
                lambda: applied(st.url("indicators"), st.auth) > st.files.facts["org-units"],
                300,
                "derived events",
            )
            time.sleep(15)
            st.note("receiver down 15 s after the first derived events; up now")
            receiver.up()

        try:
            return self._notify(st, receiver, fault)
        finally:
            receiver.down()


SCENARIOS: dict[
    str, tuple[Callable[[Faults, Stage], dict[str, Any]], tuple[str, ...], dict[str, str]]
] = {
    "kill-9-ingest": (Faults.kill_9_ingest, ("ingest", "indicators"), {}),
    "kill-9-indicators": (Faults.kill_9_indicators, ("ingest", "indicators"), {}),
    "kill-9-plans": (Faults.kill_9_plans, ("ingest", "indicators", "plans"), {}),
    "kill-9-notify": (Faults.kill_9_notify, ("ingest", "indicators", "notify"), NOTIFY_ENV),
    "kafka-restart-during-ingest": (
        Faults.kafka_restart_during_ingest,
        ("ingest", "indicators"),
        {},
    ),
    "db-restart-during-projection": (
        Faults.db_restart_during_projection,
        ("ingest", "indicators"),
        {},
    ),
    "poison-messages": (Faults.poison_messages, ("ingest", "indicators"), {}),
    "duplicate-upload": (Faults.duplicate_upload, ("ingest", "indicators"), {}),
    "webhook-receiver-outage": (
        Faults.webhook_receiver_outage,
        ("ingest", "indicators", "notify"),
        NOTIFY_ENV,
    ),
    "sse-resume": (sse_resume, ("ingest", "indicators", "notify"), {**NOTIFY_ENV, **SSE_ENV}),
    "webhook-secret-rotation": (
        webhook_secret_rotation,
        ("ingest", "indicators", "notify"),
        NOTIFY_ENV,
    ),
}
SCENARIOS.update(__import__("bench.faults_ingest", fromlist=["S"]).SCENARIOS)  # ingest's own
# `--ci` (`.ci/run`): a few minutes, the faults every change could break.
CI_SUBSET = ("kill-9-indicators", "kill-9-notify", "poison-messages", "duplicate-upload")


def run_one(faults: Faults, name: str) -> dict[str, Any]:
    fn, services, env = SCENARIOS[name]
    st = faults.stage(name, services, **env)
    log(f"scenario {name} (topics {st.prefix}*, database {st.procs.env['SHKALA_MONGO_DATABASE']})")
    start = time.monotonic()
    row: dict[str, Any] = {"name": name, "events": 0, "lost": None, "duplicated": None}
    try:
        row.update(fn(faults, st))
    except Exception as exc:
        row["failed"] = f"{type(exc).__name__}: {exc}"
        log(f"  FAILED: {row['failed']}")
        traceback.print_exc()
    finally:
        st.stop()
    row["seconds"] = round(time.monotonic() - start, 1)
    row["prefix"] = st.prefix
    row["notes"] = st.notes
    row["logs"] = str(st.work / name)
    log(f"  {name}: {json.dumps({k: v for k, v in row.items() if k not in ('notes', 'logs')})}")
    return row


def consumer_groups_per_deployment(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every scenario was a deployment of its own on one broker: each consumer group the
    broker knows must carry exactly one deployment's topic prefix (none is shared)."""
    start = time.monotonic()

    async def groups() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=ServiceSettings().kafka_bootstrap_servers)
        await admin.start()
        try:
            return sorted(g[0] for g in await admin.list_consumer_groups())
        finally:
            await admin.close()

    prefixes = [r["prefix"] for r in rows if r.get("prefix")]
    found = asyncio.run(groups())
    # A group of a deployment without its prefix ("shkala-…") would be shared by every
    # deployment on the broker; one matching two prefixes would be too. Groups of anything
    # else on a reused broker (tests' own) are not the deployments' and are left out.
    shared = [
        g
        for g in found
        if (g.startswith("shkala-") and not any(g.startswith(p) for p in prefixes))
        or sum(g.startswith(p) for p in prefixes) > 1
    ]
    without = [p for p in prefixes if not any(g.startswith(p) for g in found)]
    mine = [g for g in found if any(g.startswith(p) for p in prefixes)]
    notes = [f"{len(mine)} groups of {len(prefixes)} deployments on one broker"]
    notes += [f"shared (no deployment's prefix): {g}" for g in shared]
    notes += [f"no group with prefix {p}" for p in without]
    log(f"  consumer groups: {notes}")
    return {
        "name": "consumer-group-per-deployment",
        "events": len(mine),
        "lost": len(without),
        "duplicated": len(shared),
        "equal_to_clean": not shared and not without and len(prefixes) > 1,
        "seconds": round(time.monotonic() - start, 1),
        "notes": notes,
    }


def ok(row: dict[str, Any]) -> bool:
    return (
        "failed" not in row
        and row["lost"] == 0
        and row["duplicated"] == 0
        and row.get("equal_to_clean", True)
        and "unblocked_by" not in row
    )


def write(rows: list[dict[str, Any]], total_s: float, kind: str = "faults") -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    path = RESULTS / f"{kind}-{now:%Y-%m-%d}.json"
    doc = {"measured_at": now.isoformat(timespec="seconds"), "seconds": round(total_s, 1)}
    path.write_text(json.dumps({**doc, "scenarios": rows}, ensure_ascii=False, indent=2) + "\n")
    lines = [
        "| scenario | events | lost | duplicated | equal to clean | seconds | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        result = "ok" if ok(r) else ("FAILED: " + r["failed"][:80] if "failed" in r else "FAIL")
        if r.get("unblocked_by"):
            result += f" (stuck until {r['unblocked_by']})"
        lines.append(
            f"| {r['name']} | {r['events']} | {r['lost']} | {r['duplicated']} "
            f"| {r.get('equal_to_clean', '')} | {r['seconds']} | {result} |"
        )
    passed = sum(1 for r in rows if ok(r))
    print("\n".join(lines) + f"\n\n{path.relative_to(ROOT)}, {total_s:.0f} s in all")
    print(f"{passed} passed, {len(rows) - passed} failed", flush=True)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--only", nargs="+", choices=list(SCENARIOS), help="run these scenarios")
    ap.add_argument(
        "--ci", action="store_true", help=f"the short subset .ci/run runs: {', '.join(CI_SUBSET)}"
    )
    ap.add_argument("--keep-infra", action="store_true", help="leave the private infra up")
    args = ap.parse_args()
    names = args.only or (list(CI_SUBSET) if args.ci else list(SCENARIOS))
    start = time.monotonic()
    infra = PrivateInfra()
    work = Path(tempfile.mkdtemp(prefix="shkala-faults-"))
    rows: list[dict[str, Any]] = []
    try:
        log(f"private Kafka :{infra.kafka_port} + FerretDB :{infra.ferretdb_port}, logs in {work}")
        infra.up()
        faults = Faults(work, infra)
        for name in names:
            rows.append(run_one(faults, name))
        if len(rows) > 1:
            rows.append(consumer_groups_per_deployment(rows))
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        if not args.keep_infra:
            infra.down()
    write(rows, time.monotonic() - start, "faults-ci" if args.ci else "faults")
    if all(ok(r) for r in rows):
        shutil.rmtree(work, ignore_errors=True)
    ran = {r["name"] for r in rows}
    return 0 if rows and ran >= set(names) and all(ok(r) for r in rows) else 1


if __name__ == "__main__":
    threading.current_thread().name = "faults"
    raise SystemExit(main())
