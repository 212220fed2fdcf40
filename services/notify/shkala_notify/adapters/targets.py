"""Resolve a webhook target and check every address against the SSRF rules."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from shkala_notify.domain.ssrf import IP, Network, TargetRefused, check_addresses, check_url

Resolver = Callable[[str, int], Awaitable[list[IP]]]


async def system_resolver(host: str, port: int) -> list[IP]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"host {host!r} does not resolve: {exc}") from exc
    found: list[IP] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    return found


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    address: IP
    """The checked address the request must connect to (pinned: no second resolution)."""


class TargetGuard:
    def __init__(self, allow: Sequence[Network], resolver: Resolver = system_resolver) -> None:
        self._allow = tuple(allow)
        self._resolve = resolver

    async def check(self, url: str) -> Target:
        scheme, host, port = check_url(url)
        ips = await self._resolve(host, port)
        check_addresses(ips, self._allow)
        return Target(scheme, host, port, ips[0])
