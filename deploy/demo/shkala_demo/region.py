"""A realistic synthetic region, seeded and sized by a :class:`RegionSpec`.

>>> region = build_region(TINY)
>>> sorted(region.designed_low_results)  # the schools built to be ШНОР
['sch-0002']
>>> next(rows(region, "vpr"))["student_id"].startswith("S-")  # raw source ids, never names
True

``rows(region, kind)`` yields the JSON-API rows of one upload format (field names of
``shkala_contracts.formats.FORMATS[kind]``); ``write_region(region, out_dir, fmt)`` writes the
CSV/XLSX files officials upload, one per format kind. See ``deploy/demo/README.md``.
"""

from __future__ import annotations

from shkala_demo.facts import KINDS, native_rows, rows
from shkala_demo.files import Written, write_region
from shkala_demo.protocols import EGE_HIGH_SCORE, EGE_MINIMUM, OGE, VPR
from shkala_demo.world import (
    DEFAULT,
    TINY,
    Municipality,
    Region,
    RegionSpec,
    School,
    Student,
    Teacher,
    build_region,
)

__all__ = [
    "DEFAULT",
    "EGE_HIGH_SCORE",
    "EGE_MINIMUM",
    "KINDS",
    "OGE",
    "TINY",
    "VPR",
    "Municipality",
    "Region",
    "RegionSpec",
    "School",
    "Student",
    "Teacher",
    "Written",
    "build_region",
    "native_rows",
    "rows",
    "write_region",
]
