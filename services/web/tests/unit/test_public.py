"""The public page never shows a value over fewer people than the minimum group."""

from __future__ import annotations

from shkala_web.domain.public import count, value


def test_small_groups_are_suppressed() -> None:
    assert value({"value": 12.5, "denominator": 9}, 10).suppressed
    assert value({"value": 12.5, "denominator": 9}, 10).value is None
    shown = value({"value": 12.5, "denominator": 10}, 10)
    assert (shown.value, shown.suppressed) == (12.5, False)
    assert not value(None, 10).suppressed


def test_counts_below_the_minimum_are_suppressed_zero_is_not() -> None:
    assert count(3, 10).suppressed
    assert count(0, 10).value == 0
    assert count(12, 10).value == 12


def test_a_flag_rolls_up_to_schools_and_is_shown() -> None:
    from shkala_web.domain.format import rollup_value

    flagged = {"value": 0.1667, "numerator": 1, "denominator": 6}
    assert not value(flagged, 10, "flag").suppressed
    assert rollup_value(flagged, "flag") == "1 из 6 ОО"
    assert (
        rollup_value({"value": 12.5, "numerator": 1, "denominator": 8}, "percent") == "12,5\u00a0%"
    )
