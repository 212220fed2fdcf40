"""SSRF rules for webhook targets. Pure: resolution happens in the adapter.

http/https only; every address a host resolves to must be public (not private, loopback,
link-local, multicast, reserved, unspecified, CGNAT, documentation…) unless an allow-list
network (local development, tests) contains it. An IPv6 address that embeds an IPv4 address
(IPv4-mapped/-translated/-compatible, NAT64, 6to4, Teredo, ISATAP) is judged by the
embedded address: ``2002:7f00:1::`` is 127.0.0.1 reached through a 6to4 relay.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(ValueError):
    """The webhook target may not be called; the message says why."""


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(i.strip(), strict=False) for i in items if i.strip())


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL; raises TargetRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"scheme {parts.scheme or '(none)'!r} refused: use http or https")
    if not parts.hostname:
        raise TargetRefused("URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are refused: use the signing secret")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


# IPv6 ranges that carry an IPv4 address inside (RFC 6052, 3056, 4380, 4291, 6145, 5214): a
# packet to them reaches that IPv4 host through a relay or translator, so the IPv4 address is
# what gets checked. Python's own classification of these ranges is no guide (6to4 and the
# NAT64 prefix count as global, whatever they embed).
_V6 = ipaddress.IPv6Network
MAPPED = _V6("::ffff:0:0/96")
TRANSLATED = _V6("::ffff:0:0:0/96")
COMPATIBLE = _V6("::/96")
NAT64 = _V6("64:ff9b::/96")
NAT64_LOCAL = _V6("64:ff9b:1::/48")
SIX_TO_FOUR = _V6("2002::/16")
TEREDO = _V6("2001::/32")
# ISATAP interface identifiers: ``[02]00:5efe`` (u/g bits may be set) then the IPv4 address
_ISATAP_IID = {0x00005EFE, 0x02005EFE, 0x01005EFE, 0x03005EFE}


def _v4(bits: int) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(bits & 0xFFFFFFFF)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, list[ipaddress.IPv4Address]] | None:
    """``(form, addresses)`` when ``ip`` carries IPv4 addresses inside, else None."""
    n = int(ip)
    if ip in MAPPED:
        return "IPv4-mapped", [_v4(n)]
    if ip in TRANSLATED:
        return "IPv4-translated", [_v4(n)]
    if ip in COMPATIBLE:
        return "IPv4-compatible", [_v4(n)]
    if ip in NAT64:
        return "NAT64", [_v4(n)]
    if ip in SIX_TO_FOUR:
        return "6to4", [_v4(n >> 80)]
    if ip in TEREDO:
        # server in bits 32-63, client obfuscated (inverted) in the last 32 bits
        return "Teredo", [_v4(n >> 64), _v4(~n)]
    if (n >> 32) & 0xFFFFFFFF in _ISATAP_IID:
        return "ISATAP", [_v4(n)]
    return None


def _why_blocked_v4_or_plain(ip: IP) -> str | None:
    for attr, label in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, attr):
            return label
    if not ip.is_global:
        return "not globally routable"
    return None


def _why_blocked(ip: IP, allow: tuple[Network, ...] = ()) -> str | None:
    if isinstance(ip, ipaddress.IPv4Address) or ip.is_loopback or ip.is_unspecified:
        return _why_blocked_v4_or_plain(ip)
    if ip in NAT64_LOCAL:
        return "in the local-use NAT64 prefix 64:ff9b:1::/48 (translates to local IPv4 networks)"
    found = embedded_ipv4(ip)
    if found is None:
        return _why_blocked_v4_or_plain(ip)
    form, inner = found
    for v4 in inner:
        if _allowed(v4, allow):
            continue
        if why := _why_blocked_v4_or_plain(v4):
            return f"{form} and embeds {v4}, which is {why}"
    if form == "IPv4-compatible":
        return "an IPv4-compatible address (deprecated, RFC 4291): use the IPv4 address"
    if form == "ISATAP":  # the prefix itself must be public too
        return _why_blocked_v4_or_plain(ip)
    return None


def _allowed(ip: IP, allow: Iterable[Network]) -> bool:
    return any(ip in net for net in allow if net.version == ip.version)


def check_address(ip: IP, allow: Iterable[Network] = ()) -> None:
    """Raises TargetRefused when ``ip`` is not a public address and not allow-listed."""
    allow = tuple(allow)
    if _allowed(ip, allow):
        return
    if why := _why_blocked(ip, allow):
        raise TargetRefused(f"target address {ip} is {why}")


def check_addresses(ips: Iterable[IP], allow: Iterable[Network] = ()) -> None:
    ips = list(ips)
    if not ips:
        raise TargetRefused("host resolves to no address")
    allow = tuple(allow)
    for ip in ips:
        check_address(ip, allow)
