"""The ВПР tasks adapter: indicators' deficit rows become task deficits (planned result when
a row has one; a row of another shape is skipped), 404 means none, other failures say the
service did not answer, and an answer is kept for its TTL."""

import httpx
import pytest

from shkala_plans.adapters.vpr_tasks import HttpVprTasks
from shkala_plans.service_layer.proposals import VprTasksUnavailable
from shkala_runtime.settings import ServiceSettings

ROW = {"subject": "математика", "grade": 5, "task": "7", "points": 22, "max_points": 60,
       "students": 30, "rate": 36.666667, "deficit": True}  # fmt: skip


def adapter(status=200, rows=None, now=None):
    asked = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append((request.url.path, request.url.params["period"]))
        body = {"threshold": 50, "definition_version": "4", "deficits": rows or [], "tasks": []}
        return httpx.Response(status, json=body)

    clock = now or (lambda: 0.0)
    a = HttpVprTasks(
        ServiceSettings(), "http://ind", transport=httpx.MockTransport(answer), clock=clock
    )
    return a, asked


async def test_rows_become_deficits_by_planned_result_when_given():
    rows = [ROW, {**ROW, "task": "8", "planned_result": "Решать задачи на части"}, {"task": "x"}]
    a, asked = adapter(rows=rows)
    found = await a.deficits("sch-1", "2025/26")
    assert asked == [("/schools/sch-1/vpr-tasks", "2025/26")]
    assert [(d.task, d.planned_result) for d in found] == [
        ("7", None),
        ("8", "Решать задачи на части"),
    ]
    assert (found[0].rate, found[0].threshold, found[0].points, found[0].max_points) == (
        36.666667, 50.0, 22.0, 60.0,
    )  # fmt: skip
    assert found[0].definition_version == "4"


async def test_an_unknown_school_has_none_and_a_failure_is_unavailable():
    a, _ = adapter(status=404)
    assert await a.deficits("sch-9", "2025/26") == []
    a, _ = adapter(status=503)
    with pytest.raises(VprTasksUnavailable, match="503"):
        await a.deficits("sch-1", "2025/26")


async def test_an_answer_is_kept_for_its_ttl():
    t = [0.0]
    a, asked = adapter(rows=[ROW], now=lambda: t[0])
    await a.deficits("sch-1", "2025/26")
    t[0] = 59.0
    await a.deficits("sch-1", "2025/26")
    assert len(asked) == 1
    t[0] = 61.0
    await a.deficits("sch-1", "2025/26")
    assert len(asked) == 2
