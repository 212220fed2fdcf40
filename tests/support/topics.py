"""Test topics are deleted when their test is done.

Every test prefixes its topics with a run id; a suite creates thousands of them, and a single
broker keeps three files open per partition: left behind, they exhaust its open-file limit
(seen: "Too many open files" stopped the shared broker). Prefixes are recorded as they are
handed out and deleted after the test (``test_settings``) or at the end of the session
(service processes of end-to-end tests), never anyone else's.
"""

from __future__ import annotations

import contextlib

PREFIXES: set[tuple[str, str]] = set()  # (bootstrap servers, topic prefix)


def remember(bootstrap: str, prefix: str) -> None:
    if prefix:
        PREFIXES.add((bootstrap, prefix))


def delete_topics(bootstrap: str, prefix: str, timeout_s: float = 30.0) -> int:
    """Delete every topic starting with ``prefix``; returns how many were asked to go."""
    from confluent_kafka.admin import AdminClient

    if not prefix:
        return 0  # never the unprefixed (real) topics
    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [t for t in admin.list_topics(timeout=timeout_s).topics if t.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=timeout_s).values():
            # already gone, or the broker is down: nothing to keep
            with contextlib.suppress(Exception):
                future.result(timeout_s)
    PREFIXES.discard((bootstrap, prefix))
    return len(names)


def delete_remembered() -> None:
    for bootstrap, prefix in sorted(PREFIXES):
        with contextlib.suppress(Exception):
            delete_topics(bootstrap, prefix)
