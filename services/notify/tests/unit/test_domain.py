"""Matching, texts, retry schedule, secrets and SSRF rules: pure, no infrastructure."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re

import pytest

from shkala_contracts import Envelope, Tenant
from shkala_contracts.events.indicators import (
    IndicatorValueChanged,
    ListMembershipChanged,
    MembershipChange,
    ObjectivityFlagRaised,
    RiskList,
    Scope,
    ThresholdCrossing,
)
from shkala_contracts.vocabulary import Direction
from shkala_notify.domain.cloudevents import structured
from shkala_notify.domain.ssrf import (
    TargetRefused,
    check_address,
    check_url,
    parse_networks,
)
from shkala_notify.domain.subscriptions import (
    EventFacts,
    Filters,
    Owner,
    RetrySchedule,
    check_secret,
    matches,
    new_secret,
    should_disable,
)
from shkala_notify.domain.texts import describe


def ce_of(event, region="r1", municipality="mun-a", school="sch-5"):
    env = Envelope.for_event(
        event,
        source="/shkala/indicators",
        tenant=Tenant(region=region, municipality=municipality, school=school),
    )
    return structured(env, event)


def list_event(school="sch-5", municipality="mun-a", change=MembershipChange.ENTERED):
    return ListMembershipChanged(
        originator_id=f"lists:{school}",
        originator_version=1,
        region_id="r1",
        municipality_id=municipality,
        school_id=school,
        risk_list=RiskList.LOW_RESULTS,
        period="2025/26",
        change=change,
        definition_version="v1",
        reasons=("shnor.ege_high_scorers",),
    )


def value_event(indicator="shnor.vpr_2_share", direction=Direction.LOW_RESULTS):
    return IndicatorValueChanged(
        originator_id="ind:sch-5",
        originator_version=3,
        region_id="r1",
        municipality_id="mun-a",
        school_id="sch-5",
        indicator_id=indicator,
        direction=direction,
        scope=Scope.SCHOOL,
        period="2025/26",
        definition_version="v1",
        old_value=12.5,
        new_value=20.0,
        numerator=10,
        denominator=50,
        threshold_crossed=ThresholdCrossing.INTO_RISK,
    )


def flag_event():
    return ObjectivityFlagRaised(
        originator_id="obj:sch-5",
        originator_version=1,
        region_id="r1",
        municipality_id="mun-a",
        school_id="sch-5",
        indicator_id="obj.vpr_raised",
        period="2025/26",
        procedure="ВПР",
        subject="математика",
        value=41.3,
        threshold=30,
        definition_version="v1",
    )


def test_structured_cloudevent_carries_attributes_tenant_and_data():
    event = list_event()
    ce = ce_of(event)
    assert ce["specversion"] == "1.0"
    assert ce["type"] == "ru.shkala.indicators.list_membership_changed.v1"
    assert (ce["region"], ce["municipality"], ce["school"]) == ("r1", "mun-a", "sch-5")
    assert ce["data"] == event.model_dump(mode="json")
    assert ce["time"].endswith("Z")


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        (Owner("r1"), True),
        (Owner("r2"), False),
        (Owner("r1", "mun-a"), True),
        (Owner("r1", "mun-b"), False),
        (Owner("r1", "mun-a", "sch-5"), True),
        (Owner("r1", "mun-a", "sch-6"), False),
    ],
)
def test_tenant_decides_first(owner, expected):
    assert matches(owner, Filters(), EventFacts.of(ce_of(list_event()))) is expected


def test_filters_cannot_widen_the_tenant():
    facts = EventFacts.of(ce_of(list_event(municipality="mun-b", school="sch-b")))
    assert not matches(Owner("r1", "mun-a"), Filters(municipalities=("mun-b",)), facts)
    assert not matches(Owner("r1", "mun-a"), Filters(schools=("sch-b",)), facts)


def test_filters_by_type_school_direction_indicator():
    owner = Owner("r1")
    lst, val, flag = (EventFacts.of(ce_of(e)) for e in (list_event(), value_event(), flag_event()))
    assert matches(owner, Filters(event_types=("ru.shkala.indicators.*",)), val)
    assert not matches(owner, Filters(event_types=("ru.shkala.plans.*",)), val)
    ops = EventFacts("ru.shkala.notify.endpoint_disabled.v1", "r1", "mun-a", None, {})
    assert not matches(owner, Filters(), ops)  # operational events only when named
    assert matches(owner, Filters(event_types=("ru.shkala.notify.*",)), ops)
    assert matches(owner, Filters(event_types=(lst.type,)), lst)
    assert not matches(owner, Filters(event_types=(lst.type,)), val)
    assert matches(owner, Filters(schools=("sch-5",)), val)
    assert not matches(owner, Filters(schools=("sch-6",)), val)
    # direction: named by the event, implied by the list or by the event kind
    assert matches(owner, Filters(directions=("low_results",)), val)
    assert matches(owner, Filters(directions=("low_results",)), lst)
    assert matches(owner, Filters(directions=("objectivity",)), flag)
    assert not matches(owner, Filters(directions=("objectivity",)), lst)
    # indicator: the event's own, or the indicators that decided a list membership
    assert matches(owner, Filters(indicators=("shnor.vpr_2_share",)), val)
    assert matches(owner, Filters(indicators=("shnor.ege_high_scorers",)), lst)
    assert not matches(owner, Filters(indicators=("other",)), flag)


def test_texts_in_russian_per_event_kind():
    names = {"sch-5": "МБОУ СОШ № 5"}.get
    assert (
        describe(ce_of(list_event()), lambda i: names(i) or i)
        == "Школа МБОУ СОШ № 5 вошла в список ШНОР по итогам 2025/26 учебного года"
    )
    assert (
        describe(ce_of(list_event(change=MembershipChange.LEFT)))
        == "Школа sch-5 вышла из списка ШНОР по итогам 2025/26 учебного года"
    )
    assert describe(ce_of(value_event())) == (
        "Школа sch-5: показатель shnor.vpr_2_share за 2025/26 учебный год изменился "
        "с 12,5 до 20: значение перешло в зону риска"
    )
    assert "признак необъективности результатов ВПР по предмету «математика»" in describe(
        ce_of(flag_event())
    )
    generic = describe(
        {
            "type": "ru.shkala.plans.some_future_event.v1",
            "region": "r1",
            "municipality": "mun-a",
            "data": {"direction": "talents"},
        }
    )
    assert generic.startswith("Муниципалитет mun-a: событие «plans.some_future_event»")


def test_retry_schedule_and_disabling():
    s = RetrySchedule((5, 300, 1800))
    assert [s.next_delay(n) for n in (1, 2, 3, 4)] == [5, 300, 1800, None]
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    limit = dt.timedelta(days=5)
    assert not should_disable(None, t0, limit)
    assert not should_disable(t0, t0 + dt.timedelta(days=4), limit)
    assert should_disable(t0, t0 + dt.timedelta(days=5), limit)


def test_secrets():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert check_secret(secret) is None
    assert check_secret("whsec_not base64!") is not None
    assert check_secret("whsec_c2hvcnQ=") is not None  # 5 bytes


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::",
    ],
)
def test_non_public_addresses_are_refused(ip):
    with pytest.raises(TargetRefused):
        check_address(ipaddress.ip_address(ip))


@pytest.mark.parametrize("ip", ["93.184.216.34", "77.88.55.242", "2a02:6b8::2:242"])
def test_public_addresses_pass(ip):
    check_address(ipaddress.ip_address(ip))


def test_allow_list_admits_its_networks_only():
    allow = parse_networks(["127.0.0.0/8"])
    check_address(ipaddress.ip_address("127.0.0.1"), allow)
    with pytest.raises(TargetRefused):
        check_address(ipaddress.ip_address("10.0.0.1"), allow)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://x",
        "http:///nohost",
        "https://u:p@x.ru/",
    ],
)
def test_urls_refused(url):
    with pytest.raises(TargetRefused):
        check_url(url)


def test_url_ports():
    assert check_url("https://hooks.example.ru/a") == ("https", "hooks.example.ru", 443)
    assert check_url("http://hooks.example.ru:8080/a") == ("http", "hooks.example.ru", 8080)


# 6to4, Teredo, NAT64, mapped/compatible/translated and ISATAP embed an IPv4 address: the
# embedded address is the host a relay or translator would reach (found: 2002::/16 passed)
@pytest.mark.parametrize(
    ("ip", "inner"),
    [
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4 of loopback
        ("2002:a9fe:a9fe::1", "169.254.169.254"),  # 6to4 of the metadata service
        ("2002:c0a8:101:1::1", "192.168.1.1"),
        ("2002:0a00:0001::", "10.0.0.1"),
        ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64 well-known prefix
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("64:ff9b::10.0.0.1", "10.0.0.1"),
        # Teredo: server 8.8.8.8 (public), client 127.0.0.1 stored inverted (80ff:fffe)
        ("2001:0:808:808:0:0:80ff:fffe", "127.0.0.1"),
        # Teredo with a private server
        ("2001:0:a00:1::f7f7:f7f7", "10.0.0.1"),
        ("::ffff:169.254.169.254", "169.254.169.254"),
        ("::ffff:0:127.0.0.1", "127.0.0.1"),  # IPv4-translated (SIIT)
        ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible
        ("::10.0.0.1", "10.0.0.1"),
        ("2a02:6b8::5efe:7f00:1", "127.0.0.1"),  # ISATAP interface id
        ("2a02:6b8::200:5efe:a9fe:a9fe", "169.254.169.254"),
    ],
)
def test_addresses_embedding_a_non_public_ipv4_are_refused_by_it(ip, inner):
    with pytest.raises(TargetRefused, match=rf"embeds {re.escape(inner)}\b"):
        check_address(ipaddress.ip_address(ip))


@pytest.mark.parametrize(
    "ip",
    [
        "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
        "::ffff:93.184.216.34",
        "2001:0:808:808::a247:27dd",  # Teredo: server 8.8.8.8, client 93.184.216.34
    ],
)
def test_addresses_embedding_a_public_ipv4_pass(ip):
    check_address(ipaddress.ip_address(ip))


@pytest.mark.parametrize(
    "ip",
    [
        "::93.184.216.34",  # IPv4-compatible: deprecated, never routed
        "64:ff9b:1::5db8:d822",  # local-use NAT64 prefix: a local translator
        "fd00::5efe:5db8:d822",  # ISATAP under a private prefix
    ],
)
def test_embedding_forms_that_are_never_public_are_refused(ip):
    with pytest.raises(TargetRefused):
        check_address(ipaddress.ip_address(ip))


def test_embedded_address_is_checked_against_the_allow_list_too():
    allow = parse_networks(["127.0.0.0/8"])
    check_address(ipaddress.ip_address("2002:7f00:1::"), allow)
    check_address(ipaddress.ip_address("::ffff:127.0.0.1"), allow)
    with pytest.raises(TargetRefused):
        check_address(ipaddress.ip_address("2002:a00:1::"), allow)


def test_embedded_ipv4_reads_each_form():
    from shkala_notify.domain.ssrf import embedded_ipv4

    v4 = ipaddress.IPv4Address
    assert embedded_ipv4(ipaddress.IPv6Address("2002:7f00:1::")) == ("6to4", [v4("127.0.0.1")])
    assert embedded_ipv4(ipaddress.IPv6Address("2001:0:808:808::80ff:fffe")) == (
        "Teredo",
        [v4("8.8.8.8"), v4("127.0.0.1")],
    )
    assert embedded_ipv4(ipaddress.IPv6Address("2a02:6b8::2:242")) is None
