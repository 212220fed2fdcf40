"""The demo region's network pairs: leading schools from the high results, partners from the
designed ШНОР schools, both in one municipality; every row a valid fact."""

from __future__ import annotations

from shkala_contracts.events.org_units import NetworkPairFormed
from shkala_demo.facts import rows
from shkala_demo.world import DEFAULT, build_region


def test_pairs_lead_from_the_high_results_to_the_designed_low_results() -> None:
    region = build_region(DEFAULT)
    pairs = list(rows(region, "network-pairs"))
    assert len(pairs) >= 10, "the demo region should have a few pairs"
    by_id = {s.id: s for s in region.schools}
    for p in pairs:
        NetworkPairFormed.model_validate(p)  # the contract accepts every row
        lead, partner = by_id[p["leading_school_id"]], by_id[p["school_id"]]
        assert partner.id in region.designed_low_results
        assert lead.municipality == partner.municipality
        local = sorted(
            (s.mean_ability for s in region.schools if s.municipality == lead.municipality),
            reverse=True,
        )
        # a leader stands in the upper half of its municipality by results
        assert lead.mean_ability >= local[len(local) // 2]
        assert not lead.low_results
        assert lead.id not in region.designed_poor_context
    years = {p["academic_year"] for p in pairs}
    assert years == set(region.years[-2:])
    latest = [p for p in pairs if p["academic_year"] == region.years[-1]]
    # not every designed ШНОР school is paired: the network-cooperation share is below 100 %
    assert 0 < len(latest) < len(region.designed_low_results)
