"""The Stripe provider, offline: the official ``stripe`` client talks to a fake Stripe put in place of its HTTP layer
(nothing else is replaced, and no request leaves the process), and webhooks are events the tests sign themselves with
Stripe's scheme (``Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.body")``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

import pytest
import stripe

from apps.orders import services
from apps.orders.models import Order, Payment
from apps.orders.providers import stripe_provider
from apps.orders.tests.conftest import outbox_types, payment_for
from ecommerce.contracts.orders import WebhookOutcome
from ecommerce.errors import ConfirmationNotSupported, PaymentProviderUnavailable, WebhookSignatureInvalid

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
API_KEY = "sk_test_offline"


class FakeStripe(stripe.HTTPClient):
    """Stripe's API as far as the shop uses it: payment intents and refunds, each answer keyed by its idempotency
    key like Stripe's (the same key answers the same object), or a scripted error."""

    name = "fake-stripe"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        self.error: tuple[int, dict[str, Any]] | None = None

    def request(self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None):
        form = {key: values[0] for key, values in parse_qs(post_data or "").items()}
        self.requests.append({"method": method, "url": url, "headers": dict(headers), "form": form})
        if self.error is not None:
            status, body = self.error
            return json.dumps(body), status, {}
        key = headers.get("Idempotency-Key")
        if key not in self.by_key:
            self.by_key[key] = self._made(url, form)
        return json.dumps(self.by_key[key]), 200, {"Request-Id": f"req_{len(self.requests)}"}

    def _made(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        number = uuid.uuid4().hex[:12]
        if url.endswith("/v1/payment_intents"):
            return {"id": f"pi_{number}", "object": "payment_intent", "amount": int(form["amount"]),
                    "currency": form["currency"], "client_secret": f"pi_{number}_secret_{number}",
                    "status": "requires_payment_method",
                    "metadata": {"shop_payment_id": form["metadata[shop_payment_id]"]}}
        return {"id": f"re_{number}", "object": "refund", "amount": int(form["amount"]),
                "payment_intent": form["payment_intent"], "status": "succeeded"}

    def close(self) -> None:
        """Nothing to close."""


@pytest.fixture
def fake_stripe(settings, monkeypatch) -> FakeStripe:
    settings.ECOMMERCE_PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    fake = FakeStripe()
    monkeypatch.setattr(stripe_provider, "http_client", lambda: fake)
    return fake


def stripe_signed(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
                  timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and header Stripe sends, signed here with Stripe's scheme."""
    body = json.dumps(event).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"stripe-signature": f"t={timestamp},v1={signature}"}


def intent_event(payment: Payment, event_type: str = "payment_intent.succeeded", **changes: Any) -> dict[str, Any]:
    intent = {"id": payment.provider_payment_id, "object": "payment_intent", "amount": 2500, "amount_received": 2500,
              "currency": "usd", "status": "succeeded", "metadata": {"shop_payment_id": str(payment.id)},
              "last_payment_error": None, **changes}
    return {"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "api_version": "2024-06-20",
            "type": event_type, "data": {"object": intent}}


def receive(body: bytes, headers: dict[str, str]) -> WebhookOutcome:
    return services.payment_webhook_receive(provider="stripe", body=body, headers=headers).outcome


def test_a_payment_is_a_payment_intent_for_the_total_in_minor_units_with_the_payments_own_key(fake_stripe,
                                                                                              place_order):
    order = place_order()

    payment = payment_for(order)

    [call] = fake_stripe.requests
    assert (call["method"], call["url"]) == ("post", "https://api.stripe.com/v1/payment_intents")
    assert call["form"] == {"amount": "2500", "currency": "usd", "metadata[shop_payment_id]": str(payment.id),
                            "automatic_payment_methods[enabled]": "true"}
    assert call["headers"]["Idempotency-Key"] == f"payment-{payment.id}"
    assert call["headers"]["Authorization"] == f"Bearer {API_KEY}"
    intent = fake_stripe.by_key[f"payment-{payment.id}"]
    assert (payment.provider, payment.provider_payment_id, payment.client_secret) == (
        "stripe", intent["id"], intent["client_secret"])


def test_stripe_refusing_or_missing_keys_is_503_and_charges_nothing(fake_stripe, place_order, settings):
    order = place_order()
    fake_stripe.error = (401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})

    with pytest.raises(PaymentProviderUnavailable):
        payment_for(order)
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(PaymentProviderUnavailable):
        payment_for(order)
    assert len(fake_stripe.requests) == 1


def test_the_shop_does_not_play_the_shoppers_step_for_stripe(fake_stripe, place_order):
    payment = payment_for(place_order())

    with pytest.raises(ConfirmationNotSupported):
        services.payment_confirm(payment_id=payment.id, user_id=payment.order.user_id,
                                 card_number="4242424242424242")


def test_a_signed_succeeded_event_pays_the_order(fake_stripe, place_order):
    order = place_order()
    payment = payment_for(order)

    outcome = receive(*stripe_signed(intent_event(payment)))

    order.refresh_from_db()
    assert outcome == WebhookOutcome.APPLIED
    assert (order.status, order.payment_method) == ("paid", "stripe")
    assert outbox_types()[-2:] == ["payment.succeeded", "order.paid"]


def test_a_payment_failed_event_fails_the_payment(fake_stripe, place_order):
    payment = payment_for(place_order())
    failed = intent_event(payment, "payment_intent.payment_failed", status="requires_payment_method",
                          amount_received=0, last_payment_error={"message": "Your card has insufficient funds."})

    receive(*stripe_signed(failed))

    payment.refresh_from_db()
    assert (payment.status, payment.failure_message) == ("failed", "Your card has insufficient funds.")
    assert Order.objects.get(pk=payment.order_id).status == "pending"


@pytest.mark.parametrize("forge", [
    pytest.param(lambda event: (stripe_signed(event)[0], {}), id="missing header"),
    pytest.param(lambda event: stripe_signed(event, secret="whsec_someone_else"), id="wrong secret"),
    pytest.param(lambda event: stripe_signed(event, timestamp=int(time.time()) - 301), id="stale"),
    pytest.param(lambda event: (stripe_signed(event)[0] + b" ", stripe_signed(event)[1]), id="body changed"),
    pytest.param(lambda event: (b"\xff" + stripe_signed(event)[0], stripe_signed(event)[1]), id="not utf-8"),
])
def test_stripes_signature_scheme_refuses_forgeries(fake_stripe, place_order, forge):
    payment = payment_for(place_order())
    body, headers = forge(intent_event(payment))

    with pytest.raises(WebhookSignatureInvalid):
        receive(body, headers)

    payment.refresh_from_db()
    assert payment.status == "requires_confirmation"


def test_stripe_webhook_secrets_roll_without_a_gap(fake_stripe, place_order, settings):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_new_one", WEBHOOK_SECRET]
    first, second = payment_for(place_order()), payment_for(place_order())

    assert receive(*stripe_signed(intent_event(first), secret=WEBHOOK_SECRET)) == WebhookOutcome.APPLIED
    assert receive(*stripe_signed(intent_event(second), secret="whsec_new_one")) == WebhookOutcome.APPLIED
    settings.STRIPE_WEBHOOK_SECRETS = []
    with pytest.raises(WebhookSignatureInvalid):
        receive(*stripe_signed(intent_event(first)))


def test_a_canceled_paid_order_is_refunded_through_stripe_with_the_payments_key(fake_stripe, place_order):
    order = place_order()
    payment = payment_for(order)
    receive(*stripe_signed(intent_event(payment)))

    services.order_cancel(order_id=order.id, user_id=order.user_id, actor_id=order.user_id)

    refund_call = fake_stripe.requests[-1]
    assert refund_call["url"] == "https://api.stripe.com/v1/refunds"
    assert refund_call["form"] == {"payment_intent": payment.provider_payment_id, "amount": "2500"}
    assert refund_call["headers"]["Idempotency-Key"] == f"refund-{payment.id}"
    payment.refresh_from_db()
    assert (payment.status, payment.provider_refund_id) == (
        "refunded", fake_stripe.by_key[f"refund-{payment.id}"]["id"])
    assert Order.objects.get(pk=order.id).payment_status == "refunded"


def test_a_charge_already_refunded_at_stripe_counts_as_refunded(fake_stripe, place_order):
    order = place_order()
    payment = payment_for(order)
    receive(*stripe_signed(intent_event(payment)))
    fake_stripe.error = (400, {"error": {"type": "invalid_request_error", "code": "charge_already_refunded",
                                         "message": "Charge has already been refunded."}})

    services.order_cancel(order_id=order.id, user_id=None, actor_id=1)

    payment.refresh_from_db()
    assert (payment.status, payment.provider_refund_id) == ("refunded", "")


def test_a_charge_refunded_event_records_the_refund(fake_stripe, place_order):
    payment = payment_for(place_order())
    receive(*stripe_signed(intent_event(payment)))
    charge = {"id": "ch_1", "object": "charge", "payment_intent": payment.provider_payment_id, "amount": 2500,
              "amount_refunded": 2500, "currency": "usd", "refunded": True, "metadata": {}}
    event = {"id": "evt_refunded", "object": "event", "type": "charge.refunded", "data": {"object": charge}}

    assert receive(*stripe_signed(event)) == WebhookOutcome.APPLIED
    assert Payment.objects.get(pk=payment.pk).status == "refunded"


def test_the_stripe_webhook_endpoint_over_http(fake_stripe, customer_client, place_order, api_client):
    payment = payment_for(place_order())
    body, headers = stripe_signed(intent_event(payment))

    accepted = api_client.post("/api/v1/payments/webhooks/stripe", body, content_type="application/json",
                               headers={"Stripe-Signature": headers["stripe-signature"]})
    refused = api_client.post("/api/v1/payments/webhooks/stripe", body, content_type="application/json")
    sandbox_off = api_client.post("/api/v1/payments/webhooks/sandbox", body, content_type="application/json")

    assert (accepted.status_code, accepted.json()["outcome"]) == (200, "applied")
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_signature")
    assert sandbox_off.status_code == 404
