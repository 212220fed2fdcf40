"""The whole system with the tiny demo region (``support.web_system``), and a real headless
Chromium (Debian's ``chromium``) driven by Playwright with ``executable_path``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.web_system import CHROMIUM, CHROMIUM_FLAGS, DemoSystem, demo_system

System = DemoSystem


@pytest.fixture(scope="package")  # one demo region for the browser tests (~3 min to load)
def system(tmp_path_factory: pytest.TempPathFactory, infra: None) -> Iterator[DemoSystem]:
    with demo_system(tmp_path_factory.mktemp("web-e2e")) as s:
        yield s


@pytest.fixture(scope="module")  # Playwright's sync API holds a loop: never across modules
def browser(system: DemoSystem) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("SHKALA_CHROMIUM", CHROMIUM)
    if not Path(chromium).exists():
        pytest.fail(f"{chromium} missing: run scripts/bootstrap.sh (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()
