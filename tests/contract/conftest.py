"""schemathesis 4.32's lazy (fixture) schemas read ``request.node._nodeid``, which pytest 9.2
no longer sets on test items; give it the item's node id so it can name each operation."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _schemathesis_node_id(request: pytest.FixtureRequest) -> None:
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
