"""Ingest as its own process, over real HTTP: an N-row ВПР CSV (cp1251, ``;``) streamed from
a file, upload start → import completed, and the service's peak RSS (VmHWM) and that of its
reading worker.

    uv run python services/ingest/bench/ingest_http_bench.py [--rows 1000000] [--producer-perf]

Uses the Kafka and FerretDB of the environment (``SHKALA_KAFKA_BOOTSTRAP_SERVERS``,
``SHKALA_MONGO_URL``) with a topic prefix and database of its own (the database is dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_bench import org_csv, vpr_csv  # noqa: E402

from shkala_runtime.auth import issue_token  # noqa: E402
from shkala_runtime.settings import ServiceSettings  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def run(rows: int, schools: int) -> dict[str, object]:
    rid = uuid.uuid4().hex[:8]
    port = _port()
    env = {
        **os.environ,
        "SHKALA_HTTP_PORT": str(port),
        "SHKALA_MONGO_DATABASE": f"bench_http_{rid}",
        "SHKALA_KAFKA_TOPIC_PREFIX": f"benchhttp{rid}.",
        "SHKALA_KAFKA_TOPIC_PARTITIONS": "6",
        "SHKALA_LOG_LEVEL": "WARNING",
        "SHKALA_MAX_UPLOAD_BYTES": str(2**31),
    }
    settings = ServiceSettings()
    token = issue_token(settings, "region")  # type: ignore[arg-type]
    headers = {"Authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vpr.csv"
        path.write_bytes(vpr_csv(rows, schools))
        size = path.stat().st_size
        proc = subprocess.Popen([sys.executable, "-m", "shkala_ingest"], env=env)
        worker_peak = 0
        stop = threading.Event()

        def watch() -> None:  # the reading worker's peak, sampled while it lives
            nonlocal worker_peak
            while not stop.is_set():
                for child in _children(proc.pid):
                    worker_peak = max(worker_peak, _hwm_kib(child))
                time.sleep(0.2)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(base + "/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            with httpx.Client(base_url=base, headers=headers, timeout=3600) as c:
                r = c.post(
                    "/imports/org-units",
                    files={"file": ("o.csv", org_csv(schools, settings.region_id), "text/csv")},
                )
                assert r.json()["status"] == "completed", r.text
                idle_kib = _hwm_kib(proc.pid)
                started = time.perf_counter()
                with path.open("rb") as f:
                    r = c.post(
                        "/imports/vpr",
                        headers={"Prefer": "respond-async", "Content-Type": "text/csv"},
                        content=iter(lambda: f.read(1 << 20), b""),
                    )
                assert r.status_code == 202, r.text
                loc = r.headers["location"]
                while True:
                    answer = c.get(loc).json()
                    if answer["status"] != "processing":
                        break
                    time.sleep(0.5)
                elapsed = time.perf_counter() - started
                peak_kib = _hwm_kib(proc.pid)
        finally:
            stop.set()
            proc.terminate()
            proc.wait(30)
            from pymongo import MongoClient

            MongoClient(settings.mongo_url).drop_database(env["SHKALA_MONGO_DATABASE"])
    assert answer["status"] == "completed", answer
    return {
        "rows": rows,
        "bytes": size,
        "ingest_seconds": round(elapsed, 1),
        "ingest_rows_per_s": round(rows / elapsed),
        "ingest_peak_rss_mib": round(peak_kib / 1024),
        "ingest_rss_mib_before_upload": round(idle_kib / 1024),
        "reading_worker_peak_rss_mib": round(worker_peak / 1024),
        "published": answer["progress"]["rows_published"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--schools", type=int, default=200)
    ap.add_argument("--producer-perf", action="store_true")
    args = ap.parse_args()
    result = run(args.rows, args.schools)
    if args.producer_perf:
        sys.path.insert(0, str(ROOT))
        from bench.limits import kafka_producer_perf

        rate, _ = kafka_producer_perf(args.rows, record_size=400)
        result["kafka_producer_perf_records_per_s"] = round(rate)
        result["ratio_to_producer_perf"] = round(int(result["ingest_rows_per_s"]) / rate, 3)  # type: ignore[call-overload]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
