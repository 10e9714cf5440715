"""Refunds: a paid order canceled by its customer or by staff gets its money back through its provider, after
commit, once, however often the call has to be made; a failed call is redone by the follow-up sweep; an offline
payment is recorded refunded at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.orders import services
from apps.orders.models import Order, Payment, ProviderEvent
from apps.orders.providers import provider_named
from apps.orders.sandbox_processor import api as processor
from apps.orders.sandbox_processor.models import Refund, WebhookEvent
from apps.orders.services import refunds
from apps.orders.tests.conftest import available, outbox_types, receive, signed
from ecommerce.contracts.orders import OrderStatus, WebhookOutcome
from ecommerce.errors import PaymentProviderUnavailable


class FlakyProvider:
    """The sandbox, whose refund answer is lost the first ``failures`` times: the processor made the refund, the
    shop never heard back (a timeout), as happens on a real network."""

    def __init__(self, failures: int) -> None:
        self.sandbox = provider_named("sandbox")
        self.failures = failures
        self.calls: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sandbox, name)

    def refund_create(self, **arguments: Any):
        self.calls.append(arguments)
        refund = self.sandbox.refund_create(**arguments)
        if len(self.calls) <= self.failures:
            raise PaymentProviderUnavailable("the answer was lost")
        return refund


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_canceling_a_paid_order_refunds_it_through_its_provider(paid_order, make_product, who):
    # given an order paid through the sandbox
    product = make_product(stock=5)
    order = paid_order(product=product)
    payment = Payment.objects.get(order=order)

    # when its customer (or staff) cancels it
    user_id = order.user_id if who == "customer" else None
    canceled = services.order_cancel(order_id=order.id, user_id=user_id, actor_id=order.user_id)

    # then the processor refunded the whole payment once, the shop recorded it and gave the stock back
    payment.refresh_from_db()
    refund = Refund.objects.get()
    assert (canceled.status, canceled.payment_status) == (OrderStatus.CANCELED, "refunded")
    assert (payment.status, payment.refund_due, payment.provider_refund_id) == ("refunded", False, refund.id)
    assert (refund.intent_id, refund.amount, refund.idempotency_key) == (
        payment.provider_payment_id, 2500, f"refund-{payment.id}")
    assert outbox_types()[-2:] == ["order.canceled", "payment.refunded"]
    assert available(product) == 5
    assert Order.objects.get(pk=order.id).followup_pending is False


def test_the_processors_refund_webhook_then_changes_nothing(paid_order):
    order = paid_order()
    services.order_cancel(order_id=order.id, user_id=None, actor_id=1)
    refund_event = WebhookEvent.objects.get(type="charge.refunded")
    before = outbox_types()

    outcome = receive(*signed(refund_event))

    assert outcome == WebhookOutcome.IGNORED
    assert outbox_types() == before
    assert ProviderEvent.objects.get(event_id=refund_event.id).detail == "the payment is refunded"


def test_a_refund_whose_answer_was_lost_is_redone_by_the_sweep_and_made_once(paid_order, monkeypatch):
    # given a provider whose first refund answer is lost
    order = paid_order()
    flaky = FlakyProvider(failures=1)
    monkeypatch.setattr(refunds, "provider_named", lambda name: flaky)

    # when the order is canceled, and the follow-up sweep runs after its grace period
    canceled = services.order_cancel(order_id=order.id, user_id=None, actor_id=1)
    owed = Payment.objects.get(order=order)
    resumed = services.orders_followups_resume(now=timezone.now() + timedelta(minutes=1))

    # then the cancellation stood, the refund was owed until the sweep, and the processor refunded once
    assert (canceled.status, canceled.payment_status) == (OrderStatus.CANCELED, "succeeded")
    assert (owed.status, owed.refund_due) == ("succeeded", True)
    assert resumed == 1
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.refund_due) == ("refunded", False)
    assert [call["idempotency_key"] for call in flaky.calls] == [f"refund-{payment.id}"] * 2
    assert Refund.objects.count() == 1
    assert outbox_types().count("payment.refunded") == 1
    assert Order.objects.get(pk=order.id).payment_status == "refunded"


def test_a_provider_down_for_good_keeps_the_refund_owed_and_the_order_flagged(paid_order, monkeypatch):
    order = paid_order()
    monkeypatch.setattr(refunds, "provider_named", lambda name: FlakyProvider(failures=99))

    services.order_cancel(order_id=order.id, user_id=None, actor_id=1)
    services.orders_followups_resume(now=timezone.now() + timedelta(minutes=1))

    order.refresh_from_db()
    assert (order.status, order.followup_pending) == ("canceled", True)
    assert Payment.objects.get(order=order).refund_due is True


def test_staff_canceling_an_offline_paid_order_records_its_manual_payment_refunded(place_order):
    order = place_order(OrderStatus.PAID)

    canceled = services.order_cancel(order_id=order.id, user_id=None, actor_id=1)

    manual = Payment.objects.get(order=order)
    assert (canceled.payment_status, manual.provider, manual.status) == ("refunded", "manual", "refunded")
    assert manual.refund_reason == "the order was canceled"
    assert outbox_types().count("payment.refunded") == 1
    assert Refund.objects.count() == 0


def test_a_refund_made_at_the_provider_reaches_the_payment_by_webhook(paid_order):
    # given a paid order refunded from the processor's side (its dashboard), not by the shop
    order = paid_order()
    payment = Payment.objects.get(order=order)
    processor.refund_create(intent_id=payment.provider_payment_id, amount=2500, idempotency_key="dashboard")

    outcome = receive(*signed(WebhookEvent.objects.get(type="charge.refunded")))

    payment.refresh_from_db()
    assert outcome == WebhookOutcome.APPLIED
    assert (payment.status, payment.refund_reason) == ("refunded", "refunded at the provider")
    assert outbox_types()[-1] == "payment.refunded"
