"""`make screenshots`: the main pages of the workspace in headless Chromium, into
docs/screenshots/ (the system runs with the tiny demo region, as in `make demo`)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

from support.web_system import CHROMIUM, CHROMIUM_FLAGS, demo_system  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="shkala-shots-") as tmp,
        demo_system(Path(tmp), log_level="WARNING") as system,
    ):
        shnor = system.info.metadata["designed_low_results"][0]
        mun = system.info.schools[shnor]["municipality"]
        period = system.info.latest
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, "--lang=ru-RU"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="ru-RU")
            shots = [("login", "/login", False)]
            for name, path, full in shots:
                page.goto(system.web + path)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
            page.goto(f"{system.web}/login/dev/region")
            page.goto(f"{system.web}/region?period={period}")
            page.screenshot(path=str(OUT / "region.png"), full_page=True)
            page.goto(f"{system.web}/login/dev/municipality?municipality={mun}")
            for name, path in [
                ("municipality", f"/mo/{mun}?period={period}"),
                ("school", f"/schools/{shnor}?period={period}"),
                ("roadmaps", "/roadmaps"),
                ("measures", f"/measures?school={shnor}"),
                ("notifications", "/notifications"),
                ("public", f"/public?period={period}"),
            ]:
                page.goto(system.web + path)
                if name == "school":  # the ВПР section arrives after the card
                    page.wait_for_selector("#vpr #deficit-count")
                page.wait_for_timeout(700)  # charts draw, the live feed connects
                page.screenshot(path=str(OUT / f"{name}.png"))
            # the uploads page with a rejected file: the row errors as a table
            bad = Path(tmp) / "school-context.csv"
            bad.write_text(
                "Код ОО;Учебный год;Дата;Всего обучающихся;На учёте ОДН/КДН;"
                "Мигранты / слабое владение русским;ОВЗ подтверждено ПМПК;Не аттестованы;"
                "Удалённость;Малокомплектная;Дефицит инфраструктуры;Аккредитация\n"
                f"{shnor};{period};20.09.2025;сорок;0;1;2;0;нет;да;нет;действует\n"
                f"{shnor};{period};31.09.2025;44;0;1;2;0;может быть;да;нет;действует\n",
                encoding="utf-8",
            )
            page.goto(system.web + "/uploads?kind=school-context")
            page.set_input_files("#file", str(bad))
            page.click("#upload-form button[type=submit]")
            page.wait_for_selector("#upload-rejected")
            page.screenshot(path=str(OUT / "uploads.png"))
            page.goto(system.web + "/roadmaps")
            roadmap = page.locator("#roadmaps a").first.get_attribute("href")
            page.goto(system.web + str(roadmap))
            page.screenshot(path=str(OUT / "roadmap.png"))
            browser.close()
    for f in sorted(OUT.glob("*.png")):
        print(f"  {f.relative_to(ROOT)}  {f.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
