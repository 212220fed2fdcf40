"""The sender signs per Standard Webhooks and re-checks the target at every attempt."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from standardwebhooks import Webhook

from shkala_notify.adapters.targets import TargetGuard
from shkala_notify.adapters.webhooks import WebhookSender, sign_headers
from shkala_notify.domain.ssrf import TargetRefused
from shkala_notify.domain.subscriptions import new_secret


def test_signature_verifies_with_standardwebhooks():
    secret = new_secret()
    body = '{"id":"e-1","data":{"x":"Школа"}}'
    headers = sign_headers(secret, "e-1", body, dt.datetime.now(dt.UTC))
    assert Webhook(secret).verify(body, headers) == {"id": "e-1", "data": {"x": "Школа"}}
    assert headers["webhook-id"] == "e-1"


async def test_dns_rebinding_is_caught_at_delivery():
    """Public at registration, private at delivery: the attempt is refused, nothing is sent."""
    answers = iter([["93.184.216.34"], ["10.0.0.7"]])

    async def resolver(host, port):
        return [ipaddress.ip_address(a) for a in next(answers)]

    guard = TargetGuard((), resolver)
    target = await guard.check("https://hooks.example.ru/x")
    assert str(target.address) == "93.184.216.34"
    sender = WebhookSender(guard, timeout_s=1)
    try:
        result = await sender.send("https://hooks.example.ru/x", new_secret(), "e-1", "{}")
    finally:
        await sender.close()
    assert not result.ok
    assert result.status_code is None
    assert "refused" in result.error
    assert "10.0.0.7" in result.error


async def test_every_resolved_address_must_be_public():
    async def resolver(host, port):
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("127.0.0.1")]

    with pytest.raises(TargetRefused, match="loopback"):
        await TargetGuard((), resolver).check("http://mixed.example.ru/")
