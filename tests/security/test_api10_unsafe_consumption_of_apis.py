"""API10:2023 Unsafe consumption of APIs. What a payment provider sends the shop is trusted only as far as it is
proved, for each provider the shop speaks to (the sandbox processor, Stripe), through the public webhook endpoint:

- the signature is checked over the exact bytes before anything in them is read: a body with no signature, a wrong
  or stale one, or one made for other bytes, is 400 ``invalid_signature`` whatever it holds (an event, bytes that
  are no JSON at all, JSON nested past any parser's depth), and Alice's payment is as it was;
- a signed event whose amount or currency is not the payment's is acknowledged as ``rejected`` and changes
  nothing, while the same event untouched pays the order (so the refusal is the check's, not a broken signature);
- a signed event the shop cannot read (no JSON, nested past the parser's depth, not an event) is a 400 problem,
  never a server error.

The sandbox's events are the ones its processor really writes (``tests/sandbox_webhooks.py``); Stripe's are made
and signed with Stripe's scheme against the offline fake Stripe of the provider's own tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings

from apps.gateway.tests.problems import assert_problem
from apps.orders.sandbox_processor.delivery import event_body
from apps.orders.sandbox_processor.signatures import SIGNATURE_HEADER, signature_header
from apps.orders.tests.test_stripe_provider import WEBHOOK_SECRET, fake_stripe
from tests import sandbox_webhooks as webhook_fixtures
from tests.security.endpoints import V1
from tests.security.world import World

pytestmark = pytest.mark.django_db

sandbox_webhooks = webhook_fixtures.sandbox_webhooks
fake_stripe = fake_stripe  # the offline Stripe the provider's tests use
OTHER_SECRET = "a-secret-the-shop-does-not-hold-0123456789"
STALE = 301  # seconds: past both providers' five minutes' tolerance
UNREADABLE_BYTES = [b"\xff\xfe not json", b"[" * 100_000, b'{"id": 1, "type": ["payment_intent.succeeded"]}']


@dataclass
class Provider:
    name: str
    payment_id: str  # Alice's payment with this provider, as the shop knows it
    event: dict[str, Any]  # a success event for that payment, as the provider sends it
    sign: Callable[..., dict[str, str]]  # (body, secret=None, timestamp=None) -> the provider's signature headers

    def post(self, client: Any, body: bytes, headers: dict[str, str]) -> Any:
        return client.post(f"{V1}/payments/webhooks/{self.name}", data=body, content_type="application/json",
                           headers=headers)

    def body(self, **object_changes: Any) -> bytes:
        event = json.loads(json.dumps(self.event))
        event["data"]["object"].update(object_changes)
        return json.dumps(event).encode()


def _sandbox(world: World, webhooks: webhook_fixtures.SandboxWebhooks) -> Provider:
    confirmed = world.client("alice").post(f"{V1}/payments/{world.payment_id}/confirm",
                                           {"card_number": "4242424242424242"}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    [owed] = webhooks.owed()

    def sign(body: bytes, secret: str | None = None, timestamp: int | None = None) -> dict[str, str]:
        secrets = settings.ECOMMERCE_SANDBOX_WEBHOOK_SECRETS if secret is None else [secret]
        return {SIGNATURE_HEADER: signature_header(body, secrets=secrets, timestamp=timestamp)}

    return Provider("sandbox", world.payment_id, json.loads(event_body(owed)), sign)


def _stripe(world: World, fake: Any) -> Provider:
    created = world.client("alice").post(f"{V1}/orders/{world.order_id}/payments",
                                         headers={"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.content
    [intent] = [made for made in fake.by_key.values() if made["object"] == "payment_intent"]
    event = {"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "api_version": "2024-06-20",
             "type": "payment_intent.succeeded",
             "data": {"object": {**intent, "status": "succeeded", "amount_received": intent["amount"],
                                 "last_payment_error": None}}}

    def sign(body: bytes, secret: str | None = None, timestamp: int | None = None) -> dict[str, str]:
        """Stripe's scheme over the exact bytes (``Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.body")``)."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = hmac.new((secret or WEBHOOK_SECRET).encode(), f"{timestamp}.".encode() + body,
                             hashlib.sha256).hexdigest()
        return {"Stripe-Signature": f"t={timestamp},v1={signature}"}

    return Provider("stripe", created.json()["id"], event, sign)


@pytest.fixture(params=["sandbox", "stripe"])
def provider(request: pytest.FixtureRequest, world: World) -> Provider:
    if request.param == "sandbox":
        return _sandbox(world, request.getfixturevalue("sandbox_webhooks"))
    return _stripe(world, request.getfixturevalue("fake_stripe"))


def _payment(world: World, provider: Provider) -> dict[str, Any]:
    return world.client("alice").get(f"{V1}/payments/{provider.payment_id}").json()


FORGERIES: dict[str, Callable[[Provider, bytes], dict[str, str]]] = {
    "no signature": lambda provider, body: {},
    "another secret": lambda provider, body: provider.sign(body, secret=OTHER_SECRET),
    "stale": lambda provider, body: provider.sign(body, timestamp=int(time.time()) - STALE),
    "made for other bytes": lambda provider, body: provider.sign(provider.body()),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_body_is_verified_before_anything_in_it_is_read(world, provider, forgery, api_client) -> None:
    before = _payment(world, provider)

    for body in [provider.body(amount=1), *UNREADABLE_BYTES]:
        answer = provider.post(api_client, body, FORGERIES[forgery](provider, body))

        assert_problem(answer, 400, "invalid_signature")
    assert _payment(world, provider) == before


# Stripe reads a success's amount from ``amount_received``, the sandbox from ``amount``: both are forged.
@pytest.mark.parametrize("change", [{"amount": 1, "amount_received": 1}, {"currency": "eur"}],
                         ids=["amount", "currency"])
def test_a_signed_event_for_another_amount_or_currency_changes_nothing(world, provider, change, api_client) -> None:
    before = _payment(world, provider)
    forged = provider.body(**change)

    refused = provider.post(api_client, forged, provider.sign(forged))

    assert (refused.status_code, refused.json()["outcome"]) == (200, "rejected"), refused.content
    assert _payment(world, provider) == before
    genuine = json.dumps({**provider.event, "id": f"{provider.event['id']}-genuine"}).encode()
    applied = provider.post(api_client, genuine, provider.sign(genuine))
    assert (applied.status_code, applied.json()["outcome"]) == (200, "applied"), applied.content
    assert _payment(world, provider)["status"] == "succeeded"


@pytest.mark.parametrize("body", UNREADABLE_BYTES, ids=["not json", "nested too deep", "not an event"])
def test_a_signed_body_the_shop_cannot_read_is_a_400_problem(world, provider, body, api_client) -> None:
    before = _payment(world, provider)

    answer = provider.post(api_client, body, provider.sign(body))

    # Stripe's library refuses what is no JSON while it verifies; the shop refuses what it cannot read after.
    assert (answer.status_code, answer["Content-Type"]) == (400, "application/problem+json"), answer.content
    assert answer.json()["code"] in {"validation_error", "invalid_signature"}
    assert _payment(world, provider) == before
