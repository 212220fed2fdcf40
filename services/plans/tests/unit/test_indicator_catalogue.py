"""The indicators catalogue lookup (adapters/indicator_catalogue.py): read over HTTP from the
indicators service with a signed token, cached, re-read for an unknown id at most every
``miss_refresh_s``, an old copy kept when indicators does not answer."""

import httpx
import pytest

from shkala_contracts.events.plans import Better
from shkala_plans.adapters.indicator_catalogue import HttpIndicatorCatalogue
from shkala_plans.service_layer.services import CatalogueUnavailable
from shkala_runtime.auth import Role, decode_token
from shkala_runtime.settings import ServiceSettings

SETTINGS = ServiceSettings(region_id="r")


class Indicators:
    """The indicators service's /catalogue as a transport: its answer can change or fail."""

    def __init__(self) -> None:
        self.items = [
            {"id": "vpr_mark2_share_math", "better": "down", "direction": "low_results"},
            {"id": "ege_high_scorers_share", "better": "up", "direction": "low_results"},
        ]
        self.failing = False
        self.tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.failing:
            raise httpx.ConnectError("refused")
        self.tokens.append(request.headers["authorization"].removeprefix("Bearer "))
        assert request.url.path == "/catalogue"
        return httpx.Response(200, json={"definition_version": "v3", "indicators": self.items})


def catalogue(indicators: Indicators, now: list[float]) -> HttpIndicatorCatalogue:
    return HttpIndicatorCatalogue(
        SETTINGS,
        "http://indicators:8002/",
        ttl_s=300,
        miss_refresh_s=10,
        transport=httpx.MockTransport(indicators),
        clock=lambda: now[0],
    )


async def test_up_and_down_become_higher_and_lower_and_one_read_serves_many():
    ind, now = Indicators(), [0.0]
    c = catalogue(ind, now)
    assert await c.better("vpr_mark2_share_math") is Better.LOWER
    assert await c.better("ege_high_scorers_share") is Better.HIGHER
    assert await c.better("vpr_mark2_share_math") is Better.LOWER
    assert c.reads == 1
    principal = decode_token(SETTINGS, ind.tokens[0])
    assert (principal.role, principal.region) == (Role.REGION, "r")


async def test_an_unknown_id_is_re_read_at_most_every_few_seconds_then_found():
    ind, now = Indicators(), [0.0]
    c = catalogue(ind, now)
    assert await c.better("new_one") is None
    assert c.reads == 1
    now[0] = 5.0
    assert await c.better("new_one") is None  # within miss_refresh_s: no second read
    assert c.reads == 1
    ind.items.append({"id": "new_one", "better": "up"})
    now[0] = 11.0
    assert await c.better("new_one") is Better.HIGHER
    assert c.reads == 2


async def test_the_copy_expires_and_an_old_copy_serves_while_indicators_is_down():
    ind, now = Indicators(), [0.0]
    c = catalogue(ind, now)
    assert await c.better("ege_high_scorers_share") is Better.HIGHER
    ind.items[1]["better"] = "down"  # the region redefined it
    now[0] = 301.0
    assert await c.better("ege_high_scorers_share") is Better.LOWER
    ind.failing = True
    now[0] = 700.0
    assert await c.better("ege_high_scorers_share") is Better.LOWER  # the copy read earlier


async def test_never_read_and_indicators_down_is_unavailable():
    ind, now = Indicators(), [0.0]
    ind.failing = True
    with pytest.raises(CatalogueUnavailable, match="indicators:8002"):
        await catalogue(ind, now).better("vpr_mark2_share_math")
    status = HttpIndicatorCatalogue(
        SETTINGS,
        "http://indicators:8002",
        transport=httpx.MockTransport(lambda r: httpx.Response(401, json={})),
    )
    with pytest.raises(CatalogueUnavailable, match="401"):
        await status.better("vpr_mark2_share_math")


async def test_concurrent_first_lookups_read_the_catalogue_once():
    import asyncio

    ind, now = Indicators(), [0.0]
    c = catalogue(ind, now)
    found = await asyncio.gather(*(c.better("vpr_mark2_share_math") for _ in range(20)))
    assert set(found) == {Better.LOWER}
    assert c.reads == 1


def test_definitions_carry_the_catalogues_unit_and_targets_per_year():
    from shkala_plans.adapters.indicator_catalogue import parse_definitions

    doc = {
        "indicators": [
            {
                "id": "gia_below_min_share",
                "direction": "low_results",
                "name": {"ru": "Доля не преодолевших минимум"},
                "unit": "percent",
                "threshold": {"risk_if": "above", "value": 10},
                "targets": {"expected": "down", "values": {"2022/23": 5, "2021/22": 6}},
            },
            {"id": "plain", "direction": "talents", "targets": None},
            {"id": "odd", "direction": "talents", "targets": {"values": {"2021/22": "six"}}},
        ]
    }
    got = parse_definitions(doc)
    assert got["gia_below_min_share"].targets == (("2021/22", 6.0), ("2022/23", 5.0))
    assert got["gia_below_min_share"].target_expected == "down"
    assert got["gia_below_min_share"].unit == "percent"
    assert got["plain"].targets == ()
    assert got["odd"].targets == ()  # a figure that is not a number is not a target
