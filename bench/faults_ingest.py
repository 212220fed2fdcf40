"""Ingest's own `make faults` scenarios: a 200,000-row ВПР import is atomic on the log.

    uv run python -m bench.faults_ingest [--only NAME ...]   # alone, on ports of its own

| scenario | fault |
|---|---|
| kill-9-ingest-200k | SIGKILL of ingest in the middle of a 200,000-row import; restart |
| kafka-restart-200k | the broker stops in the middle of a 200,000-row import, starts 8 s later |

Each checks, with a ``read_committed`` consumer of the assessment topic: right after the
fault the log holds **all or none** of the import's facts; the import ends ``completed`` or
``failed`` (never ``processing``); the same file, sent again unchanged, then lands so that
every row is on the log **exactly once** (``lost`` = rows missing, ``duplicated`` = records
beyond one per row). Registered into bench/faults.py's SCENARIOS (one line there).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from bench.fault_world import Stage, in_thread, log
from services.ingest.bench import ingest_bench
from shkala_runtime.settings import ServiceSettings

ROWS = 200_000
SCHOOLS = 100
ASSESSMENT = "shkala.facts.assessment.v1"


async def _committed(prefix: str) -> tuple[int, int]:
    """(records, distinct originators) a read_committed consumer sees on the topic."""
    topic = prefix + ASSESSMENT
    consumer = AIOKafkaConsumer(
        bootstrap_servers=ServiceSettings().kafka_bootstrap_servers,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not parts:
            return 0, 0
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        n, oids = 0, set()
        while [tp for tp in parts if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(*parts, timeout_ms=2000, max_records=50_000)
            for records in batch.values():
                for r in records:
                    n += 1
                    oids.add(dict(r.headers).get("ce_originatorid"))
        return n, len(oids)
    finally:
        await consumer.stop()


def committed(st: Stage) -> tuple[int, int]:
    return asyncio.run(_committed(st.prefix))


def _import(st: Stage, kind: str, body: bytes) -> dict[str, Any]:
    r = st.post(kind, body, timeout=300)
    if r.status_code != 202:
        raise RuntimeError(f"{kind}: HTTP {r.status_code} {r.text[:300]}")
    return r.json()  # type: ignore[no-any-return]


def _final(st: Stage, state: dict[str, Any], within: float = 300) -> dict[str, Any]:
    final = st.poll(state, within)
    if final is None:
        raise RuntimeError(f"import {state['import_id']} stayed processing")
    return final


def _midway(st: Stage, state: dict[str, Any]) -> dict[str, Any]:
    """Waits until the import is sending (some rows acknowledged inside its transaction)."""
    url = st.url("ingest") + f"/imports/{state['import_id']}"
    deadline = time.monotonic() + 120
    progress: dict[str, Any] = {}
    while time.monotonic() < deadline:
        progress = httpx.get(url, headers=st.auth, timeout=10).json().get("progress") or {}
        if 0 < progress.get("rows_published", 0) < ROWS // 2:
            break
        time.sleep(0.05)
    return progress


def _scenario(st: Stage, fault: Any) -> dict[str, Any]:
    st.procs.start()
    region = st.files.region.id
    _final(st, _import(st, "org-units", ingest_bench.org_csv(SCHOOLS, region)))
    body = ingest_bench.vpr_csv(ROWS, SCHOOLS)
    state = _import(st, "vpr", body)
    progress = _midway(st, state)
    fault(st)
    st.note(f"fault at {progress}")
    final = _final(st, state)
    seen, distinct = committed(st)
    st.note(f"after the fault: import {final['status']}, log holds {seen} ({distinct} distinct)")
    all_or_none = seen in (0, ROWS) and distinct == seen
    if final["status"] not in ("completed", "failed"):
        raise RuntimeError(f"import ended {final['status']}")
    resend = _final(st, _import(st, "vpr", body))
    st.note(
        f"resend: {resend['status']}, published {resend['progress']['rows_published']}, "
        f"unchanged {resend['progress']['rows_unchanged']}"
    )
    seen, distinct = committed(st)
    return {
        "events": ROWS,
        "lost": ROWS - distinct,
        "duplicated": seen - distinct,
        "all_or_none_after_fault": all_or_none,
        "import_after_fault": final["status"],
        "resend": resend["status"],
        **({} if all_or_none else {"failed": f"the log held {seen} of {ROWS} after the fault"}),
    }


def kill_9_ingest_200k(faults: Any, st: Stage) -> dict[str, Any]:
    def fault(st: Stage) -> None:
        st.procs.kill("ingest")
        st.procs.start("ingest")

    return _scenario(st, fault)


def kafka_restart_200k(faults: Any, st: Stage) -> dict[str, Any]:
    def fault(st: Stage) -> None:
        def run() -> None:
            st.note(f"kafka stop took {faults.infra.kafka('stop'):.1f}s")
            time.sleep(8)
            st.note(f"kafka start took {faults.infra.kafka('start'):.1f}s")

        in_thread(run)()  # joined: the broker is back before the import is followed

    return _scenario(st, fault)


SCENARIOS = {
    "kill-9-ingest-200k": (kill_9_ingest_200k, ("ingest",), {}),
    "kafka-restart-200k": (kafka_restart_200k, ("ingest",), {}),
}


def main() -> int:
    """Alone: a private Kafka and FerretDB on ports of their own (19192/27119)."""
    import argparse
    import tempfile

    from bench import faults
    from bench.fault_infra import ROOT, PrivateInfra

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", nargs="+", choices=list(SCENARIOS))
    names = ap.parse_args().only or list(SCENARIOS)
    infra = PrivateInfra(19192, 19193, 27119, 28190, ROOT / ".local/faults-ingest")
    work = Path(tempfile.mkdtemp(prefix="shkala-faults-ingest-"))
    rows = []
    try:
        log(f"private Kafka :{infra.kafka_port} + FerretDB :{infra.ferretdb_port}, logs in {work}")
        infra.up()
        world = faults.Faults(work, infra)
        rows = [faults.run_one(world, name) for name in names]
    finally:
        infra.down()
    faults.write(rows, 0)
    return 0 if all(faults.ok(r) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
