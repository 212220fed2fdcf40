"""An official's day in the workspace, in a real headless Chromium, on the real system.

The four services and web run as processes on the real Kafka and FerretDB with the tiny demo
region loaded by the demo itself (``shkala_demo.runner.run``). What the pages show is checked
against what the region was built to be (the designed ШНОР school) and against the services'
own APIs, never against the page code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from docx import Document
from support.processes import wait_until

from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

from .conftest import System

# the first test also waits for the module's demo region to load (~3 min on a quiet machine)
pytestmark = pytest.mark.timeout(600)

PERIOD = "2025/26"
HEADER = (
    "Код ОО;Учебный год;Дата;Всего обучающихся;На учёте ОДН/КДН;"
    "Мигранты / слабое владение русским;ОВЗ подтверждено ПМПК;Не аттестованы;Удалённость;"
    "Малокомплектная;Дефицит инфраструктуры;Аккредитация"
)


def context_line(school: str, total: str, juvenile: int) -> str:
    return f"{school};{PERIOD};20.09.2025;{total};{juvenile};1;2;0;нет;да;нет;приостановлена"


def region_token() -> str:
    return issue_token(ServiceSettings(), Role.REGION, region="99")


def sign_in_as_municipality(page: Any, system: System, municipality: str) -> None:
    page.goto(system.web + "/login")
    page.select_option("#role", "municipality")
    page.select_option("#municipality", municipality)
    page.click("#dev-login button[type=submit]")
    page.wait_for_url(re.compile(rf"/mo/{municipality}"))


def test_municipal_official_works_through_the_cycle(
    system: System, browser: Any, tmp_path: Path
) -> None:
    shnor = system.info.metadata["designed_low_results"][0]
    school_name = system.info.schools[shnor]["name"]
    mun = system.info.schools[shnor]["municipality"]
    context = browser.new_context(locale="ru-RU", accept_downloads=True)
    page = context.new_page()

    # sign in through the login form; the session cookie is HttpOnly and SameSite
    sign_in_as_municipality(page, system, mun)
    cookie = next(c for c in context.cookies() if c["name"] == "shkala_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"

    # the municipality page lists the designed ШНОР school, in the table and in the list
    page.goto(f"{system.web}/mo/{mun}?period={PERIOD}")
    row = page.locator(f"#schools-table tr[data-school='{shnor}']")
    assert "ШНОР" in row.inner_text()
    assert school_name in page.locator("#list-1").inner_text()

    # its card: the trend chart is drawn and the ВПР deficits are marked
    page.click(f"#schools-table tr[data-school='{shnor}'] a")
    page.wait_for_url(re.compile(rf"/schools/{shnor}"))
    page.wait_for_selector("#trend-chart[data-drawn] canvas")
    assert page.locator("#why-listed").inner_text().count("ШНОР") >= 1
    page.wait_for_selector("#vpr #deficit-count")  # the ВПР section follows the card
    deficits = int(page.locator("#deficit-count").inner_text())
    assert deficits > 0
    assert page.locator("#vpr-heatmap .heat.deficit").count() == deficits

    # a roadmap row marked done with a report
    roadmaps = httpx.get(
        system.url("plans") + "/roadmaps",
        params={"municipality_id": mun},
        headers={"Authorization": f"Bearer {region_token()}"},
    ).json()
    roadmap_id = roadmaps[0]["id"]
    page.goto(f"{system.web}/roadmaps")
    page.click(f"a[href='/roadmaps/{roadmap_id}']")
    form = page.locator("#row-r1 form.status-form")
    form.locator("select[name=status]").select_option("done")
    form.locator("textarea[name=report]").fill("Дорожная карта утверждена приказом № 12")
    form.locator("button").click()
    page.wait_for_selector("#saved")
    assert page.locator("#row-r1 .status").inner_text() == "Выполнено"
    assert "приказом № 12" in page.locator("#row-r1").inner_text()
    stored = httpx.get(
        f"{system.url('plans')}/roadmaps/{roadmap_id}",
        headers={"Authorization": f"Bearer {region_token()}"},
    ).json()
    r1 = next(r for r in stored["rows"] if r["row_id"] == "r1")
    assert r1["status"] == "done"
    assert r1["reports"][-1]["report"] == "Дорожная карта утверждена приказом № 12"

    # a second tab keeps the municipality page open: it must change without a reload
    watcher = context.new_page()
    watcher.goto(f"{system.web}/mo/{mun}?period={PERIOD}")
    watcher.wait_for_selector("#live-status:not([hidden])")
    watcher.evaluate("window.__notReloaded = true")
    cell = f"#schools-table tr[data-school='{shnor}'] td[data-indicator='wellbeing_index']"
    before = watcher.locator(cell).inner_text()

    # an upload with a bad row is refused whole, the row error shown as a table
    bad = tmp_path / "context-bad.csv"
    bad.write_text(
        "\n".join([HEADER, context_line(shnor, "44", 5), context_line(shnor, "много", 0)]) + "\n",
        encoding="utf-8",
    )
    page.goto(f"{system.web}/uploads?kind=school-context")
    page.set_input_files("#file", str(bad))
    page.click("#upload-form button[type=submit]")
    errors = page.wait_for_selector("#row-errors")
    text = errors.inner_text()
    assert "Всего обучающихся" in text
    assert "много" in text
    assert watcher.locator(cell).inner_text() == before  # nothing was published

    # a good one is accepted with its counts, and the open page follows by itself
    good = tmp_path / "context-good.csv"
    good.write_text("\n".join([HEADER, context_line(shnor, "44", 5)]) + "\n", encoding="utf-8")
    page.set_input_files("#file", str(good))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-accepted")
    assert page.locator("#published").inner_text() == "1"
    wait_until(
        lambda: watcher.locator(cell).inner_text() != before,
        60,
        "the open municipality page shows the new value",
    )
    assert watcher.evaluate("window.__notReloaded") is True
    card = httpx.get(
        f"{system.url('indicators')}/schools/{shnor}",
        headers={"Authorization": f"Bearer {region_token()}"},
    ).json()
    wellbeing = next(i for i in card["indicators"] if i["id"] == "wellbeing_index")
    now = next(v for v in wellbeing["trend"] if v["period"] == PERIOD)
    assert watcher.locator(cell).inner_text() == f"{now['value']:.1f}".replace(".", ",")

    # the analytical note, downloaded from the municipality page, names the school
    page.goto(f"{system.web}/mo/{mun}?period={PERIOD}")
    with page.expect_download() as download:
        page.click("#note-docx")
    path = tmp_path / "note.docx"
    download.value.save_as(path)
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for r in t.rows for c in r.cells
    )
    assert school_name in text
    assert "Аналитическая справка" in text
    assert len(doc.inline_shapes) >= 1  # the charts, as images
    context.close()


def test_a_school_cannot_open_another_schools_card(system: System, browser: Any) -> None:
    schools = system.info.schools
    own = next(s for s, v in schools.items() if v["municipality"] != "mo-01")
    other = next(s for s, v in schools.items() if v["municipality"] == "mo-01")
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(f"{system.web}/login")
    page.select_option("#role", "school")
    page.select_option("#school", own)
    page.click("#dev-login button[type=submit]")
    page.wait_for_url(re.compile(rf"/schools/{own}"))
    response = page.goto(f"{system.web}/schools/{other}")
    assert response is not None
    assert response.status == 403
    assert "Нет доступа" in page.locator("h1").inner_text()
    assert schools[other]["name"] not in page.content()
    context.close()


def test_a_failed_live_refresh_is_shown_and_the_next_one_clears_it(
    system: System, browser: Any
) -> None:
    """When the service behind an open page fails, the official sees that the figures are stale
    instead of a page that silently stops updating."""
    shnor = system.info.metadata["designed_low_results"][0]
    mun = system.info.schools[shnor]["municipality"]
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    sign_in_as_municipality(page, system, mun)
    page.goto(f"{system.web}/schools/{shnor}?period={PERIOD}")
    before = page.locator("#indicators").inner_text()
    failing = True

    def fragment(route: Any) -> None:
        if failing:
            route.fulfill(status=503, body="upstream down")
        else:
            route.continue_()

    page.route(re.compile(r"/schools/[^/]+/indicators"), fragment)
    page.evaluate("document.body.dispatchEvent(new Event('shkala:changed'))")
    status = page.locator("#live-status")
    status.filter(has_text="не удалось обновить данные").wait_for(timeout=10_000)
    assert "503" in status.inner_text()
    assert "stale" in (page.locator("#indicators").get_attribute("class") or "")
    assert page.locator("#indicators").inner_text() == before  # the old figures stay

    failing = False
    page.evaluate("document.body.dispatchEvent(new Event('shkala:changed'))")
    status.filter(has_text="данные обновлены").wait_for(timeout=10_000)
    assert "stale" not in (page.locator("#indicators").get_attribute("class") or "")
    context.close()
