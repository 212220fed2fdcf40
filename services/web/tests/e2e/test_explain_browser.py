"""«Как посчитано» in a real headless Chromium on the real system (the tiny demo region):
from the designed ШНОР school's card to one value's page, whose figures and fact rows are
checked against the indicators service's own stored value, and whose people are pseudonyms."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from shkala_runtime.auth import Role, issue_token
from shkala_runtime.settings import ServiceSettings

from .conftest import System

# the first browser test also waits for the package's demo region to load (~3 min, quiet)
pytestmark = pytest.mark.timeout(600)

PERIOD = "2025/26"
INDICATOR = "vpr_mark2_share_math"  # one result, one part of the denominator: rows = counts
PSEUDONYM = re.compile(r"^p[0-9a-f]{24}$")


def test_a_value_on_the_card_opens_how_it_is_counted(system: System, browser: Any) -> None:
    shnor = system.info.metadata["designed_low_results"][0]
    mun = system.info.schools[shnor]["municipality"]
    token = issue_token(ServiceSettings(), Role.REGION, region="99")
    stored = httpx.get(
        f"{system.url('indicators')}/schools/{shnor}/indicators/{INDICATOR}",
        params={"period": PERIOD},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["value"]
    assert stored, "the demo region has the ВПР maths share of its ШНОР school"

    page = browser.new_context(locale="ru-RU").new_page()
    page.goto(system.web + "/login")
    page.select_option("#role", "municipality")
    page.select_option("#municipality", mun)
    page.click("#dev-login button[type=submit]")
    page.wait_for_url(re.compile(rf"/mo/{mun}"))
    page.goto(f"{system.web}/schools/{shnor}?period={PERIOD}")
    page.click(f"#indicators-table tr[data-indicator='{INDICATOR}'] a[data-explain]")
    page.wait_for_url(re.compile(rf"/schools/{shnor}/indicators/{INDICATOR}/explain"))

    assert "Как посчитано" in page.locator("h1").inner_text()
    num = float(page.locator("[data-numerator]").inner_text().replace(",", ".").replace(" ", ""))
    den = float(page.locator("[data-denominator]").inner_text().replace(",", ".").replace(" ", ""))
    assert (num, den) == (stored["numerator"], stored["denominator"])
    # each result is one row: the «2»s in the numerator part, the others in the denominator's
    in_num = page.locator("#explain-in_numerator tbody tr")
    in_den = page.locator("#explain-in_denominator_only tbody tr")
    assert in_num.count() == num
    assert in_num.count() + in_den.count() == den
    # the people are pseudonyms; the page names no student or teacher otherwise
    headers = page.locator("#explain-in_numerator thead th").all_inner_texts()
    col = headers.index("Обучающийся (псевдоним)")
    for row in in_num.all():
        assert PSEUDONYM.match(row.locator("td").nth(col).inner_text())
    assert "student_id" not in page.content()
