from __future__ import annotations

import pytest

from shkala_demo.region import TINY, Region, build_region


@pytest.fixture(scope="session")
def tiny() -> Region:
    return build_region(TINY)
