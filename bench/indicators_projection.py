"""The indicators projection use case alone: decide + derived events over a generated region,
with the in-memory store of the unit tests (no Kafka, no database). `uv run python
bench/indicators_projection.py`; the full figures come from `make bench`."""
import asyncio
import resource
import sys
import time

sys.path.insert(0, "services/indicators/tests"); sys.path.insert(0, "services/indicators/tests/unit")
from fakes import FakePublisher, FakeStore
from indicators_testkit import generate

from shkala_contracts import Envelope, Tenant
from shkala_indicators.domain import catalogue as cat
from shkala_indicators.service_layer.projection import Projector
from shkala_runtime.consuming import Delivered, LogPosition

reg = generate(seed=1, n_mun=6, per_mun=10)
sm = reg.school_municipality()
items = []
for i, e in enumerate(reg.org + reg.originals):
    sid = getattr(e, "school_id", None)
    t = Tenant(region=reg.region, municipality=sm.get(sid) if sid else getattr(e, "municipality_id", None), school=sid)
    env = Envelope.for_event(e, source="/t", tenant=t)
    items.append(Delivered(env, e, LogPosition("t", hash(sid or "x") % 6, i), None, 0))
print("events", len(items))
async def main():
    store, pub = FakeStore(), FakePublisher()
    p = Projector(cat.load(), source="/t", publisher=pub)
    t0 = time.perf_counter()
    for k in range(0, len(items), 20000):
        await p.apply(store, items[k:k+20000])
    dt = time.perf_counter() - t0
    print(f"projection (decide+fake commit) {len(items)/dt:,.0f} events/s; events out {len(pub.sent)}; maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MiB")
asyncio.run(main())
