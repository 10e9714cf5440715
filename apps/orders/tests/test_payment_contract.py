"""The payment methods of the orders contract, called as the gateway calls them, in-process and through the loopback
RPC path (serialisation, signing, the internal endpoint): answers, replays and every typed error crossing the wire,
and a webhook's body reaching the verifier byte for byte."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.orders import services
from apps.orders.models import Order, Payment, PaymentAttempt
from apps.orders.providers import provider_named
from apps.orders.sandbox_processor.models import Intent
from apps.orders.services import payments as payment_steps
from apps.orders.tests.conftest import payment_confirm, signed
from ecommerce.contracts.orders import PaymentCreateResult, PaymentDTO, PaymentStatus, WebhookOutcome, orders_service
from ecommerce.errors import (
    ConfirmationNotSupported,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    PaymentNotReady,
    PaymentProviderUnavailable,
    ValidationFailed,
    WebhookSignatureInvalid,
)


def create(order: Order, *, key: str = "pay-key", fingerprint: str = "fp", user_id: int | None = None):
    return orders_service.payment_create(order_id=order.id, user_id=user_id or order.user_id, idempotency_key=key,
                                         request_fingerprint=fingerprint)


def webhook(body: bytes, headers: dict[str, str], provider: str = "sandbox"):
    return orders_service.payment_webhook_receive(provider=provider, body_base64=base64.b64encode(body).decode(),
                                                  headers=headers)


def test_create_answers_a_payment_for_the_order_total_and_replays_it(rpc_mode, place_order):
    order = place_order()

    first = create(order)
    again = create(order)

    assert isinstance(first, PaymentCreateResult)
    assert isinstance(first.payment, PaymentDTO)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.payment == first.payment
    payment = first.payment
    assert (payment.order_id, payment.user_id, payment.provider, payment.status, payment.amount, payment.currency) == (
        order.id, order.user_id, "sandbox", PaymentStatus.REQUIRES_CONFIRMATION, order.total, "USD")
    assert payment.client_secret == Intent.objects.get().client_secret
    assert Order.objects.get(pk=order.id).payment_status == "requires_confirmation"


def test_create_refusals_cross_the_wire(rpc_mode, place_order, make_user):
    order = place_order()
    create(order, key="taken")

    with pytest.raises(IdempotencyConflict):
        create(place_order(), key="taken", fingerprint="another order")
    with pytest.raises(NotFound):
        create(order, key="stranger", user_id=make_user().id)
    services.order_cancel(order_id=order.id, user_id=None, actor_id=1)
    with pytest.raises(InvalidTransition):
        create(order, key="too-late")
    assert Payment.objects.count() == 1


def test_a_provider_down_at_creation_is_503_and_the_same_key_then_finishes_the_same_payment(rpc_mode, place_order,
                                                                                           monkeypatch):
    # given the provider is unreachable for the first request
    order = place_order()
    sandbox = provider_named("sandbox")

    class Down:
        name = "sandbox"

        def payment_create(self, **arguments):
            raise PaymentProviderUnavailable("The sandbox is down.")

    monkeypatch.setattr(payment_steps, "provider_named", lambda name: Down())
    with pytest.raises(PaymentProviderUnavailable):
        create(order, key="retry-me")

    # when it is back and the client sends the same key again
    monkeypatch.setattr(payment_steps, "provider_named", lambda name: sandbox)
    finished = create(order, key="retry-me")

    # then the payment the first request began is finished, with one intent at the provider
    assert Payment.objects.get().id == finished.payment.id
    assert finished.payment.client_secret
    assert Intent.objects.count() == 1


def test_an_expired_key_makes_a_new_payment(rpc_mode, place_order, settings):
    order = place_order()
    first = create(order, key="old-key")
    PaymentAttempt.objects.update(created_at=timezone.now() - timedelta(
        seconds=settings.ECOMMERCE_IDEMPOTENCY_TTL_SECONDS + 1))

    second = create(order, key="old-key")

    assert second.replayed is False
    assert second.payment.id != first.payment.id
    assert services.payment_attempts_purge_expired() == 0


def test_get_is_scoped_to_the_orders_owner(rpc_mode, place_order, make_user):
    payment = create(place_order()).payment

    assert orders_service.payment_get(payment_id=payment.id, user_id=payment.user_id) == payment
    assert orders_service.payment_get(payment_id=payment.id, user_id=None) == payment
    with pytest.raises(NotFound):
        orders_service.payment_get(payment_id=payment.id, user_id=make_user().id)
    with pytest.raises(NotFound):
        orders_service.payment_get(payment_id=uuid.uuid4(), user_id=None)


def test_confirm_and_its_refusals_cross_the_wire(rpc_mode, place_order):
    payment = create(place_order()).payment

    with pytest.raises(ValidationFailed) as unknown_card:
        orders_service.payment_confirm(payment_id=payment.id, user_id=payment.user_id, card_number="4111111111111111")
    confirmed = orders_service.payment_confirm(payment_id=payment.id, user_id=payment.user_id,
                                               card_number="4242424242424242")
    with pytest.raises(InvalidTransition):
        orders_service.payment_confirm(payment_id=payment.id, user_id=payment.user_id,
                                       card_number="4242424242424242")
    with pytest.raises(NotFound):
        orders_service.payment_confirm(payment_id=payment.id, user_id=payment.user_id + 1000,
                                       card_number="4242424242424242")

    assert "card_number" in unknown_card.value.errors
    assert confirmed.status == PaymentStatus.REQUIRES_CONFIRMATION  # only the webhook changes it
    assert Intent.objects.get().status == "succeeded"


def test_a_payment_of_another_provider_is_not_confirmed_by_the_shop(rpc_mode, place_order):
    payment = create(place_order()).payment
    Payment.objects.filter(pk=payment.id).update(provider="stripe")

    with pytest.raises(ConfirmationNotSupported):
        orders_service.payment_confirm(payment_id=payment.id, user_id=payment.user_id,
                                       card_number="4242424242424242")


def test_a_webhook_reaches_the_verifier_byte_for_byte(rpc_mode, place_order):
    order = place_order()
    payment = Payment.objects.get(pk=create(order).payment.id)
    body, headers = signed(payment_confirm(payment))

    receipt = webhook(body, headers)
    again = webhook(body, headers)

    assert (receipt.outcome, again.outcome) == (WebhookOutcome.APPLIED, WebhookOutcome.DUPLICATE)
    assert Order.objects.get(pk=order.id).status == "paid"
    # whitespace, key order and non-ASCII text a re-encoding would change, still verifying as sent
    unusual = '{ "type" : "customer.created",\r\n\t"id":"evt_sbx_\u00fc\u00f1\u00ee", "data": {"object": {}} }'.encode()
    assert webhook(*signed(unusual)).outcome == WebhookOutcome.IGNORED
    with pytest.raises(WebhookSignatureInvalid):
        webhook(b"\xff" + body, headers)


def test_webhook_refusals_cross_the_wire(rpc_mode, place_order):
    payment = Payment.objects.get(pk=create(place_order()).payment.id)
    event = payment_confirm(payment)
    Payment.objects.filter(pk=payment.pk).update(provider_payment_id="")

    with pytest.raises(WebhookSignatureInvalid):
        webhook(b"{}", {"sandbox-signature": "t=1,v1=00"})
    with pytest.raises(NotFound):
        webhook(b"{}", {}, provider="stripe")
    with pytest.raises(PaymentNotReady):
        webhook(*signed(event))
    with pytest.raises(WebhookSignatureInvalid):
        orders_service.payment_webhook_receive(provider="sandbox", body_base64="not base64!", headers={})
