"""Run the four services as real processes on free ports (e2e tests, faults, bench).

Each run gets its own topic prefix and database, so it never sees another run's data.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from support import topics

SERVICES = ("ingest", "indicators", "plans", "notify")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free port below the ephemeral range: an OS-chosen port (bind to 0) comes from that
    range and can be taken by an outgoing Kafka connection before the service binds it."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-32000")


class ServiceProcesses:
    def __init__(
        self,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        services: tuple[str, ...] = SERVICES,
        run_id: str | None = None,
        separate_databases: bool = False,
    ) -> None:
        self.run_id = run_id or uuid.uuid4().hex[:10]
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.services = services
        self.separate_databases = separate_databases
        self.ports = {name: free_port() for name in services}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            "SHKALA_KAFKA_TOPIC_PREFIX": f"e{self.run_id}.",
            "SHKALA_KAFKA_TOPIC_PARTITIONS": "2",
            "SHKALA_MONGO_DATABASE": f"e_{self.run_id}",
            "SHKALA_LOG_LEVEL": "INFO",
            **(env or {}),
        }
        topics.remember(
            self.env.get("SHKALA_KAFKA_BOOTSTRAP_SERVERS")
            or os.environ.get("SHKALA_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            self.env["SHKALA_KAFKA_TOPIC_PREFIX"],
        )

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def start(self, *names: str, timeout: float = 90.0) -> None:
        names = names or self.services
        for name in names:
            env = {**os.environ, **self.env, "SHKALA_HTTP_PORT": str(self.ports[name])}
            if self.separate_databases:  # on FerretDB/SQLite one file, one writer at a time
                env["SHKALA_MONGO_DATABASE"] = f"{self.env['SHKALA_MONGO_DATABASE']}_{name}"
            log = self.log_path(name).open("ab")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", f"shkala_{name}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                proc = self.procs[name]
                if proc.poll() is not None:
                    tail = self.log_path(name).read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")
                try:
                    if httpx.get(self.url(name) + "/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{name} not ready within {timeout}s; see {self.log_path(name)}"
                    )
                time.sleep(0.3)

    def stop(self, *names: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        for name in names or tuple(self.procs):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def kill(self, name: str) -> None:
        """kill -9: no shutdown hooks, no flush, no commit."""
        self.stop(name, sig=signal.SIGKILL)

    def peak_rss_mib(self, name: str) -> float:
        """Peak resident memory (VmHWM) of a running service."""
        status = Path(f"/proc/{self.procs[name].pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return round(kb / 1024, 1)


def wait_until(predicate: Callable[[], Any], within: float, what: str) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {within}s")
