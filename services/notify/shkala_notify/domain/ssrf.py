"""SSRF rules for webhook targets. Pure: resolution happens in the adapter.

http/https only; every address a host resolves to must be public (not private, loopback,
link-local, multicast, reserved, unspecified, CGNAT, documentation…) unless an allow-list
network (local development, tests) contains it.
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


def _why_blocked(ip: IP) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _why_blocked(ip.ipv4_mapped)
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


def check_address(ip: IP, allow: Iterable[Network] = ()) -> None:
    """Raises TargetRefused when ``ip`` is not a public address and not allow-listed."""
    if any(ip in net for net in allow if net.version == ip.version):
        return
    if why := _why_blocked(ip):
        raise TargetRefused(f"target address {ip} is {why}")


def check_addresses(ips: Iterable[IP], allow: Iterable[Network] = ()) -> None:
    ips = list(ips)
    if not ips:
        raise TargetRefused("host resolves to no address")
    allow = tuple(allow)
    for ip in ips:
        check_address(ip, allow)
