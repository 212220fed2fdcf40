"""The samples in docs/formats/ are what an outside user tries first: each must go through
on a deployment with default settings (the org-units sample first: it registers the school
the other samples name)."""

from __future__ import annotations

from pathlib import Path

from shkala_contracts.formats import FORMATS
from shkala_runtime.settings import ServiceSettings

from .helpers import auth, ingest_settings, running

SAMPLES = Path(__file__).resolve().parents[4] / "docs/formats/samples"


async def test_every_documented_sample_is_accepted(test_settings: ServiceSettings) -> None:
    settings = ingest_settings(test_settings)
    region = auth(settings, "region")
    kinds = ["org-units", *sorted(k for k in FORMATS if k != "org-units")]
    async with running(settings) as client:
        for kind in kinds:
            data = (SAMPLES / f"{kind}.csv").read_bytes()
            query = "" if kind == "org-units" else "?dry_run=true"
            r = await client.post(
                f"/imports/{kind}{query}",
                headers=region,
                files={"file": (f"{kind}.csv", data, "text/csv")},
            )
            assert r.status_code == 202, (kind, r.text)
            assert r.json()["status"] in ("completed", "validated"), (kind, r.text)


async def test_metrics_answer_without_a_redirect(test_settings: ServiceSettings) -> None:
    settings = ingest_settings(test_settings)
    async with running(settings) as client:
        r = await client.get("/metrics", follow_redirects=False)
        assert r.status_code == 200, r.status_code
        assert "shkala_imports_total" in r.text or "python_info" in r.text
