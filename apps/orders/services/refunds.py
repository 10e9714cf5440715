"""Refunds: money the shop owes back is decided in the transaction of the change that owes it, and returned through
the payment's provider after commit.

Rules guarded here:
- A payment becomes ``refund_due`` in the transaction that makes the refund owed (its paid order is canceled, or it
  succeeded for an order no longer waiting for it), and that transaction also sets the order's ``followup_pending``
  flag. The provider is called by the order's follow-ups after commit, and by their sweep until it answered: the
  one recovery mechanism of the orders context (``followups``), no second one.
- The provider is called with the payment's own idempotency key (``refund-<payment id>``): however often the call is
  redone, at most one refund is made.
- The refund is recorded once (payment ``refunded``, its ``payment.refunded`` event, the canceled order's payment
  status) under the order's and the payment's row locks, whichever arrives first: the provider's answer or its
  webhook.
- A manual payment has no provider: canceling its order records it refunded at once; staff return the money.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from apps.orders.events import payment_event_data
from apps.orders.models import MANUAL_PROVIDER, Order, Payment, PaymentStatus
from apps.orders.providers import provider_named
from ecommerce.contracts.orders import OrderStatus
from ecommerce.events.outbox import record_event

logger = logging.getLogger(__name__)


def refund_idempotency_key(payment: Payment) -> str:
    return f"refund-{payment.id}"


def payments_refund_on_cancel(order: Order) -> None:
    """Inside the cancellation's transaction, the order row locked: every payment that took money is owed back."""
    for payment in order.payments.select_for_update().filter(status=PaymentStatus.SUCCEEDED, refund_due=False):
        if payment.provider == MANUAL_PROVIDER:
            payment_refund_record(order, payment, provider_refund_id="", reason="the order was canceled")
        else:
            _refund_owe(payment, reason="the order was canceled")


def payment_refund_owed(order: Order, payment: Payment, *, reason: str) -> None:
    """Inside the transaction that made the payment succeed, both rows locked: the order could not take it."""
    _refund_owe(payment, reason=reason)
    order.followup_pending = True
    order.save(update_fields=["followup_pending", "updated_at"])
    logger.warning("payment %s of order %s succeeded but %s: it is refunded", payment.id, order.number, reason)


def _refund_owe(payment: Payment, *, reason: str) -> None:
    payment.refund_due = True
    payment.refund_reason = reason
    payment.save(update_fields=["refund_due", "refund_reason", "updated_at"])


def payments_refund_due(*, order_id: uuid.UUID) -> int:
    """After commit, outside any transaction: each payment owed back is refunded by its provider, then recorded.
    Raises the first failure (the follow-ups leave it to their sweep); returns how many were refunded."""
    refunded = 0
    for payment in Payment.objects.filter(order_id=order_id, refund_due=True, status=PaymentStatus.SUCCEEDED):
        refund = provider_named(payment.provider).refund_create(
            provider_payment_id=payment.provider_payment_id, amount=payment.amount, currency=payment.currency,
            idempotency_key=refund_idempotency_key(payment),
        )
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            refunded += payment_refund_record(order, locked, provider_refund_id=refund.provider_refund_id)
    return refunded


def payment_refund_record(order: Order, payment: Payment, *, provider_refund_id: str, reason: str = "") -> bool:
    """Both rows locked, inside a transaction: the payment is refunded, with its event. False if it already was."""
    if payment.status != PaymentStatus.SUCCEEDED:
        return False
    payment.status = PaymentStatus.REFUNDED
    payment.refund_due = False
    payment.refund_reason = payment.refund_reason or reason
    payment.provider_refund_id = provider_refund_id
    payment.refunded_at = timezone.now()
    payment.save(update_fields=["status", "refund_due", "refund_reason", "provider_refund_id", "refunded_at",
                                "updated_at"])
    # A canceled order's payment status follows its refund; a paid order refunding a second, surplus payment stays
    # paid by its first one.
    if order.status == OrderStatus.CANCELED:
        order.payment_status = PaymentStatus.REFUNDED
        order.save(update_fields=["payment_status", "updated_at"])
    record_event("payment.refunded", payment_event_data(payment, order))
    return True
