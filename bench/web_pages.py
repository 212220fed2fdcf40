"""Page latency of the web workspace for the demo region (`make bench`, or alone:
``python -m bench.web_pages``).

The system runs with the typical demo region, as `make demo` loads it (26 municipalities, 420
schools, ~1.1 M rows; ``--size tiny`` for a quick check); a municipal official's pages and the
region's page are requested one at a time for ``seconds`` each — the municipality page and
table, the school card and its ВПР section (the page asks for it once the card is shown), a
value's «Как посчитано», the measures page with its proposals, a direction, notifications,
a roadmap, uploads and the public page — the card, its ВПР section and the measures page
going round every school of the municipality (not one cached card), and the p50/p95 are
reported (the slowest page's figure overall) beside the raw limits measured in the same run:
the municipality table and a school's ВПР tasks asked of indicators directly and a roadmap asked of
plans directly (the slowest upstream calls the pages make).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.web_system import demo_system  # noqa: E402

from shkala_runtime.auth import Role, issue_token  # noqa: E402
from shkala_runtime.settings import ServiceSettings  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


TIMEOUT_S = 30.0
TIMED_OUT: dict[str, int] = {}
"""Pages that did not answer within ``TIMEOUT_S`` (their timing counts as the timeout)."""


def timed(client: httpx.Client, url: str | list[str], n_seconds: float) -> list[float]:
    """Request ``url`` (or each of a list in turn) for ``n_seconds``; milliseconds each. A page
    that does not answer within ``TIMEOUT_S`` is noted and not asked again (its figure is then
    at least the timeout: the goal is missed, and the other pages still get measured)."""
    urls = [url] if isinstance(url, str) else url
    out: list[float] = []
    deadline = time.monotonic() + n_seconds
    while time.monotonic() < deadline or len(out) < max(5, len(urls)):
        url = urls[len(out) % len(urls)]
        t = time.perf_counter()
        try:
            r = client.get(url, timeout=TIMEOUT_S)
        except httpx.TimeoutException:
            out.append(TIMEOUT_S * 1000)
            TIMED_OUT[url] = TIMED_OUT.get(url, 0) + 1
            print(f"  {url}: no answer within {TIMEOUT_S:.0f} s", file=sys.stderr, flush=True)
            break
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {r.status_code}")
    return out


def measure(seconds: float = 5.0, size: str = "default") -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="shkala-web-bench-") as tmp,
        demo_system(Path(tmp), log_level="WARNING", size=size, wait_s=3600) as system,
    ):
        return measure_on(system, seconds, size)


def measure_on(system: Any, seconds: float, size: str) -> dict[str, Any]:
    """The figures of a running system (``system.web``, ``system.url(name)``, ``system.info``)."""
    shnor = system.info.metadata["designed_low_results"][0]
    mun = system.info.schools[shnor]["municipality"]
    schools = sorted(s for s, v in system.info.schools.items() if v["municipality"] == mun)
    period = system.info.latest
    pages: dict[str, list[float]] = {}
    with httpx.Client(base_url=system.web, timeout=30, follow_redirects=False) as c:
        c.get("/login/dev/region")
        pages["region"] = timed(c, f"/region?period={period}", seconds)
    with httpx.Client(base_url=system.web, timeout=30, follow_redirects=False) as c:
        c.get(f"/login/dev/municipality?municipality={mun}")
        roadmap = c.get("/roadmaps").text.split('href="/roadmaps/')[1].split('"')[0]
        for name, path in [
            ("municipality", f"/mo/{mun}?period={period}"),
            ("schools_table", f"/mo/{mun}/table?period={period}"),
            ("school", [f"/schools/{s}?period={period}" for s in schools]),
            # the card's ВПР section: the page asks for it once the card is shown
            ("school_vpr", [f"/schools/{s}/vpr?period={period}" for s in schools]),
            (
                "explain",
                f"/schools/{shnor}/indicators/vpr_mark2_share_math/explain?period={period}",
            ),
            ("measures", [f"/measures?school={s}" for s in schools]),
            ("direction", f"/mo/{mun}/directions/low_results?period={period}"),
            ("notifications", "/notifications"),
            ("roadmap", f"/roadmaps/{roadmap}"),
            ("uploads", "/uploads"),
            ("public", f"/public?period={period}"),
        ]:
            pages[name] = timed(c, path, seconds)
            v = pages[name]
            print(f"  {name}: n={len(v)} p50 {pct(v, 0.5)} ms p95 {pct(v, 0.95)} ms", flush=True)
    token = issue_token(ServiceSettings(), Role.MUNICIPALITY, region="99", municipality=mun)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=system.url("indicators"), headers=auth) as c:
        table = timed(c, f"/municipalities/{mun}/table?period={period}", seconds)
    with httpx.Client(base_url=system.url("plans"), headers=auth) as c:
        plan = timed(c, f"/roadmaps/{roadmap}", seconds)
    with httpx.Client(base_url=system.url("indicators"), headers=auth) as c:
        tasks = timed(c, [f"/schools/{s}/vpr-tasks?period={period}" for s in schools], seconds)
    return {
        # the slowest page decides: a pooled percentile would be the cheap pages' figure
        "web_page_p95_ms": max(pct(v, 0.95) for v in pages.values()),
        "web_page_p50_ms": max(pct(v, 0.5) for v in pages.values()),
        "web_pages": {
            k: {"n": len(v), "p50_ms": pct(v, 0.5), "p95_ms": pct(v, 0.95)}
            for k, v in pages.items()
        },
        "web_upstream_table_p95_ms": pct(table, 0.95),
        "web_upstream_roadmap_p95_ms": pct(plan, 0.95),
        "web_upstream_vpr_tasks_p95_ms": pct(tasks, 0.95),
        "web_timed_out": dict(TIMED_OUT),
        "web_region": f"{size} demo region ({len(system.info.schools)} schools;"
        f" the card over the {len(schools)} schools of {mun})",
    }


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("seconds", nargs="?", type=float, default=5.0, help="per page")
    ap.add_argument("--size", default="default", choices=("default", "tiny"))
    a = ap.parse_args()
    result = measure(a.seconds, a.size)
    out = ROOT / "bench" / "results" / "web-latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
