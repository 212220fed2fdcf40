"""The indicators projection use case alone: decide + derived events over a generated region,
with the in-memory store of the unit tests (no Kafka, no database).

    uv run python bench/indicators_projection.py [--municipalities 6] [--schools 10]

The figures of the whole system come from `make bench`; this one says what the projection's
own code costs per event (and ``--profile`` where that time goes).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "services/indicators/tests"))
sys.path.insert(0, str(ROOT / "services/indicators/tests/unit"))

from fakes import FakePublisher, FakeStore  # noqa: E402
from indicators_testkit import generate  # noqa: E402

from shkala_contracts import Envelope, Tenant  # noqa: E402
from shkala_indicators.domain import catalogue as cat  # noqa: E402
from shkala_indicators.service_layer.projection import Projector  # noqa: E402
from shkala_runtime.consuming import Delivered, LogPosition  # noqa: E402


def events(municipalities: int, schools: int) -> list[Delivered]:
    reg = generate(seed=1, n_mun=municipalities, per_mun=schools)
    sm = reg.school_municipality()
    out = []
    for i, e in enumerate(reg.org + reg.originals):
        sid = getattr(e, "school_id", None)
        mun = sm.get(sid) if sid else getattr(e, "municipality_id", None)
        env = Envelope.for_event(
            e, source="/bench", tenant=Tenant(region=reg.region, municipality=mun, school=sid)
        )
        out.append(Delivered(env, e, LogPosition("t", hash(sid or "x") % 6, i), None, 0))  # type: ignore[arg-type]
    return out


async def project(items: list[Delivered], batch: int) -> tuple[float, int]:
    store, pub = FakeStore(), FakePublisher()
    p = Projector(cat.load(), source="/bench", publisher=pub)
    started = time.perf_counter()
    for k in range(0, len(items), batch):
        await p.apply(store, items[k : k + batch])
    return time.perf_counter() - started, len(pub.sent)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--municipalities", type=int, default=6)
    ap.add_argument("--schools", type=int, default=10, help="per municipality")
    ap.add_argument("--batch", type=int, default=20000)
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    items = events(a.municipalities, a.schools)
    run: Any = lambda: asyncio.run(project(items, a.batch))  # noqa: E731
    if a.profile:
        prof = cProfile.Profile()
        seconds, out = prof.runcall(run)
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    else:
        seconds, out = run()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"projection use case: {len(items):,} events in {seconds:.2f}s = "
        f"{len(items) / seconds:,.0f} events/s; {out:,} derived events; peak RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    main()
