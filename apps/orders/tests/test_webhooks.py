"""Provider webhooks as the orders context receives them: verified before anything is read, each event id applied
once, successes and failures applied to the payment and its order, and everything that must change nothing (a bad,
stale or replayed signature, a mismatching amount, an event about nothing of this shop) changing nothing."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest

from apps.orders.models import Order, OrderStatusChange, Payment, ProviderEvent
from apps.orders.tests.conftest import (
    DECLINED_CARD,
    outbox_types,
    payment_confirm,
    payment_for,
    receive,
    rewritten,
    signed,
)
from ecommerce.contracts.orders import WebhookOutcome
from ecommerce.errors import NotFound, PaymentNotReady, ValidationFailed, WebhookSignatureInvalid

OTHER_SECRET = "another-sandbox-secret-that-the-shop-does-not-hold"


def snapshot(payment: Payment) -> tuple:
    """Everything a refused webhook must leave alone."""
    payment.refresh_from_db()
    order = Order.objects.get(pk=payment.order_id)
    return (payment.status, payment.updated_at, order.status, order.payment_status, order.updated_at,
            tuple(outbox_types()), ProviderEvent.objects.count(), OrderStatusChange.objects.count())


def test_a_verified_success_pays_the_order_with_its_events(place_order):
    order = place_order()
    payment = payment_for(order)
    event = payment_confirm(payment)
    before = outbox_types()

    outcome = receive(*signed(event))

    payment.refresh_from_db()
    order.refresh_from_db()
    assert outcome == WebhookOutcome.APPLIED
    assert (payment.status, order.status, order.payment_status, order.payment_method) == (
        "succeeded", "paid", "succeeded", "sandbox")
    assert payment.succeeded_at is not None
    assert outbox_types()[len(before):] == ["payment.succeeded", "order.paid"]
    recorded = ProviderEvent.objects.get()
    assert (recorded.provider, recorded.event_id, recorded.outcome, recorded.payment_id) == (
        "sandbox", event.id, "applied", payment.id)
    assert OrderStatusChange.objects.filter(order=order, to_status="paid").get().reason == "paid through sandbox"


def test_the_same_event_again_answers_duplicate_and_changes_nothing(place_order):
    payment = payment_for(place_order())
    body, headers = signed(payment_confirm(payment))
    receive(body, headers)
    before = snapshot(payment)

    again = receive(body, headers)
    resigned = receive(*signed(body))  # the processor's retry is signed afresh; still the same event

    assert (again, resigned) == (WebhookOutcome.DUPLICATE, WebhookOutcome.DUPLICATE)
    assert snapshot(payment) == before


@pytest.mark.parametrize("forge", [
    pytest.param(lambda body: (body, {}), id="missing header"),
    pytest.param(lambda body: signed(body, secrets=[OTHER_SECRET]), id="wrong secret"),
    pytest.param(lambda body: signed(body, timestamp=int(time.time()) - 301), id="older than five minutes"),
    pytest.param(lambda body: signed(body, timestamp=int(time.time()) + 301), id="five minutes ahead"),
    pytest.param(lambda body: (body, {"sandbox-signature": "v1=deadbeef"}), id="no timestamp"),
    pytest.param(lambda body: (body, {"sandbox-signature": "t=notanumber,v1=00"}), id="bad timestamp"),
    pytest.param(lambda body: (body.replace(b'"amount":', b'"amount": '),
                               signed(body)[1]), id="body changed after signing"),
])
def test_a_missing_wrong_or_stale_signature_is_refused_and_changes_nothing(place_order, forge):
    payment = payment_for(place_order())
    event = payment_confirm(payment)
    before = snapshot(payment)
    body, headers = forge(signed(event)[0])

    with pytest.raises(WebhookSignatureInvalid):
        receive(body, headers)

    assert snapshot(payment) == before


def test_secrets_rotate_without_a_gap(place_order, settings):
    # given the shop accepts the old and the new secret while the processor moves over
    old, new = "old-sandbox-secret-0123456789abcdef", "new-sandbox-secret-fedcba9876543210"
    settings.ECOMMERCE_SANDBOX_WEBHOOK_SECRETS = [new, old]
    first, second, third = (payment_confirm(payment_for(place_order())) for _ in range(3))

    # when events come signed with the old one, the new one, and both plus one the shop never had
    by_old = receive(*signed(first, secrets=[old]))
    by_new = receive(*signed(second, secrets=[new]))
    by_several = receive(*signed(third, secrets=[OTHER_SECRET, new]))

    # then each is accepted; once the old secret is dropped, it no longer is
    assert (by_old, by_new, by_several) == (WebhookOutcome.APPLIED,) * 3
    settings.ECOMMERCE_SANDBOX_WEBHOOK_SECRETS = [new]
    late = payment_confirm(payment_for(place_order()))
    with pytest.raises(WebhookSignatureInvalid):
        receive(*signed(late, secrets=[old]))


@pytest.mark.parametrize("changes", [{"amount": 1}, {"currency": "eur"}], ids=["amount", "currency"])
def test_an_amount_or_currency_that_does_not_match_is_refused_recorded_and_changes_nothing(place_order, changes):
    # given a correctly signed event whose amount or currency is not the payment's
    payment = payment_for(place_order())
    forged = rewritten(payment_confirm(payment), **changes)
    before = snapshot(payment)

    # when it arrives (and again)
    outcome = receive(*signed(forged))
    again = receive(*signed(forged))

    # then it is acknowledged as rejected, kept for staff with what it claimed, and nothing else changed
    assert (outcome, again) == (WebhookOutcome.REJECTED, WebhookOutcome.DUPLICATE)
    recorded = ProviderEvent.objects.get()
    assert recorded.outcome == "rejected"
    assert recorded.detail.startswith("The event says ")
    expected_claim = (Decimal("0.01"), "USD") if "amount" in changes else (payment.amount, "EUR")
    assert (recorded.amount, recorded.currency) == expected_claim
    after = snapshot(payment)
    assert after[:6] == before[:6]
    assert after[6] == before[6] + 1


def test_a_declined_card_fails_the_payment_and_leaves_the_order_pending(place_order):
    order = place_order()
    payment = payment_for(order)

    outcome = receive(*signed(payment_confirm(payment, DECLINED_CARD)))

    payment.refresh_from_db()
    order.refresh_from_db()
    assert outcome == WebhookOutcome.APPLIED
    assert (payment.status, payment.failure_message) == ("failed", "Your card was declined.")
    assert (order.status, order.payment_status) == ("pending", "failed")
    assert outbox_types()[-1] == "payment.failed"


def test_a_late_failure_never_undoes_a_success(place_order):
    payment = payment_for(place_order())
    success = payment_confirm(payment)
    receive(*signed(success))
    failure = rewritten(success, status="declined", last_payment_error={"message": "late"})
    failure = failure.replace(b"payment_intent.succeeded", b"payment_intent.payment_failed").replace(
        success.id.encode(), b"evt_sbx_late_failure")

    outcome = receive(*signed(failure))

    payment.refresh_from_db()
    assert outcome == WebhookOutcome.IGNORED
    assert payment.status == "succeeded"
    assert Order.objects.get(pk=payment.order_id).status == "paid"


def test_events_about_nothing_of_this_shop_are_acknowledged_and_ignored(place_order):
    other_type = b'{"id": "evt_sbx_other", "type": "customer.created", "data": {"object": {}}}'
    unknown_intent = (b'{"id": "evt_sbx_foreign", "type": "payment_intent.succeeded", "data": {"object": '
                      b'{"id": "pi_sbx_foreign", "amount": 500, "currency": "usd", "metadata": {}}}}')

    assert receive(*signed(other_type)) == WebhookOutcome.IGNORED
    assert receive(*signed(unknown_intent)) == WebhookOutcome.IGNORED
    assert receive(*signed(unknown_intent)) == WebhookOutcome.DUPLICATE
    assert outbox_types() == []


def test_an_event_about_a_payment_not_recorded_yet_is_refused_so_that_it_comes_again(place_order):
    payment = payment_for(place_order())
    event = payment_confirm(payment)
    early = rewritten(event, metadata={"shop_payment_id": str(uuid.uuid4())}, id="pi_sbx_not_stored_yet")

    with pytest.raises(PaymentNotReady):
        receive(*signed(early))

    assert ProviderEvent.objects.count() == 0


def test_only_the_provider_in_use_receives_webhooks(place_order):
    with pytest.raises(NotFound):
        receive(b"{}", {"stripe-signature": "t=1,v1=00"}, provider="stripe")
    with pytest.raises(NotFound):
        receive(b"{}", {}, provider="paypal")


@pytest.mark.parametrize("body", [
    b"not json at all",
    b'{"id": 42, "type": "payment_intent.succeeded", "data": {"object": {}}}',
    b'{"id": "evt_sbx_no_data", "type": "payment_intent.succeeded"}',
    b'{"id": "evt_sbx_huge", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_sbx_x", '
    b'"amount": 100000000000000, "currency": "usd", "metadata": {}}}}',
    b'{"id": "evt_sbx_cur", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_sbx_x", '
    b'"amount": 100, "currency": "dollars", "metadata": {}}}}',
    b'{"id": "evt_sbx_amt", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_sbx_x", '
    b'"amount": "lots", "currency": "usd", "metadata": {}}}}',
    b"[" * 100_000,
], ids=["not json", "numeric id", "no data", "amount too large", "bad currency", "amount not a number",
        "nested too deep"])
def test_a_signed_event_the_shop_cannot_read_is_a_validation_error_and_changes_nothing(place_order, body):
    payment = payment_for(place_order())
    before = snapshot(payment)

    with pytest.raises(ValidationFailed):
        receive(*signed(body))

    assert snapshot(payment) == before
