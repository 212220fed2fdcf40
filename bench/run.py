"""`make bench`: throughput, freshness, read latency, rebuild and memory, each beside the raw
limit of this machine measured in the same run.

    uv run python -m bench.run [--rows 1000000] [--schools 420] [--quick]

Runs the four services as processes on the real local Kafka and FerretDB, with topics and a
database of their own, and writes bench/results/latest.json, a dated copy, and latest.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import limits
from services.ingest.bench.ingest_bench import org_csv, vpr_csv  # the same generator
from shkala_contracts import Tenant
from shkala_contracts.events.assessment import AssessmentResultRecorded
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.kafka import EventPublisher, Outgoing
from shkala_runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support.processes import ServiceProcesses  # noqa: E402 - shared with the e2e tests

RESULTS = ROOT / "bench/results"
TOPIC = AssessmentResultRecorded.topic
REGION = "bench"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="shkala-bench-"))
        self.procs = ServiceProcesses(
            self.work,
            separate_databases=True,  # a database per service, as a deployment would
            env={
                "SHKALA_KAFKA_TOPIC_PARTITIONS": str(args.partitions),
                "SHKALA_REGION_ID": REGION,
                "SHKALA_LOG_LEVEL": args.log_level,
                "SHKALA_MAX_UPLOAD_BYTES": str(512 * 1024 * 1024),
            },
        )
        self.settings = ServiceSettings(
            service_name="bench",
            region_id=REGION,
            kafka_topic_prefix=self.procs.env["SHKALA_KAFKA_TOPIC_PREFIX"],
            mongo_database=self.procs.env["SHKALA_MONGO_DATABASE"] + "_indicators",
        )
        token = issue_token(self.settings, Role.REGION, region=REGION)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.results: dict[str, Any] = {}
        self._applied = 0

    def upload(self, kind: str, body: bytes, name: str) -> dict[str, Any]:
        r = httpx.post(
            self.procs.url("ingest") + f"/imports/{kind}",
            headers={**self.auth, "Prefer": "respond-async"},
            files={"file": (name, body, "text/csv")},
            timeout=600,
        )
        r.raise_for_status()
        return r.json()

    def import_state(self, import_id: str) -> dict[str, Any]:
        r = httpx.get(
            self.procs.url("ingest") + f"/imports/{import_id}", headers=self.auth, timeout=30
        )
        r.raise_for_status()
        state = r.json()
        if state["status"] in ("rejected", "failed"):
            raise RuntimeError(f"import {import_id} {state['status']}: {state.get('problem')}")
        return state

    def applied(self) -> int:
        """Events of the assessment topic the indicators projection has applied."""
        try:
            r = httpx.get(
                self.procs.url("indicators") + "/catalogue", headers=self.auth, timeout=60
            )
        except httpx.HTTPError as exc:  # a busy service answers late: count it, keep going
            self.results["api_timeouts"] = self.results.get("api_timeouts", 0) + 1
            log(f"  indicators did not answer: {type(exc).__name__}")
            return self._applied
        if r.status_code != 200:
            return self._applied
        positions = r.json().get("freshness", {}).get("positions", {})
        prefix = self.settings.topic_name(TOPIC).replace(".", "_") + "|"
        self._applied = sum(int(v) + 1 for k, v in positions.items() if k.startswith(prefix))
        return self._applied

    async def probe_freshness(self, stop: asyncio.Event, samples: list[float]) -> None:
        """Ack of a probe fact → the projection's freshness shows its offset."""
        publisher = EventPublisher(self.settings)
        await publisher.start()
        tenant = Tenant(region=REGION, municipality="mo-0", school="s0000")
        i = 0
        async with httpx.AsyncClient(headers=self.auth, timeout=30) as client:
            try:
                while not stop.is_set():
                    i += 1
                    fact = AssessmentResultRecorded(
                        school_id="s0000",
                        academic_year="2025/26",
                        procedure="ВПР",
                        subject="математика",
                        grade=5,
                        student=f"p{i:024x}",
                        mark=2 + i % 4,
                    )
                    [ack] = await publisher.publish(
                        [Outgoing.of(fact, source="/bench", tenant=tenant)]
                    )
                    acked = time.perf_counter()
                    # read-your-writes: the answer comes once the fact is applied and its
                    # derived events are in the answering instance's read table
                    after = f"{self.settings.topic_name(TOPIC)}:{ack.partition}:{ack.offset}"
                    while not stop.is_set():
                        try:
                            r = await client.get(
                                self.procs.url("indicators") + "/catalogue",
                                params={"after": after, "wait_ms": 10000},
                                timeout=60,
                            )
                        except httpx.HTTPError:
                            continue  # the sample still runs from the ack to visibility
                        if (r.json().get("freshness", {}).get("after") or {}).get("satisfied"):
                            samples.append((time.perf_counter() - acked) * 1000)
                            break
                    await asyncio.sleep(0.5)
            finally:
                await publisher.stop()

    async def burst(self) -> None:
        a = self.args
        log(f"registering {a.schools} schools")
        org = self.upload("org-units", org_csv(a.schools, REGION), "org.csv")
        while (await asyncio.to_thread(self.import_state, org["import_id"]))[
            "status"
        ] != "completed":
            await asyncio.sleep(0.5)
        log(f"generating a {a.rows:,}-row ВПР file")
        body = vpr_csv(a.rows, a.schools)
        log(f"uploading {len(body) / 1e6:.0f} MB to ingest")
        stop, samples = asyncio.Event(), []
        prober = asyncio.create_task(self.probe_freshness(stop, samples))
        start = time.perf_counter()
        answer = await asyncio.to_thread(self.upload, "vpr", body, "vpr.csv")
        while (state := await asyncio.to_thread(self.import_state, answer["import_id"]))[
            "status"
        ] != "completed":
            await asyncio.sleep(1)
            log(f"  ingest {state['progress']}")
        ingest_s = time.perf_counter() - start
        self.results["ingest_rows_per_s"] = round(a.rows / ingest_s)
        if producer := self.results.get("kafka_producer_perf_records_per_s"):
            # issue 13's goal: ≥ 50,000 rows/s or ≥ 0.6 of the broker's own rate
            self.results["ingest_ratio_to_producer_perf"] = round(a.rows / ingest_s / producer, 3)
        log(f"ingest: {a.rows:,} rows in {ingest_s:.1f}s")
        total = a.rows + len(samples) + 1
        first_seen = None
        while (done := await asyncio.to_thread(self.applied)) < a.rows:
            first_seen = first_seen or (time.perf_counter() if done else None)
            log(f"  projection applied {done:,} / {a.rows:,}")
            if time.perf_counter() - start > a.projection_timeout:
                log("projection timeout: reporting the rate reached so far")
                break
            await asyncio.sleep(2)
        stop.set()
        await prober
        proj_s = time.perf_counter() - start
        done = await asyncio.to_thread(self.applied)
        # live: from the upload's start, so capped by ingest; the projection's own rate is
        # measured on a backlog (see backlog())
        self.results["projection_live_events_per_s"] = round(done / proj_s)
        self.results["projection_live_events_applied"] = done
        self.results["freshness_p50_ms"] = pct(samples, 0.50)
        self.results["freshness_p95_ms"] = pct(samples, 0.95)
        self.results["freshness_samples"] = len(samples)
        log(f"projection: {done:,} of ~{total:,} events in {proj_s:.1f}s since upload start")

    async def reads(self) -> None:
        """School card and municipality table under concurrent load."""
        base = self.procs.url("indicators")
        latencies: list[float] = []
        by_kind: dict[str, list[float]] = {"card": [], "table": []}
        failures: list[str] = []
        deadline = time.perf_counter() + self.args.read_seconds

        async def worker(n: int, client: httpx.AsyncClient) -> None:
            i = n
            while time.perf_counter() < deadline:
                i += 1
                url = (
                    f"{base}/schools/s{i % self.args.schools:04d}"
                    if i % 2
                    else f"{base}/municipalities/mo-{i % 10}/table"
                )
                t = time.perf_counter()
                try:
                    r = await client.get(url, params=None if i % 2 else {"period": "2025/26"})
                    r.raise_for_status()
                except httpx.HTTPError:
                    failures.append(url)
                    continue
                ms = (time.perf_counter() - t) * 1000
                latencies.append(ms)
                by_kind["card" if i % 2 else "table"].append(ms)

        async with httpx.AsyncClient(headers=self.auth, timeout=30) as client:
            await asyncio.gather(*(worker(n, client) for n in range(self.args.concurrency)))
        self.results["read_p50_ms"] = pct(by_kind["card"], 0.50)
        self.results["read_p99_ms"] = pct(by_kind["card"], 0.99)  # the school card
        self.results["read_table_p50_ms"] = pct(by_kind["table"], 0.50)
        self.results["read_table_p99_ms"] = pct(by_kind["table"], 0.99)
        self.results["read_requests"] = len(latencies)
        self.results["read_failures"] = len(failures)
        self.results["read_concurrency"] = self.args.concurrency

    def backlog(self) -> None:
        """The projection's own rate: a second indicators process, with a fresh database and
        consumer group, drains the whole log through the live consumer path."""
        clean = ServiceProcesses(
            self.work / "backlog",
            services=("indicators",),
            run_id=self.procs.run_id,
            env={
                **self.procs.env,
                "SHKALA_SERVICE_NAME": "indicators-backlog",
                "SHKALA_MONGO_DATABASE": self.procs.env["SHKALA_MONGO_DATABASE"] + "_backlog",
            },
        )
        clean.start()
        start = time.perf_counter()  # from ready: the drain, not the process start
        try:
            url, self.procs.ports["indicators"] = (
                self.procs.ports["indicators"],
                clean.ports["indicators"],
            )
            try:
                done = 0
                while (done := self.applied()) < self.args.rows:
                    if time.perf_counter() - start > self.args.projection_timeout:
                        log("backlog timeout: reporting the rate reached so far")
                        break
                    log(f"  backlog applied {done:,} / {self.args.rows:,}")
                    time.sleep(2)
            finally:
                self.procs.ports["indicators"] = url
            seconds = time.perf_counter() - start
            self.results["projection_events_per_s"] = round(done / seconds)
            self.results["projection_events_applied"] = done
            self.results["projection_backlog_seconds"] = round(seconds, 1)
            self.results.setdefault("peak_rss_mib", {})["indicators_backlog"] = clean.peak_rss_mib(
                "indicators"
            )
        finally:
            clean.stop()

    def rebuild(self) -> None:
        env = {**os.environ, **self.procs.env}
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "shkala_indicators", "rebuild"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=self.args.rebuild_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self.results["rebuild_events_per_s"] = None
            self.results["rebuild_report"] = f"not finished within {self.args.rebuild_timeout}s"
            return
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            self.results["rebuild_report"] = f"failed: {proc.stderr[-500:]}"
            return
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        events = int(report.get("applied") or 0)
        self.results["rebuild_events_per_s"] = round(events / seconds) if events else None
        self.results["rebuild_report"] = report

    def run(self) -> dict[str, Any]:
        a = self.args
        log("raw limits: Kafka ProducerPerformance / ConsumerPerformance, database bulk write")
        self.results.update(limits.measure(a.limit_records, a.limit_docs, limits.MONGO_URL))
        log(f"  {self.results}")
        log("starting the four services")
        self.procs.start()
        try:
            asyncio.run(self.burst())
            log(f"  {self.results}")
            log("read latency under load")
            asyncio.run(self.reads())
            log(f"  {self.results}")
            self.results["peak_rss_mib"] = {
                n: self.procs.peak_rss_mib(n) for n in self.procs.services
            }
        finally:
            self.procs.stop()
        log("the projection on a backlog: a fresh instance drains the log")
        self.backlog()
        log("rebuild from the log")
        self.rebuild()
        log("web pages for the demo region (bench/web_pages.py)")
        from bench import web_pages

        self.results.update(web_pages.measure(a.web_seconds, a.web_size))
        return self.results


def write(results: dict[str, Any], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    doc = {
        "measured_at": now.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "parameters": vars(args),
        **results,
    }
    text = json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n"
    (RESULTS / "latest.json").write_text(text)
    (RESULTS / f"bench-{now:%Y-%m-%dT%H%M}.json").write_text(text)
    pairs = [
        ("ingest_rows_per_s", "kafka_producer_perf_records_per_s"),
        ("ingest_ratio_to_producer_perf", None),
        ("projection_events_per_s", "db_bulk_write_docs_per_s"),
        ("projection_events_per_s", "kafka_consumer_perf_records_per_s"),
        ("projection_live_events_per_s", "ingest_rows_per_s"),
        ("rebuild_events_per_s", "kafka_consumer_perf_records_per_s"),
        ("freshness_p50_ms", None),
        ("freshness_p95_ms", None),
        ("read_p50_ms", None),
        ("read_p99_ms", None),
        ("read_table_p50_ms", None),
        ("read_table_p99_ms", None),
        ("web_page_p95_ms", "web_upstream_roadmap_p95_ms"),
    ]
    lines = ["| figure | value | raw limit in the same run |", "|---|---|---|"]
    for name, limit in pairs:
        lim = f"{limit} = {results.get(limit)}" if limit else ""
        lines.append(f"| {name} | {results.get(name)} | {lim} |")
    for svc, mib in results.get("peak_rss_mib", {}).items():
        lines.append(f"| peak RSS {svc} (MiB) | {mib} | |")
    md = "\n".join(lines) + "\n"
    (RESULTS / "latest.md").write_text(md)
    print(md)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--schools", type=int, default=420)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--read-seconds", type=float, default=20)
    ap.add_argument("--limit-records", type=int, default=1_000_000)
    ap.add_argument("--limit-docs", type=int, default=100_000)
    ap.add_argument("--projection-timeout", type=float, default=1800)
    ap.add_argument("--rebuild-timeout", type=float, default=1800)
    ap.add_argument("--log-level", default="WARNING", help="of the services (logs: see stdout)")
    ap.add_argument("--web-seconds", type=float, default=10, help="per page, bench/web_pages.py")
    ap.add_argument(
        "--web-size", default="default", choices=("default", "tiny"), help="demo region (web)"
    )
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the harness")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.limit_records, args.limit_docs, args.read_seconds = 20_000, 100_000, 5000, 5
        args.projection_timeout = args.rebuild_timeout = 180
        args.web_seconds, args.web_size = 3, "tiny"
    write(Bench(args).run(), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
