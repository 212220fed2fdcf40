"""The whole system as processes (the four services and web) with the tiny demo region loaded,
and a real headless Chromium (Debian's ``chromium``) driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.processes import SERVICES, ServiceProcesses, free_port

from shkala_demo.runner import OUT, Config, RegionInfo, prepare_region, run

CHROMIUM = os.environ.get("SHKALA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class System:
    procs: ServiceProcesses
    info: RegionInfo
    region_dir: Path

    @property
    def web(self) -> str:
        return self.procs.url("web")

    def url(self, name: str) -> str:
        return self.procs.url(name)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, infra: None) -> Iterator[System]:
    work = tmp_path_factory.mktemp("web-e2e")
    procs = ServiceProcesses(
        work / "logs",
        services=(*SERVICES, "web"),
        env={
            "SHKALA_REGION_ID": "99",
            "SHKALA_WEBHOOK_ALLOW_NETWORKS": '["127.0.0.0/8"]',
            "SHKALA_LOG_JSON": "false",
        },
    )
    procs.env.update({f"SHKALA_{name.upper()}_URL": procs.url(name) for name in SERVICES})
    cfg = Config(
        size="tiny",
        local=work / "local",
        receiver_port=free_port(),
        wait_s=180,
        ports={name: procs.ports[name] for name in SERVICES},
    )
    try:
        procs.start(*SERVICES)
        procs.start("web")
        OUT.every_s = 30.0
        run(cfg, lambda: None)  # the demo: uploads, roadmaps, ШНОР list, measures
        info = prepare_region(cfg.region_dir, cfg.spec)
        yield System(procs, info, cfg.region_dir)
    finally:
        procs.stop()


@pytest.fixture(scope="module")
def browser(system: System) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/bootstrap.sh (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()
