"""Seed 003's expected results as target values per year: loaded with their sources, met
or not by a value of the year, overridden by a region (its source then says so), and a
malformed target refused with the indicator and the year named."""

from __future__ import annotations

import copy

import pytest
import yaml

from shkala_indicators.domain import catalogue as cat

RAW = yaml.safe_load(cat.DEFAULT_FILE.read_text(encoding="utf-8"))


def test_programme_indicators_carry_targets_with_sources() -> None:
    c = cat.parse(RAW)
    with_targets = {i.id: i for i in c.indicators if i.targets is not None}
    # seed 003 1.1, 3.1, 3.3, 3.5, 3.6
    assert set(with_targets) == {
        "vpr_quality_dynamics_ooo", "gia_below_minimum_share_sat",
        "functional_literacy_dynamics", "tochka_rosta_school", "additional_education_share",
    }  # fmt: skip
    for ind in with_targets.values():
        t = ind.describe()["targets"]
        assert t["indicator"].startswith("seed 003_a65b2d89a1faf16b.txt: показатель")
        assert t["values_source"] == "regional setting, not in the seeds " + (
            "(seed 003 states the expected results without figures)"
        )
        assert t["expected"] == ind.better  # «увеличение» of a good share, a decrease of a bad one


def test_met_follows_the_expected_direction() -> None:
    c = cat.parse(RAW)
    up = c.get("tochka_rosta_school")  # 2025/26: 70, up
    down = c.get("gia_below_minimum_share_sat")  # 2025/26: 3, down
    assert up.target("2025/26", 70.0) == {
        "period": "2025/26", "value": 70.0, "expected": "up", "met": True,
    }  # fmt: skip
    assert up.target("2025/26", 69.9)["met"] is False
    assert down.target("2025/26", 2.5)["met"] is True
    assert down.target("2025/26", 3.5)["met"] is False
    assert up.target("2030/31", 99.0) == {
        "period": "2030/31", "value": None, "expected": "up", "met": None,
    }  # fmt: skip
    assert up.target("2025/26", None)["met"] is None
    assert c.get("vpr_success_share_noo").target("2025/26", 50.0) is None  # no programme one


def test_a_region_overrides_the_figures_and_says_so() -> None:
    over = {"region": "tula", "version": "3",
            "indicators": {"additional_education_share": {"targets": {"2025/26": 72}}}}  # fmt: skip
    ind = cat.parse(RAW, over).get("additional_education_share")
    assert ind.targets is not None
    assert ind.targets.of("2025/26") == 72.0
    assert ind.targets.of("2024/25") == 75.0  # the others stay
    assert ind.targets.values_source == "region override tula.3"


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ({"values": {"2025/27": 1}}, "'2025/27' is not an academic year"),
        ({"values": {"2025/26": "много"}}, "the target of 2025/26 must be a number"),
        ({"expected": "sideways"}, "expected must be up or down"),
        ({"values_source": "from a meeting"}, "values_source: source must name the seed"),
    ],
)
def test_bad_targets_are_refused_naming_where(targets: dict, message: str) -> None:
    raw = copy.deepcopy(RAW)
    spec = next(i for i in raw["indicators"] if i["id"] == "tochka_rosta_school")["targets"]
    spec.update(targets)
    with pytest.raises(cat.CatalogueError, match=r"tochka_rosta_school\.targets") as err:
        cat.parse(raw)
    assert message in str(err.value)
