"""The hazards other shops' users report, each reproduced: a webhook ahead of the shop's own commit, the shopper's
confirmation racing the webhook, one event delivered twice at once, a payment succeeding for an order that expired or
was canceled meanwhile, and expiry against paid orders and shoppers still on the provider's page."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.orders import services
from apps.orders.models import Order, OrderStatusChange, Payment
from apps.orders.providers import provider_named
from apps.orders.sandbox_processor import api as processor
from apps.orders.sandbox_processor.delivery import webhooks_deliver_due
from apps.orders.sandbox_processor.models import Intent, Refund, WebhookEvent
from apps.orders.services import payments as payment_steps
from apps.orders.tests.conftest import available, outbox_types, payment_confirm, payment_for, receive, signed
from ecommerce.contracts.orders import OrderStatus, WebhookOutcome
from ecommerce.errors import InvalidTransition


# Real commits, threads with their own connections. serialized_rollback: the flush after the test must not re-create
# content types behind the back of later serialized-rollback tests; the migrated groups come back for the next.
def real_commits(test):
    return pytest.mark.postgres(pytest.mark.django_db(transaction=True, serialized_rollback=True)(test))


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Every call started at the same moment in its own thread (own database connection); what each returned or
    raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome, errors included
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a call hung"
    return outcomes


# --- a webhook ahead of the shop's commit -------------------------------------------------------------------------

def test_a_webhook_arriving_before_the_shop_recorded_its_payment_is_refused_and_applied_on_redelivery(
        place_order, sandbox_webhooks, monkeypatch):
    # given a provider that takes the payment (and sends its webhook) before the shop stored its answer, as a
    # processor confirming in the creating call does
    order = place_order()
    sandbox = provider_named("sandbox")

    class ConfirmsAtOnce:
        def __getattr__(self, name: str) -> Any:
            return getattr(sandbox, name)

        def payment_create(self, **arguments: Any):
            created = sandbox.payment_create(**arguments)
            processor.intent_confirm(intent_id=created.provider_payment_id, card_number="4242424242424242")
            assert sandbox_webhooks.deliver() == [False]  # the webhook lands now, before the shop's commit
            return created

    monkeypatch.setattr(payment_steps, "provider_named", lambda name: ConfirmsAtOnce())

    # when the payment's creation completes, and the processor retries later
    payment = payment_for(order)
    [event] = WebhookEvent.objects.all()
    refused_with = event.last_status
    not_yet = webhooks_deliver_due()
    redelivered = webhooks_deliver_due(now=timezone.now() + timedelta(minutes=1))

    # then the early delivery was not acknowledged, and the retry paid the order once
    event.refresh_from_db()
    assert refused_with == 409
    assert (not_yet, redelivered) == (0, 1)
    assert (event.attempts, event.delivered_at is not None) == (2, True)
    order.refresh_from_db()
    assert (order.status, Payment.objects.get(pk=payment.pk).status) == ("paid", "succeeded")
    assert outbox_types().count("order.paid") == 1


# --- the shopper's confirmation racing the webhook, and concurrent deliveries ------------------------------------

@real_commits
def test_two_confirmations_at_once_capture_once(place_order):
    payment = payment_for(place_order())
    confirm = lambda: services.payment_confirm(payment_id=payment.id, user_id=payment.order.user_id,  # noqa: E731
                                               card_number="4242424242424242")

    outcomes = at_once([confirm, confirm, confirm])

    assert Counter(type(outcome).__name__ for outcome in outcomes) == {"Payment": 1, "InvalidTransition": 2}
    assert Intent.objects.get(pk=payment.provider_payment_id).status == "succeeded"
    assert list(WebhookEvent.objects.values_list("type", flat=True)) == ["payment_intent.succeeded"]


@real_commits
def test_one_event_delivered_several_times_at_once_takes_effect_once(place_order):
    # given a confirmed payment whose webhook the processor (or a retry racing the first attempt) sends four times
    order = place_order()
    payment = payment_for(order)
    body, headers = signed(payment_confirm(payment))

    # when the four deliveries arrive at the same moment
    outcomes = at_once([lambda: receive(body, headers)] * 4)

    # then one applied it and three found it done: one capture, one paid transition, one of each event
    assert Counter(outcomes) == {WebhookOutcome.APPLIED: 1, WebhookOutcome.DUPLICATE: 3}
    assert OrderStatusChange.objects.filter(order_id=order.id, to_status="paid").count() == 1
    assert Counter(outbox_types())["order.paid"] == 1
    assert Counter(outbox_types())["payment.succeeded"] == 1


@real_commits
def test_a_success_and_the_orders_expiry_at_once_never_leave_a_paid_order_canceled(place_order,
                                                                                  settings):
    # given an order past its time whose payment succeeds just as the expiry runs
    settings.ECOMMERCE_PAYMENT_WINDOW_MINUTES = 0
    order = place_order()
    body, headers = signed(payment_confirm(payment_for(order)))
    later = timezone.now() + timedelta(hours=1)

    # when both run at once
    at_once([lambda: receive(body, headers), lambda: services.orders_expire_unpaid(now=later)])
    services.orders_followups_resume(now=later)

    # then either the order is paid, or it is canceled and the payment refunded: never canceled with the money kept
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert (order.status, payment.status) in {("paid", "succeeded"), ("canceled", "refunded")}


# --- a payment succeeding for an order no longer waiting for it ---------------------------------------------------

@pytest.mark.parametrize("meanwhile", ["expired", "canceled by the customer"])
def test_a_payment_succeeding_after_the_order_ended_is_refunded_and_the_order_stays_canceled(
        place_order, make_product, settings, meanwhile):
    # given a shopper who paid on the provider's page, whose webhook is still on its way
    product = make_product(stock=5)
    order = place_order(product=product)
    payment = payment_for(order)
    event = payment_confirm(payment)

    # when the order ends meanwhile, then the webhook arrives
    if meanwhile == "expired":
        later = timezone.now() + timedelta(minutes=settings.ECOMMERCE_ORDER_TTL_MINUTES
                                           + settings.ECOMMERCE_PAYMENT_WINDOW_MINUTES + 1)
        assert services.orders_expire_unpaid(now=later) == 1
    else:
        services.order_cancel(order_id=order.id, user_id=order.user_id, actor_id=order.user_id)
    outcome = receive(*signed(event))

    # then the money went back through the provider, recorded as such, and the order is still canceled
    order.refresh_from_db()
    payment.refresh_from_db()
    assert outcome == WebhookOutcome.APPLIED
    assert (order.status, order.payment_status, order.followup_pending) == ("canceled", "refunded", False)
    assert payment.status == "refunded"
    assert payment.refund_reason == "the order was already canceled when the payment succeeded"
    refund = Refund.objects.get()
    assert (refund.intent_id, refund.amount, payment.provider_refund_id) == (
        payment.provider_payment_id, 2500, refund.id)
    assert outbox_types()[-2:] == ["payment.succeeded", "payment.refunded"]
    assert "order.paid" not in outbox_types()
    assert available(product) == 5


def test_a_second_payment_succeeding_for_a_paid_order_is_refunded_and_the_order_stays_paid(place_order):
    order = place_order()
    first, second = payment_for(order), payment_for(order)
    first_event, second_event = payment_confirm(first), payment_confirm(second)

    receive(*signed(first_event))
    receive(*signed(second_event))

    order.refresh_from_db()
    second.refresh_from_db()
    assert (order.status, order.payment_status) == ("paid", "succeeded")
    assert Payment.objects.get(pk=first.pk).status == "succeeded"
    assert (second.status, second.refund_reason) == ("refunded", "the order was already paid when the payment "
                                                                 "succeeded")
    assert Refund.objects.get().intent_id == second.provider_payment_id


# --- expiry -------------------------------------------------------------------------------------------------------

def test_expiry_never_cancels_a_paid_order(paid_order):
    order = paid_order()

    expired = services.orders_expire_unpaid(now=timezone.now() + timedelta(days=2))

    assert expired == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_shopper_on_the_providers_page_holds_the_order_for_the_payment_window_only(place_order, settings):
    # given an order whose payment was started five minutes before its time ran out
    order = place_order()
    ttl = timedelta(minutes=settings.ECOMMERCE_ORDER_TTL_MINUTES)
    window = timedelta(minutes=settings.ECOMMERCE_PAYMENT_WINDOW_MINUTES)
    payment = payment_for(order)
    Payment.objects.filter(pk=payment.pk).update(created_at=order.created_at + ttl - timedelta(minutes=5))

    # when expiry runs just after the order's time, then after the payment's window
    held = services.orders_expire_unpaid(now=order.created_at + ttl + timedelta(minutes=1))
    released = services.orders_expire_unpaid(now=order.created_at + ttl - timedelta(minutes=5) + window
                                             + timedelta(seconds=1))

    # then the order was kept while the shopper could still be paying, and expired after
    assert (held, released) == (0, 1)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELED


def test_creating_payments_cannot_hold_an_order_past_its_time_plus_one_window(place_order, settings):
    order = place_order()
    late = order.created_at + timedelta(minutes=settings.ECOMMERCE_ORDER_TTL_MINUTES
                                        + settings.ECOMMERCE_PAYMENT_WINDOW_MINUTES + 1)
    payment = payment_for(order)
    Payment.objects.filter(pk=payment.pk).update(created_at=late - timedelta(minutes=1))

    assert services.orders_expire_unpaid(now=late) == 1


def test_a_payment_the_provider_never_created_does_not_hold_the_order(place_order, settings):
    order = place_order()
    payment = payment_for(order)
    Payment.objects.filter(pk=payment.pk).update(provider_payment_id="")

    later = order.created_at + timedelta(minutes=settings.ECOMMERCE_ORDER_TTL_MINUTES + 1)
    assert services.orders_expire_unpaid(now=later) == 1


def test_a_pending_order_expires_and_a_confirmation_for_it_is_then_refused(place_order, settings):
    order = place_order()
    payment = payment_for(order)
    later = timezone.now() + timedelta(minutes=settings.ECOMMERCE_ORDER_TTL_MINUTES
                                       + settings.ECOMMERCE_PAYMENT_WINDOW_MINUTES + 1)
    services.orders_expire_unpaid(now=later)

    with pytest.raises(InvalidTransition):
        payment_confirm(payment)
    assert Intent.objects.get(pk=payment.provider_payment_id).status == "requires_confirmation"
