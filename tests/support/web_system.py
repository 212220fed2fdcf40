"""The whole system as processes (the four services and web) with a demo region loaded
by the demo itself: the web browser tests, `make screenshots` and the page-latency bench."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shkala_demo.runner import OUT, Config, RegionInfo, prepare_region, run
from support.processes import SERVICES, ServiceProcesses, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class DemoSystem:
    procs: ServiceProcesses
    info: RegionInfo

    @property
    def web(self) -> str:
        return self.procs.url("web")

    def url(self, name: str) -> str:
        return self.procs.url(name)


@contextmanager
def demo_system(
    work: Path, log_level: str = "INFO", size: str = "tiny", wait_s: float = 180
) -> Iterator[DemoSystem]:
    """The system with the demo region of ``size`` (tiny for tests; the bench uses the
    typical region, as `make demo` does)."""
    procs = ServiceProcesses(
        work / "logs",
        services=(*SERVICES, "web"),
        env={
            "SHKALA_REGION_ID": "99",
            "SHKALA_WEBHOOK_ALLOW_NETWORKS": '["127.0.0.0/8"]',
            "SHKALA_LOG_JSON": "false",
            "SHKALA_LOG_LEVEL": log_level,
        },
    )
    procs.env.update({f"SHKALA_{name.upper()}_URL": procs.url(name) for name in SERVICES})
    cfg = Config(
        size=size,
        local=work / "local",
        receiver_port=free_port(),
        wait_s=wait_s,
        ports={name: procs.ports[name] for name in SERVICES},
    )
    try:
        procs.start(*SERVICES, timeout=180)  # a loaded 2-core machine starts them slowly
        procs.start("web")
        OUT.every_s = 30.0
        run(cfg, lambda: None)  # the demo: uploads, roadmaps, the ШНОР list, measures
        yield DemoSystem(procs, prepare_region(cfg.region_dir, cfg.spec))
    finally:
        procs.stop()
