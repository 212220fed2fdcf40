"""A private Kafka + FerretDB for `make faults`: own ports and data directory, so restarting
them never disturbs the shared infrastructure on 9092/27017 that other tests use.

Started and stopped with the same scripts as `make infra-up` (deploy/local/*.sh), with the
environment pointing elsewhere. Caches (the Kafka jars, the built FerretDB binary) come from
``SHKALA_CACHE_DIR`` when set, else the repository's own ``.cache/local``.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy/local"


class PrivateInfra:
    def __init__(
        self,
        kafka_port: int = 19092,
        controller_port: int = 19093,
        ferretdb_port: int = 27019,
        ferretdb_debug_port: int = 28090,
        postgres_port: int = 55433,
        local_dir: Path = ROOT / ".local/faults",
    ) -> None:
        self.kafka_port = kafka_port
        self.ferretdb_port = ferretdb_port
        self.env = {
            "SHKALA_LOCAL_DIR": str(local_dir),
            "SHKALA_CACHE_DIR": os.environ.get("SHKALA_CACHE_DIR", str(ROOT / ".cache/local")),
            "SHKALA_KAFKA_PORT": str(kafka_port),
            "SHKALA_KAFKA_CONTROLLER_PORT": str(controller_port),
            "SHKALA_FERRETDB_PORT": str(ferretdb_port),
            "SHKALA_FERRETDB_DEBUG_PORT": str(ferretdb_debug_port),
            "SHKALA_FERRETDB_LOG_LEVEL": "error",
            # its own PostgreSQL cluster too (data under local_dir), never the shared one
            "SHKALA_POSTGRES_PORT": str(postgres_port),
        }
        self.log_dir = local_dir / "logs"

    @property
    def service_env(self) -> dict[str, str]:
        """What the services (and this process's clients) need to use the private infra."""
        return {
            "SHKALA_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.kafka_port}",
            "SHKALA_MONGO_URL": f"mongodb://127.0.0.1:{self.ferretdb_port}/",
        }

    def _script(self, script: str, command: str) -> float:
        start = time.monotonic()
        subprocess.run(
            ["bash", str(DEPLOY / script), command],
            env={**os.environ, **self.env},
            check=True,
            timeout=300,
        )
        return time.monotonic() - start

    def up(self) -> None:
        self._script("infra.sh", "up")
        # Everything started from here on (service processes inherit os.environ, and the
        # ServiceSettings() of this process) talks to the private infrastructure.
        os.environ.update(self.service_env)

    def down(self, keep_data: bool = False) -> None:
        """Stop both; the data (topics, databases of every scenario) is deleted unless kept."""
        self._script("infra.sh", "down" if keep_data else "reset")

    def kafka(self, command: str) -> float:
        """``start`` / ``stop`` the private broker; returns the seconds it took."""
        return self._script("kafka.sh", command)

    def ferretdb(self, command: str) -> float:
        return self._script("ferretdb.sh", command)
