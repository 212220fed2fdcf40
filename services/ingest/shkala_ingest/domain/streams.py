"""Where the state of a fact stream (its content hash and version) is kept.

Per school and fact family (``sch-0001.vpr_result``): an import reads the state of the streams
it can touch and no others (a school-context upload must not read the school's hundreds of
attendance streams; FerretDB reads a collection whole).
"""

from __future__ import annotations

FACT_FAMILY = "ru.shkala.fact."


def stream_partition(school: str, originator_id: str) -> str:
    """``school.family`` of a stream, from its originator id ``ru.shkala.fact.<family>:<hash>``."""
    family = originator_id.rpartition(":")[0].removeprefix(FACT_FAMILY)
    return f"{school}.{family}"
