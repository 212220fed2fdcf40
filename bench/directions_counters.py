#!/usr/bin/env python3
"""Cost of the four directions' indicators in the projection's hot paths, interleaved runs
(min of 9) to cancel the shared machine's load: stats.Rules.contribution per fact and
stats.compute_values per (school, year) cell, full catalogue vs without the 25 new ones.

    uv run --frozen python bench/directions_counters.py
"""

import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services/indicators/tests"))
from indicators_testkit import generate

from shkala_indicators.domain import catalogue as cat
from shkala_indicators.domain.rows import compact
from shkala_indicators.domain.stats import Rules, compute_values, stats_of

full = cat.load()
NEW = {"assessment", "career", "principals", "upbringing"}
base = dataclasses.replace(
    full, indicators=tuple(i for i in full.indicators if i.direction not in NEW)
)
reg = generate(seed=11, n_mun=3, per_mun=8)
by = {}
for f in reg.final_facts():
    by.setdefault((f.school_id, f.academic_year), []).append(
        (f.originator_id(), compact(f.model_dump(mode="json"), f.event_type))
    )
rows = [r for v in by.values() for _, r in v]
prep = {}
for name, c in (("base", base), ("full", full)):
    rules = Rules(c)
    prep[name] = (rules, {k: stats_of(rules, v) for k, v in by.items()})
best = {(n, w): 1e9 for n in prep for w in ("c", "v")}
for _ in range(9):
    for name, (rules, st) in prep.items():
        t = time.perf_counter()
        for r in rows:
            rules.contribution(r)
        best[(name, "c")] = min(best[(name, "c")], time.perf_counter() - t)
        t = time.perf_counter()
        for k, s in st.items():
            compute_values(rules, s, [st.get((k[0], "2024/25"))] if k[1] == "2025/26" else [None])
        best[(name, "v")] = min(best[(name, "v")], time.perf_counter() - t)
for name, c in (("base", base), ("full", full)):
    per_fact = best[(name, "c")] / len(rows) * 1e6
    per_cell = best[(name, "v")] / len(by) * 1e3
    print(
        f"{name}: {len(c.indicators)} indicators; contribution {per_fact:.2f} µs/fact; "
        f"compute_values {per_cell:.3f} ms/cell ({len(rows)} facts, {len(by)} cells)"
    )
