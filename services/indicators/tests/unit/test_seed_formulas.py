"""Seed 002's shared formulas and the catalogue's sources (hand-computed expectations)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from shkala_indicators.domain import catalogue as cat
from shkala_indicators.domain.seed_formulas import (
    ENROLLED,
    PARTICIPANTS,
    YearCounts,
    correlation,
    correlation_parts,
    lowest,
    mark2_parts,
    next_period,
    previous_period,
)


def test_periods() -> None:
    assert previous_period("2025/26") == "2024/25"
    assert previous_period("2000/01") == "1999/00"
    assert next_period("2024/25") == "2025/26"
    assert next_period("1999/00") == "2000/01"


def test_pearson_and_spearman_from_counts() -> None:
    # perfectly ordered pairs: both are 1; reversed: -1
    assert correlation({(2, 2): 1, (3, 3): 1, (5, 5): 1}, "pearson") == pytest.approx(1.0)
    assert correlation({(2, 5): 1, (3, 4): 1, (5, 2): 1}, "spearman") == pytest.approx(-1.0)
    # Pearson's r by hand: x = 2,3,4 ; y = 2,4,3 -> mean 3, 3; sxy = (-1)(-1)+0+(1)(0) = 1;
    # sxx = 2, syy = 2 -> r = 0.5
    assert correlation({(2, 2): 1, (3, 4): 1, (4, 3): 1}, "pearson") == pytest.approx(0.5)
    # Spearman with ties: x = 2,2,3 (mid-ranks 1.5,1.5,3), y = 3,4,5 (ranks 1,2,3):
    # mean 2, 2; sxy = (-.5)(-1) + (-.5)(0) + (1)(1) = 1.5; sxx = .25+.25+1 = 1.5; syy = 2
    assert correlation({(2, 3): 1, (2, 4): 1, (3, 5): 1}, "spearman") == pytest.approx(
        1.5 / math.sqrt(1.5 * 2)
    )
    # counts weigh like repeated pairs: (2,2) twice, (4,4), (4,2): mean x 3, y 2.5;
    # sxy = .5 + .5 + 1.5 - .5 = 2; sxx = 4; syy = .25 + .25 + 2.25 + .25 = 3
    assert correlation({(2, 2): 2, (4, 4): 1, (4, 2): 1}, "pearson") == pytest.approx(
        2 / math.sqrt(12)
    )
    assert correlation({(4, 2): 3, (4, 5): 2}, "spearman") is None  # ВПР mark never varies
    with pytest.raises(ValueError, match="kendall"):
        correlation({(2, 2): 1}, "kendall")


def test_correlation_parts_carry_n_and_the_minimum() -> None:
    table = {(2, 2): 3, (3, 3): 3, (4, 5): 4}
    num, n = correlation_parts(table, "pearson", 10) or (0, 0)
    assert n == 10
    assert num / n == pytest.approx(correlation(table, "pearson"))
    assert correlation_parts(table, "pearson", 11) is None


def test_mark2_parts_seed_and_participants() -> None:
    this = YearCounts(3, 2, 40, frozenset({5, 8}), {"enrolled_grade_5": 22, "enrolled_grade_8": 21})
    prev = YearCounts(1, 1, 18, frozenset({5}), {"enrolled_grade_5": 20})
    assert mark2_parts(ENROLLED, [this, prev]) == (3.0, 63.0)  # students with "2" / rolls
    assert mark2_parts(PARTICIPANTS, [this, prev]) == (4.0, 58.0)  # results / results
    assert mark2_parts(ENROLLED, [this, None]) is None  # a year missing: no value
    no_roll = YearCounts(1, 1, 18, frozenset({8}), {"enrolled_grade_5": 20})
    assert mark2_parts(ENROLLED, [this, no_roll]) is None  # a roll missing: no value


def test_lowest_share_count_and_ties() -> None:
    v = {"a": 40.0, "b": 50.0, "c": 50.0, "d": 70.0, "e": 90.0, "f": 95.0}
    assert lowest(v, share=0.1) == {"a"}  # ceil(0.6) = 1
    assert lowest(v, share=0.3) == {"a", "b", "c"}  # ceil(1.8) = 2; c ties with b
    assert lowest(v, count=4) == {"a", "b", "c", "d"}
    assert lowest(v, count=100) == set(v)
    assert lowest({}, share=0.5) == set()
    assert lowest(v, share=1.0) == set(v)


CAT = cat.load()


def test_every_threshold_weight_parameter_and_list_names_its_source() -> None:
    d = CAT.describe()
    ok = ("seed 00", cat.NOT_IN_SEEDS)
    for name in d["parameters"]:
        assert d["parameter_sources"][name].startswith(ok), name
    for i in d["indicators"]:
        assert i["sources"]["formula"].startswith(ok), i["id"]
        if i["threshold"]:
            assert i["sources"]["threshold"].startswith(ok), i["id"]
        if i["criteria"]:
            assert i["sources"]["criteria"].startswith(ok), i["id"]
    for rule in d["lists"]:
        assert rule["source"].startswith(ok), rule["list"]
    assert d["rating"]["source"].startswith(ok)
    # what no seed gives says so, what a seed gives names the file
    assert d["parameter_sources"]["ege_high_score"].startswith(cat.NOT_IN_SEEDS)
    assert "002_2937984b5dfd35f2.txt" in d["parameter_sources"]["vpr_grades"]
    wi = CAT.get("wellbeing_index").sources
    assert wi["criteria"].startswith(cat.NOT_IN_SEEDS)
    shnsu = next(r for r in CAT.lists if r.name == "ШНСУ")
    assert shnsu.rule == "lowest"
    assert "самым низким индексом" in shnsu.source


def _raw() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(cat.DEFAULT_FILE.read_text(encoding="utf-8"))


def test_a_rule_without_a_source_is_refused() -> None:
    raw = _raw()
    del raw["parameter_sources"]["ege_high_score"]
    with pytest.raises(cat.CatalogueError, match="parameter ege_high_score"):
        cat.parse(raw)
    raw = _raw()
    del next(i for i in raw["indicators"] if i["id"] == "wellbeing_index")["sources"]["criteria"]
    with pytest.raises(cat.CatalogueError, match=r"wellbeing_index\.sources\.criteria"):
        cat.parse(raw)
    raw = _raw()
    raw["lists"]["ШНОР"]["source"] = "we decided"
    with pytest.raises(cat.CatalogueError, match="list ШНОР"):
        cat.parse(raw)


def test_relative_list_rule_is_checked() -> None:
    raw = _raw()
    raw["lists"]["ШНСУ"]["bottom_count"] = 5  # share and count together
    with pytest.raises(cat.CatalogueError, match="bottom_share or bottom_count"):
        cat.parse(raw)
    raw = _raw()
    raw["lists"]["ШНСУ"]["bottom_share"] = 1.5
    with pytest.raises(cat.CatalogueError, match=r"\(0, 1\]"):
        cat.parse(raw)


def test_override_marks_what_it_changed(tmp_path: Path) -> None:
    over = tmp_path / "o.yaml"
    over.write_text(
        yaml.safe_dump(
            {
                "region": "r77",
                "version": "3",
                "parameters": {"vpr_grades": [5]},
                "indicators": {
                    "vpr_mark2_share_2y_math": {"threshold": {"risk_if": "above", "value": 15}}
                },
                # the absolute cut as the region's option
                "lists": {"ШНСУ": {"rule": "risk_count", "min_count": 1, "bottom_share": None}},
            }
        ),
        encoding="utf-8",
    )
    c = cat.load(override=over)
    assert c.parameter_sources["vpr_grades"] == "region override r77.3"
    assert c.get("vpr_mark2_share_2y_math").sources["threshold"] == "region override r77.3"
    shnsu = next(r for r in c.lists if r.name == "ШНСУ")
    assert (shnsu.rule, shnsu.source) == ("risk_count", "region override r77.3")
    assert c.get("ege_high_scorers_share").sources == CAT.get("ege_high_scorers_share").sources
