"""The explanations' use cases on in-memory pages and read table (the World of
test_read_views: s1 has ВПР maths marks 2, 4, 4, 5; s2 2, 3; s3 4, 5 — counted by hand)."""

from __future__ import annotations

import types
from typing import Any

import pytest
from test_read_table import P
from test_read_views import MATH, T0, T1, T2, World, at, no_freshness, result

from shkala_contracts.events.reference import VprTaskPlannedResult
from shkala_indicators.adapters.store import Generation
from shkala_indicators.service_layer.read_analyses import Analyses
from shkala_indicators.service_layer.read_explain import Explanations, UnknownList


@pytest.fixture
def world() -> World:
    w = World()
    w.read.freshness = no_freshness  # type: ignore[method-assign]
    # the store's own newest-version-wins reading, over the fake's pages
    w.pages.current_facts = types.MethodType(Generation.current_facts, w.pages)  # type: ignore[attr-defined]
    return w


async def test_a_value_is_explained_by_its_results(world: World) -> None:
    got = await Explanations(world.read).indicator("s1", MATH, P)
    assert got["itemised"] is True
    assert (got["numerator"], got["denominator"], got["value"]) == (1, 4, 25.0)
    # the one «2» by its natural key and pseudonym; the other three only in the denominator
    assert [i["key"]["student"] for i in got["in_numerator"]] == [f"p{0:024d}"]
    assert sorted(i["key"]["student"] for i in got["in_denominator_only"]) == [
        f"p{n:024d}" for n in (1, 2, 3)
    ]
    assert got["rule"]["numerator_text"].startswith("результаты ВПР по математике")
    assert got["rule"]["parameters"] == {"vpr_grades": [5, 8]}
    assert got["definition_version"] == world.read.catalogue.version
    assert got["matches_stored"] is True


async def test_a_stale_stored_value_is_shown_as_not_matching(world: World) -> None:
    world.later_data()  # 4 more «2» and a correction: 6 of 8
    got = await Explanations(world.read).indicator("s1", MATH, P)
    assert (got["numerator"], got["denominator"]) == (6, 8)
    assert len(got["in_numerator"]) == 6
    assert got["matches_stored"] is True
    world.table.values[(MATH, "s1", P)]["numerator"] = 5.0  # the projection behind
    assert (await Explanations(world.read).indicator("s1", MATH, P))["matches_stored"] is False


async def test_a_list_entry_names_its_criteria(world: World) -> None:
    got = await Explanations(world.read).list_entry("ШНОР", "s2", P)
    by = {c["indicator_id"]: c for c in got["criteria"]}
    # s2: one «2» of two results — 50 % over the 20 % threshold, but the one-year share is
    # not a ШНОР criterion (the two-year one is, and needs last year): not on the list
    assert got["member"] is False
    assert by["vpr_mark2_share_2y_math"]["value"] is None
    assert got["fired_count"] == 0
    with pytest.raises(UnknownList):
        await Explanations(world.read).list_entry("нет такого", "s2", P)


async def test_a_rating_score_is_explained_by_its_components(world: World) -> None:
    got = await Explanations(world.read).rating("m1", "s2", P)
    assert got["rated"] is True
    maths = next(c for c in got["explanation"]["components"] if c["indicator_id"] == MATH)
    # «2» shares 25 (s1), 50 (s2), 0 (s3); lower is better: s2 is the worst → standing 0
    assert (maths["value"], maths["min"], maths["max"], maths["standing"]) == (50.0, 0.0, 50.0, 0)
    assert maths["source"]["explain"] == f"/schools/s2/indicators/{MATH}/explain?period={P}"
    assert got["explanation"]["consistent"] is True


async def test_a_value_explained_under_an_earlier_definition_version(world: World) -> None:
    now = await Explanations(world.read).indicator("s1", MATH, P)
    then = await Explanations(world.read).indicator("s1", MATH, P, "2025.1")
    # 1 «2» of 4 = 25 %: at risk over today's 20 %, not over 2025.1's 25 % («выше 25»)
    assert (then["numerator"], then["denominator"]) == (1, 4)
    assert then["definition_version"] == "2025.1"
    assert then["rule"]["threshold"] == {"risk_if": "above", "value": 25.0}
    assert (now["at_risk"], then["at_risk"]) == (True, False)
    assert then["stored"] is None
    assert then["matches_stored"] is None  # the stored value is today's definitions'


async def test_facts_read_again_are_the_kept_ones_until_the_projection_moves(
    world: World,
) -> None:
    """The facts a read asks for are kept while every partition's checkpoint stands still,
    and read afresh as soon as one moves (a correction is never answered from before it)."""
    positions = {"facts|0": 10}

    async def checkpoints() -> list[dict[str, object]]:
        return [{"positions": dict(positions)}]

    world.pages.checkpoints = checkpoints  # type: ignore[method-assign]
    world.read._checkpoints = None
    before = await world.read.current_facts(["s1"], P)
    scans = world.pages.scans
    assert await world.read.current_facts(["s1"], P) == before
    assert world.pages.scans == scans  # kept: no second scan of the pages
    world.later_data()  # 4 more «2» and a correction, applied at a later position
    positions["facts|0"] = 20
    world.read._checkpoints = None  # past the checkpoints' short cache
    after = await world.read.current_facts(["s1"], P)
    assert world.pages.scans == scans + 1
    assert sum(1 for f in after if f.get("mark") == 2) == 6


def with_tasks(fact: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {**fact, "data": {**fact["data"], "tasks": tasks}}


async def test_vpr_tasks_are_kept_until_the_facts_or_the_planned_result_mapping_move(
    world: World,
) -> None:
    """The card's ВПР section, plans' proposals and the note ask one school's ВПР tasks in
    turn: worked out once while nothing moves; a new fact or a planned-result mapping is in
    the next answer."""
    positions = {"facts|0": 10}

    async def checkpoints() -> list[dict[str, object]]:
        return [{"positions": dict(positions)}]

    world.pages.checkpoints = checkpoints  # type: ignore[method-assign]
    world.read._checkpoints = None
    tasks = [
        {"task": "1", "points": 0, "max_points": 1},
        {"task": "2", "points": 1, "max_points": 1},
    ]
    world.pages.add("s3", P, 0, [with_tasks(result("s3", 9, 3, T0, 50), tasks)])
    analyses = Analyses(world.read)
    first = await analyses.vpr_tasks(["s3"], P, None)
    # task 1: 0 of 1 point → 0 %, a deficit below the 50 % threshold; task 2: 1 of 1 → 100 %
    assert [(r["task"], r["rate"], r["deficit"]) for r in first["tasks"]] == [
        ("1", 0.0, True),
        ("2", 100.0, False),
    ]
    assert first["mapping"] == "missing"
    again = await analyses.vpr_tasks(["s3"], P, None)
    assert again["tasks"] is first["tasks"]  # kept: not worked out again
    # the mapping of task 1 arrives on the reference topic (the read table folds it)
    mapped = VprTaskPlannedResult(
        academic_year=P, subject="математика", grade=5, task="1",
        planned_result_code="1.1", planned_result="действия с дробями",
    )  # fmt: skip
    world.table.fold([at(mapped, "shkala.reference.v1", 0, T1)])
    after = await analyses.vpr_tasks(["s3"], P, None)
    assert after["mapping"] != "missing"
    assert after["tasks"][0]["planned_results"][0]["text"] == "действия с дробями"
    # a new fact at a later position: the next answer is worked out from it
    one = [{"task": "1", "points": 1, "max_points": 1}]
    world.pages.add("s3", P, 0, [with_tasks(result("s3", 10, 5, T2, 60), one)])
    positions["facts|0"] = 20
    world.read._checkpoints = None
    latest = await analyses.vpr_tasks(["s3"], P, None)
    assert latest["tasks"][0]["rate"] == 50.0  # task 1: 1 of 2 points
