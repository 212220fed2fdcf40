"""Page latency of the web workspace for the demo region (`make bench`, or alone:
``python -m bench.web_pages``).

The system runs with the tiny demo region (as `make demo`); a municipal official's pages and
the region's page are requested in turn for ``seconds`` each, one at a time, and the p50/p95
are reported (the slowest page's figure overall) beside the raw limits measured in the same
run: the municipality table asked of indicators directly and a roadmap asked of plans directly
(the slowest upstream calls the pages make).
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


def timed(client: httpx.Client, url: str, n_seconds: float) -> list[float]:
    out: list[float] = []
    deadline = time.monotonic() + n_seconds
    while time.monotonic() < deadline or len(out) < 5:
        t = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {r.status_code}")
    return out


def measure(seconds: float = 5.0) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="shkala-web-bench-") as tmp,
        demo_system(Path(tmp), log_level="WARNING") as system,
    ):
        shnor = system.info.metadata["designed_low_results"][0]
        mun = system.info.schools[shnor]["municipality"]
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
                ("school", f"/schools/{shnor}?period={period}"),
                ("roadmap", f"/roadmaps/{roadmap}"),
                ("uploads", "/uploads"),
                ("public", f"/public?period={period}"),
            ]:
                pages[name] = timed(c, path, seconds)
        token = issue_token(ServiceSettings(), Role.MUNICIPALITY, region="99", municipality=mun)
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=system.url("indicators"), headers=auth) as c:
            table = timed(c, f"/municipalities/{mun}/table?period={period}", seconds)
        with httpx.Client(base_url=system.url("plans"), headers=auth) as c:
            plan = timed(c, f"/roadmaps/{roadmap}", seconds)
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
        "web_region": "tiny demo region (2 municipalities, 8 schools)",
    }


if __name__ == "__main__":
    result = measure(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
    out = ROOT / "bench" / "results" / "web-latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
