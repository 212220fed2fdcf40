"""One fault scenario's world: the services it needs as processes (own topic prefix and
database), an upload client that behaves like a real user, and the verification every
scenario ends with (see bench/faults.py for what is checked and why).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from bench.fault_checks import compare_projections, fact_census
from shkala_contracts.topics import FACT_TOPICS
from shkala_demo.region import Region
from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
# Shared with the e2e tests; re-exported for bench/faults.py.
from support.processes import ServiceProcesses, free_port, wait_until  # noqa: E402, F401
from support.projections import applied, log_end, read_log, snapshot  # noqa: E402

# Which fact topic each upload kind publishes to.
KIND_TOPIC = {
    "org-units": "shkala.org_units.v1",
    "vpr": "shkala.facts.assessment.v1",
    "gia": "shkala.facts.assessment.v1",
    "school-context": "shkala.facts.school_context.v1",
    "staffing-positions": "shkala.facts.staffing.v1",
}
TERMINAL = ("completed", "rejected", "failed")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_for(
    progress: Callable[[], int],
    target: int | Callable[[], int],
    within: float,
    what: str,
    stall: float | None = None,
) -> int:
    """Poll ``progress()`` until it reaches ``target``, printing it every few seconds; give up
    after ``within`` seconds, or after ``stall`` seconds without progress."""
    start = last = moved = time.monotonic()
    seen = None
    while True:
        goal = target() if callable(target) else target
        done = progress()
        if done >= goal:
            return done
        now = time.monotonic()
        if done != seen:
            seen, moved = done, now
        if now - start > within or (stall is not None and now - moved > stall):
            raise TimeoutError(f"{what}: {done} of {goal} after {now - start:.0f}s")
        if now - last > 10:
            log(f"    {what}: {done} / {goal}")
            last = now
        time.sleep(0.5)


@dataclass
class Files:
    region: Region
    paths: dict[str, Path]
    rows: dict[str, int]
    facts: dict[str, int]
    """Distinct facts each kind's rows become (measured once per run on a clean import)."""


@dataclass
class Stage:
    name: str
    work: Path
    files: Files
    services: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    restart_db: Callable[[], float] | None = None
    """Restarts the database (the private FerretDB): how a stuck one is unblocked."""
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    stalled: list[str] = field(default_factory=list)
    """Imports the client gave up on (no progress): their final status is noted."""
    acknowledged: dict[str, int] = field(default_factory=dict)
    """Rows per kind of the imports ingest answered `completed`."""

    def __post_init__(self) -> None:
        self.procs = ServiceProcesses(
            self.work / self.name,
            services=self.services,
            env={
                "SHKALA_REGION_ID": self.files.region.id,
                "SHKALA_INDICATORS_BATCH_SIZE": "100",
                "SHKALA_PUBLISH_CHUNK_ROWS": "100",
                "SHKALA_LOG_LEVEL": "WARNING",
                **self.env,
            },
        )
        self.prefix = self.procs.env["SHKALA_KAFKA_TOPIC_PREFIX"]
        token = issue_token(ServiceSettings(), Role.REGION, region=self.files.region.id)
        self.auth = {"Authorization": f"Bearer {token}"}
        self._clean: ServiceProcesses | None = None

    def note(self, text: str) -> None:
        log(f"  {text}")
        self.notes.append(text)

    def url(self, service: str) -> str:
        return self.procs.url(service)

    def db(self) -> Any:
        client: MongoClient[dict[str, Any]] = MongoClient(
            ServiceSettings().mongo_url, serverSelectionTimeoutMS=5000
        )
        return client, client[self.procs.env["SHKALA_MONGO_DATABASE"]]

    def stop(self) -> None:
        self.procs.stop()
        if self._clean is not None:
            self._clean.stop()

    # ------------------------------------------------------------------ uploads

    def body(self, kind: str) -> bytes:
        return self.files.paths[kind].read_bytes()

    def post(
        self, kind: str, body: bytes, key: str | None = None, timeout: float = 60
    ) -> httpx.Response:
        headers = {**self.auth, "Prefer": "respond-async"}
        if key:
            headers["Idempotency-Key"] = key
        return httpx.post(
            self.url("ingest") + f"/imports/{kind}",
            headers=headers,
            files={"file": (f"{kind}.csv", body, "text/csv")},
            timeout=timeout,
        )

    def poll(self, state: dict[str, Any], stall_s: float) -> dict[str, Any] | None:
        """The import's final state, or None when it made no progress for ``stall_s``."""
        last, since = None, time.monotonic()
        while state.get("status") not in TERMINAL:
            time.sleep(0.2)
            try:
                r = httpx.get(
                    self.url("ingest") + f"/imports/{state['import_id']}",
                    headers=self.auth,
                    timeout=10,
                )
                if r.status_code == 200:
                    state = r.json()
            except httpx.HTTPError:
                pass
            if state.get("progress") != last:
                last, since = state.get("progress"), time.monotonic()
            elif time.monotonic() - since > stall_s:
                return None
        return state

    def upload(
        self,
        kind: str,
        *,
        body: bytes | None = None,
        key: str | None = None,
        on_accepted: Callable[[dict[str, Any]], None] | None = None,
        stall_s: float = 20,
        attempts: int = 8,
    ) -> dict[str, Any]:
        """What a user does: send, follow the import, send again on an error or a stall.

        A stalled import (its process died) keeps the content's idempotency claim, so the
        same bytes would only return it again: the user changes a byte (a trailing newline)
        and sends under a new key (services/ingest/README.md, Known limits).
        """
        body = body if body is not None else self.body(kind)
        for attempt in range(1, attempts + 1):
            try:
                r = self.post(kind, body, key)
            except httpx.HTTPError as exc:
                self.note(f"{kind} attempt {attempt}: {type(exc).__name__}, will retry")
                time.sleep(2)
                continue
            if r.status_code >= 500 or r.status_code == 429:
                self.note(f"{kind} attempt {attempt}: HTTP {r.status_code}, will retry")
                time.sleep(2)
                continue
            if r.status_code not in (200, 201, 202):
                raise RuntimeError(f"{kind}: HTTP {r.status_code} {r.text[:500]}")
            state = r.json()
            if r.headers.get("Idempotent-Replayed") == "true":
                state["replayed"] = True
            if on_accepted is not None:
                on_accepted(state)
                on_accepted = None
            final = self.poll(state, stall_s)
            if final is not None and final["status"] == "completed":
                self.acknowledged[kind] = self.files.rows[kind]
                final["replayed"] = state.get("replayed", False)
                return final
            why = "stalled" if final is None else f"{final['status']}: {final.get('problem')}"
            self.note(f"{kind} attempt {attempt}: import {state['import_id']} {why}; re-sending")
            if final is None:
                self.stalled.append(state["import_id"])
                body, key = body + b"\r\n", uuid.uuid4().hex
            time.sleep(1)
        raise RuntimeError(f"{kind}: not imported after {attempts} attempts")

    def upload_org_units(self) -> None:
        """Org units first, projected before any fact (the known ordering gap)."""
        self.upload("org-units")
        if "indicators" in self.services:
            n = self.files.facts["org-units"]
            wait_for(lambda: applied(self.url("indicators"), self.auth), n, 120, "org units")

    # ------------------------------------------------------------------ verification

    def log_total(self) -> int:
        return asyncio.run(log_end(self.prefix))

    def db_responsive(self) -> bool:
        """A read of this scenario's database answers within 10 s."""
        client: MongoClient[dict[str, Any]] = MongoClient(
            ServiceSettings().mongo_url, serverSelectionTimeoutMS=5000, socketTimeoutMS=10000
        )
        try:
            db = client[self.procs.env["SHKALA_MONGO_DATABASE"]]
            for name in db.list_collection_names():
                db[name].find_one({})
            return True
        except Exception as exc:
            self.note(f"database read failed: {type(exc).__name__}: {str(exc)[:120]}")
            return False
        finally:
            client.close()

    def wait(
        self,
        progress: Callable[[], int],
        target: int | Callable[[], int],
        what: str,
        within: float = 600,
        stall: float = 60,
        service: str | None = None,
    ) -> int:
        """``wait_for``; when progress stalls, unblock once as an operator would and wait
        again: restart the database if it does not answer (FerretDB 1.24 can hang on a
        database whose client was killed mid-write), else restart ``service``. Either is
        recorded in ``unblocked_by`` and fails the scenario: the system did not heal itself.
        """
        try:
            return wait_for(progress, target, within, what, stall=stall)
        except TimeoutError as exc:
            if "unblocked_by" in self.extra:
                raise
            if self.restart_db is not None and not self.db_responsive():
                self.note(f"{exc}; the database does not answer: restarting FerretDB")
                self.extra["unblocked_by"] = "FerretDB restart"
                self.note(f"ferretdb restart took {self.restart_db():.1f}s")
            elif service is not None and service in self.procs.procs:
                self.note(f"{exc}; {service} is stuck: restarting it (see its log)")
                self.extra["unblocked_by"] = f"{service} restart"
                self.procs.stop(service)
                self.procs.start(service)
            else:
                raise
            return wait_for(progress, target, within, what, stall=stall * 2)

    def wait_projected(self, url: Callable[[], str], within: float = 600) -> int:
        return self.wait(
            lambda: applied(url(), self.auth),
            self.log_total,
            f"{self.name} projection",
            within,
            service="indicators" if url() == self.url("indicators") else None,
        )

    def start_clean(self) -> None:
        """A clean recomputation from the log: ``shkala_indicators rebuild`` (org units first,
        then the facts) into a database of its own, then an indicators process serving it.

        Not a second consumer from offset 0: over topics that are already full, its first
        batches hold facts of schools whose registration it has not read yet and dead-letter
        them (the ordering gap in services/indicators/README.md).
        """
        env = {
            **{k: v for k, v in self.procs.env.items() if k.startswith("SHKALA_")},
            "SHKALA_SERVICE_NAME": "indicators-clean",
            "SHKALA_MONGO_DATABASE": self.procs.env["SHKALA_MONGO_DATABASE"] + "_clean",
        }
        proc = subprocess.run(
            [sys.executable, "-m", "shkala_indicators", "rebuild"],
            env={**os.environ, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"clean rebuild failed: {proc.stderr[-1000:]}")
        self.note(f"clean rebuild: {proc.stdout.strip().splitlines()[-1][:200]}")
        self._clean = ServiceProcesses(
            self.work / f"{self.name}-clean",
            services=("indicators",),
            run_id=self.procs.run_id,
            env=env,
        )
        self._clean.start()

    def verify_indicators(self) -> dict[str, Any]:
        """Log census + the projection equal to a clean one; lost/duplicated counts."""
        total = self.wait_projected(lambda: self.url("indicators"))
        if self._clean is None:
            self.start_clean()
        assert self._clean is not None
        clean = self._clean
        self.wait(lambda: applied(clean.url("indicators"), self.auth), total, "clean projection")
        schools = sorted(s.id for s in self.files.region.schools)
        tested = snapshot(self.url("indicators"), self.auth, schools)
        reference = snapshot(clean.url("indicators"), self.auth, schools)
        if not any(v for s in schools for v in tested[s]["values"]):
            raise RuntimeError("no indicator values projected at all")
        cmp = compare_projections(tested, reference)
        for d in cmp.differences:
            self.note(f"differs from clean: {d}")

        for iid in self.stalled:
            try:
                r = httpx.get(self.url("ingest") + f"/imports/{iid}", headers=self.auth, timeout=10)
                self.note(f"given-up import {iid} is now {r.json().get('status')}")
            except (httpx.HTTPError, ValueError) as exc:
                self.note(f"given-up import {iid}: {type(exc).__name__}")
        records = asyncio.run(read_log([self.prefix + t.name for t in FACT_TOPICS]))
        census = fact_census(records, self.prefix)
        expected: dict[str, int] = {}
        for kind, _rows in self.acknowledged.items():
            topic = KIND_TOPIC[kind]
            expected[topic] = expected.get(topic, 0) + self.files.facts[kind]
        lost_log = sum(max(0, n - census.distinct.get(t, 0)) for t, n in expected.items())
        dup_log = sum(
            max(0, census.distinct.get(t, 0) - expected.get(t, 0)) for t in census.distinct
        )
        if census.corrections:
            self.note(f"{census.corrections} facts got a second version (spurious corrections)")
        self.note(
            f"log: {census.messages} messages, {sum(census.distinct.values())} distinct facts "
            f"(expected {sum(expected.values())}), {census.poison} poison"
        )
        return {
            **self.extra,
            "events": sum(self.acknowledged.values()),
            "lost": lost_log + cmp.lost,
            "duplicated": dup_log + cmp.duplicated + census.corrections,
            "equal_to_clean": cmp.equal,
            "log_messages": census.messages,
            "distinct_facts": sum(census.distinct.values()),
        }


def in_thread(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``fn`` in a thread now; the returned function joins it and returns/raises."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()

    def join() -> Any:
        t.join()
        if "error" in box:
            raise box["error"]
        return box.get("value")

    return join
