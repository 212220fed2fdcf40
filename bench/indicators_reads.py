"""The indicators read paths a municipality page asks for, in-process on a synthetic read table
of a typical region (14 municipalities × 30 schools, every catalogue indicator in two years):
the schools table, the rating and each list (``признаки необъективности`` screens the whole
region), cold (the first read after the table changed) and warm.

``uv run python bench/indicators_reads.py``
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "services" / "indicators" / "tests" / "unit"))

from fakes import FakePointer  # noqa: E402
from test_read_table import CAT, d, school  # noqa: E402

from shkala_contracts.events.indicators import IndicatorValueChanged, Scope  # noqa: E402
from shkala_indicators.service_layer.read import ReadModel  # noqa: E402
from shkala_indicators.service_layer.read_analyses import Analyses  # noqa: E402
from shkala_indicators.service_layer.read_table import ReadTable  # noqa: E402

PERIODS = ("2024/25", "2025/26")


def region_table(municipalities: int = 14, schools: int = 30) -> ReadTable:
    rng = random.Random(1)
    t = ReadTable(CAT)
    t.fold(
        [
            d(school(f"s{m:02d}{k:02d}", f"m{m:02d}"), "org", m * schools + k)
            for m in range(municipalities)
            for k in range(schools)
        ]
    )
    events, offset = [], 0
    for sid, org in list(t.org.items()):
        for p in PERIODS:
            for ind in CAT.indicators:
                den = rng.randint(20, 200)
                num = rng.randint(0, den)
                e = IndicatorValueChanged(
                    originator_id=f"indicator:{ind.id}|school|{sid}|{p}",
                    originator_version=1,
                    region_id="r",
                    municipality_id=org["municipality_id"],
                    school_id=sid,
                    indicator_id=ind.id,
                    direction=ind.direction,
                    scope=Scope.SCHOOL,
                    period=p,
                    definition_version=CAT.version,
                    old_value=None,
                    new_value=round(num / den * 100, 6),
                    numerator=num,
                    denominator=den,
                )
                events.append(d(e, "ev", offset))
                offset += 1
    t.fold(events)
    return t


class _Gen:
    name = "bench"

    async def checkpoints(self) -> list[dict[str, object]]:
        return []


async def main() -> None:
    t = region_table()
    read = ReadModel(FakePointer(_Gen()), CAT, t)
    period, previous = PERIODS[1], PERIODS[0]
    reads = {
        "table": lambda: read.municipality_table("m03", period, None, False),
        "rating": lambda: Analyses(read).rating("m03", period),
        **{
            f"list {r.name}": (
                lambda n=r.name: read.risk_list(
                    n, period, previous, region=None, municipality="m03"
                )
            )
            for r in CAT.lists
        },
    }
    print(f"read table: {len(t.values):,} school values, {len(t.org):,} org units")
    t0 = time.perf_counter()
    for read_one in reads.values():
        await read_one()
    print(f"the municipality page's reads, cold: {(time.perf_counter() - t0) * 1000:.1f} ms")
    for name, read_one in reads.items():
        t0 = time.perf_counter()
        for _ in range(10):
            await read_one()
        print(f"  {name:<32} warm {(time.perf_counter() - t0) * 100:.2f} ms each")


if __name__ == "__main__":
    asyncio.run(main())
