"""The sufficient statistics give what a computation over the current facts gives, also after
corrections subtract the facts they replace (the generated region of the test kit)."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest
from indicators_testkit import generate

from shkala_indicators.domain import catalogue as cat
from shkala_indicators.domain.compute import compute_school, compute_teachers
from shkala_indicators.domain.rows import compact
from shkala_indicators.domain.seed_formulas import previous_period
from shkala_indicators.domain.stats import (
    CellStats,
    Rules,
    compute_teacher_values,
    compute_values,
    stats_of,
)

CAT = cat.load()
RULES = Rules(CAT)
DYNAMICS = {i.id for i in CAT.indicators if i.kind == "dynamics"}  # they need the earlier year


def rows(facts: list[Any]) -> dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]:
    cells: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for f in facts:
        cells[(f.school_id, f.academic_year)].append(
            (f.originator_id(), compact(f.model_dump(mode="json"), f.event_type))
        )
    return cells


def test_counters_equal_the_computation_over_current_facts() -> None:
    reg = generate(seed=5, n_mun=2, per_mun=4)
    cells = rows(reg.final_facts())
    assert cells
    two_years = 0
    for cell, facts in cells.items():
        stats = stats_of(RULES, facts)
        prev = cells.get((cell[0], previous_period(cell[1])))
        earlier_stats = [stats_of(RULES, prev) if prev else None]
        earlier_facts = [[r for _, r in prev] if prev else []]
        got = compute_values(RULES, stats, earlier_stats)
        assert got == compute_school(CAT, [r for _, r in facts], earlier_facts), cell
        two_years += "vpr_mark2_share_2y_math" in got
        # without the earlier years the shares «за 2 года» are left out, never guessed
        alone = compute_school(CAT, [r for _, r in facts])
        assert "vpr_mark2_share_2y_math" not in alone
        assert {k: v for k, v in got.items() if "_2y_" not in k and k not in DYNAMICS} == alone, (
            cell
        )
        assert compute_teacher_values(RULES, stats) == compute_teachers(
            CAT, [r for _, r in facts]
        ), cell
    assert two_years  # the generated region has two years: the two-year shares are computed


def test_corrections_subtract_what_they_replace() -> None:
    reg = generate(seed=9, n_mun=1, per_mun=3)
    originals = rows(reg.originals)
    final = rows(reg.final_facts())
    rng = random.Random(3)
    for cell, facts in originals.items():
        stats = CellStats()
        current: dict[str, dict[str, Any]] = {}
        order = list(facts)
        rng.shuffle(order)
        for oid, row in order:
            stats.apply(RULES.contribution(row), 1, oid, row, RULES.absence_lessons)
            current[oid] = row
        # the corrections, in random order: each subtracts the fact it replaces (or that
        # moved to another cell) first
        wanted = dict(final.get(cell, []))
        for oid in [o for o in current if current[o] != wanted.get(o)]:
            old = current.pop(oid)
            stats.apply(RULES.contribution(old), -1, oid, old, RULES.absence_lessons)
        for oid, row in wanted.items():
            if oid not in current:
                stats.apply(RULES.contribution(row), 1, oid, row, RULES.absence_lessons)
                current[oid] = row
        want = compute_school(CAT, list(current.values()))
        got = compute_values(RULES, stats)
        assert got.keys() == want.keys(), cell
        for k, v in want.items():
            assert (got[k].numerator, got[k].denominator) == pytest.approx(
                (v.numerator, v.denominator)
            ), (cell, k)
