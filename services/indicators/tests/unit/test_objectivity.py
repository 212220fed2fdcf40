"""Objectivity beyond ВПР (domain/objectivity.py): each value and flag against a plain
calculation written from its wording, not from the module's own code."""

from __future__ import annotations

import math
from fractions import Fraction

from indicators_testkit import expected_school_values, generate

from shkala_indicators.domain import objectivity
from shkala_indicators.domain.catalogue import load
from shkala_indicators.domain.compute import Value
from shkala_indicators.domain.stats import Rules, compute_values, stats_of

CAT = load()
NEW = (
    "oge_lowered_share", "oge_confirmed_share", "oge_raised_share", "vpr_quality_share_g8",
    "oge_quality_share", "oge_boundary_band_share", "federal_nonobjectivity_list",
)  # fmt: skip


def test_new_indicators_equal_the_plain_calculation_on_a_generated_region() -> None:
    reg = generate()
    facts = reg.final_facts()
    want = expected_school_values(facts)
    rules = Rules(CAT)
    cells: dict[tuple[str, str], list[tuple[str, dict]]] = {}
    for i, f in enumerate(facts):
        row = {"type": f.event_type, **f.model_dump(mode="json")}
        cells.setdefault((f.school_id, f.academic_year), []).append((str(i), row))
    seen = 0
    for (school, year), rows in cells.items():
        got = compute_values(rules, stats_of(rules, rows))
        for ind in NEW:
            w = want.get((ind, school, year))
            g = got.get(ind)
            assert (None if g is None else (g.numerator, g.denominator)) == w, (ind, school, year)
            seen += w is not None
    assert seen > 40
    # the federal list: one school listed, one taken off (flag 0), the rest have no row
    fed = {k[1]: v for k, v in want.items() if k[0] == "federal_nonobjectivity_list"}
    assert sorted(v[0] for v in fed.values()) == [0.0, 1.0]


def test_binomial_upper_tail_equals_enumeration() -> None:
    for n, p in ((10, 0.5), (17, 0.61), (30, 0.2)):
        for k in (0, 1, n // 2, n - 1, n):
            exact = sum(
                Fraction(math.comb(n, i)) * Fraction(p) ** i * (1 - Fraction(p)) ** (n - i)
                for i in range(k, n + 1)
            )
            assert math.isclose(
                objectivity.binomial_upper_tail(k, n, p), float(exact), rel_tol=1e-9
            )


def v(num: float, den: float) -> Value:
    return Value.of(num, den, 100.0)


def test_boundary_excess_against_the_region_share() -> None:
    ind = "oge_boundary_band_share"
    spec = {"rule": "boundary_excess", "min_ratio": 1.3, "max_p_value": 0.001, "min_results": 10}
    # region: 20 + 6 + 10 + 20 just above of 30 + 12 + 20 + 20 near the line → 56/82
    values = {
        "a": {ind: v(20, 30)},
        "b": {ind: v(6, 12)},
        "c": {ind: v(10, 20)},
        "d": {ind: v(20, 20)},  # everyone near the line sits at it or just above
    }
    flags = objectivity.boundary_excess(ind, spec, values, "2025/26")
    p0 = 56 / 82
    # d: share 1.0, ratio 1/p0 = 1.46 ≥ 1.3, P(X ≥ 20 | 20, p0) = p0^20 ≈ 5e-4 ≤ 0.001
    assert [f.school_id for f in flags] == ["d"]
    assert math.isclose(flags[0].figures["p_value"], p0**20, rel_tol=1e-9)
    assert math.isclose(flags[0].figures["ratio"], 1 / p0, rel_tol=1e-5)
    # too few results near the line: no flag however skewed
    values["d"] = {ind: v(9, 9)}
    assert objectivity.boundary_excess(ind, spec, values, "2025/26") == []


def test_vpr_not_backed_by_the_cohorts_later_ogE() -> None:
    spec = {"rule": "vpr_not_backed", "later_indicator": "oge_quality_share",
            "above_region_pp": 15, "min_drop_pp": 20, "min_results": 10}  # fmt: skip
    vpr, oge = "vpr_quality_share_g8", "oge_quality_share"
    earlier = {  # ВПР 8 кл.: region 60 %
        "inflated": {vpr: v(19, 20)},  # 95 %: +35
        "strong": {vpr: v(18, 20)},  # 90 %: +30
        "plain": {vpr: v(9, 20)},
        "rest": {vpr: v(26, 60)},
    }
    later = {  # ОГЭ a year later: region 50 %
        "inflated": {oge: v(11, 20)},  # 55 %: +5 → drop 30 ≥ 20
        "strong": {oge: v(17, 20)},  # 85 %: +35 → backed
        "plain": {oge: v(10, 20)},
        "rest": {oge: v(22, 60)},
    }
    assert sum(x[vpr].numerator for x in earlier.values()) / 120 == 0.6
    assert sum(x[oge].numerator for x in later.values()) / 120 == 0.5
    flags = objectivity.vpr_not_backed(vpr, spec, earlier, later, "2025/26", "2024/25")
    assert [f.school_id for f in flags] == ["inflated"]
    assert math.isclose(flags[0].figures["vpr_gap_pp"], 35)
    assert math.isclose(flags[0].figures["later_gap_pp"], 5)


def test_screen_reads_the_rules_from_the_catalogue_and_the_earlier_year() -> None:
    asked: list[str] = []

    def region_values(period: str) -> dict[str, dict[str, Value]]:
        asked.append(period)
        return {}

    assert objectivity.screen(CAT, region_values, "2025/26") == {}
    assert set(asked) == {"2025/26", "2024/25"}
