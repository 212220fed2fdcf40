"""docker-compose.yml is a valid Compose file and wires the deployment as deploy/README.md says.

No Docker engine is needed: ``docker-compose config`` only parses, interpolates and validates.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = {"ingest": 8001, "indicators": 8002, "plans": 8003, "notify": 8004}
INFRASTRUCTURE = ("kafka", "mongo", "otel-collector", "jaeger", "prometheus")


def _compose() -> dict[str, Any]:
    with COMPOSE_FILE.open(encoding="utf-8") as f:
        document = yaml.safe_load(f)
    assert isinstance(document, dict), f"{COMPOSE_FILE} is not a YAML mapping"
    return document


def test_docker_compose_config_is_valid() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is not installed: `make install` installs it "
            "(Debian package docker-compose)",
            pytrace=False,
        )
    result = subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"`docker-compose -f {COMPOSE_FILE} config -q` exited {result.returncode}:\n"
        f"{result.stderr}{result.stdout}"
    )


def test_compose_wires_services_to_healthy_infrastructure() -> None:
    services = _compose()["services"]

    for name in INFRASTRUCTURE:
        assert name in services, f"infrastructure service {name!r} missing"
    for name in ("kafka", "mongo"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"

    for name, port in SERVICES.items():
        assert name in services, f"service {name!r} missing"
        service = services[name]
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert service["build"]["args"]["SERVICE"] == name
        depends_on = service.get("depends_on")
        assert isinstance(depends_on, dict), f"{name}: depends_on must be the long form"
        for dependency in ("kafka", "mongo"):
            assert depends_on.get(dependency, {}).get("condition") == "service_healthy", (
                f"{name} must wait for {dependency} with condition service_healthy"
            )
        environment = service["environment"]
        assert str(environment["SHKALA_HTTP_PORT"]) == str(port)
        assert environment["SHKALA_HTTP_HOST"] == "0.0.0.0"
        # The secret comes from the operator only, never a default written in the file.
        assert environment["SHKALA_JWT_SECRET"] == "${SHKALA_JWT_SECRET}"


def test_deploy_configs_match_the_compose_file() -> None:
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text(encoding="utf-8"))
    scraped = {
        (sd["names"][0], sd["port"])
        for job in prometheus["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
    }
    assert scraped == set(SERVICES.items())

    collector = yaml.safe_load((ROOT / "deploy/otel-collector.yaml").read_text(encoding="utf-8"))
    traces = collector["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert "batch" in traces["processors"]
    assert {"otlp/jaeger", "debug"} <= set(traces["exporters"])
    assert collector["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"
