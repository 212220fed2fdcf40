"""The demo region's network pairs (сетевые пары, seed 004 §4.3-4.4; seed 002 «сетевое
взаимодействие … педагогов из сильных школ»): in each of the last two years, most schools
designed to be ШНОР are paired with a leading school of their municipality — one of the
schools with the highest results, never a designed low-results, poor-context or
non-objective one. Upload format ``network-pairs``."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from shkala_demo.world import Region, School, derive_seed

FORMS = (
    "уроки педагогов ведущей школы",
    "наставничество и взаимопосещение уроков",
    "совместные методические объединения",
)
LEADERS_PER_MUNICIPALITY = 2
PAIRED_SHARE = 0.75
"""Share of a municipality's designed ШНОР schools given a pair each year (not all: the
network-cooperation share then has something to show)."""


def _plain(s: School) -> bool:
    designed = (s.low_results, s.poor_context, s.nonobjective_vpr, s.nonobjective_journal,
                s.boundary_anomaly)  # fmt: skip
    return not any(designed)


def leaders(region: Region, municipality: int) -> list[School]:
    """The municipality's schools with the highest results (by the designed ability)."""
    local = [s for s in region.schools if s.municipality == municipality and _plain(s)]
    return sorted(local, key=lambda s: (-s.mean_ability, s.index))[:LEADERS_PER_MUNICIPALITY]


def network_pairs(region: Region) -> Iterator[dict[str, Any]]:
    for year in region.years[-2:]:
        rng = random.Random(derive_seed(region.spec.seed, "network-pairs", year))
        start = int(year[:4])
        for mi in range(len(region.municipalities)):
            leads = leaders(region, mi)
            weak = [s for s in region.schools if s.municipality == mi and s.low_results]
            if not leads:
                continue
            for k, s in enumerate(sorted(weak, key=lambda s: s.index)):
                if rng.random() > PAIRED_SHARE:
                    continue
                yield {
                    "school_id": s.id,
                    "leading_school_id": leads[k % len(leads)].id,
                    "academic_year": year,
                    "active": True,
                    "since": dt.date(start, 9, rng.randint(5, 28)),
                    "form": rng.choice(FORMS),
                }
