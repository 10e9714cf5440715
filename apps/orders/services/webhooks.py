"""Provider webhooks: the only way a provider's payment changes the shop.

Rules guarded here:
- Nothing is read from a webhook before its provider verified its signature over the exact bytes received.
- One transaction per event: the order's and the payment's row locks (always in that order, like every other
  writer), then the event's unique (provider, event id) row, then its effects with their outbox events. The same
  event delivered twice, or twice at once, therefore takes effect once: the second waits for the locks and finds the
  row. A failure rolls everything back, the row included, so the provider's next delivery is processed afresh.
- An event about a payment the shop has not finished recording (its provider id is not stored yet: the creating
  request has not committed) is refused, not acknowledged, so the provider delivers it again; it is never
  acknowledged and lost.
- An amount or currency that does not match the payment is refused: recorded for staff, nothing changes, and it is
  acknowledged, because no later delivery of the same event could ever match.
- A success moves a pending order to paid through the status machine (``order.paid``) with ``payment.succeeded``; a
  success for an order no longer waiting for it (expired, canceled, or paid by another payment) is refunded, and the
  order stays as it is. A failure leaves the order pending. A success is never undone by a late failure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.orders.events import payment_event_data
from apps.orders.models import Order, Payment, PaymentStatus, ProviderEvent
from apps.orders.providers import provider_receiving_webhooks
from apps.orders.providers.base import EventKind, VerifiedEvent
from apps.orders.services.followups import order_followups_run
from apps.orders.services.refunds import payment_refund_owed, payment_refund_record
from apps.orders.services.transitions import order_transition_locked
from ecommerce.contracts.orders import OrderStatus, WebhookOutcome, WebhookReceipt
from ecommerce.errors import PaymentNotReady
from ecommerce.events.outbox import record_event

logger = logging.getLogger(__name__)


def payment_webhook_receive(*, provider: str, body: bytes, headers: Mapping[str, str]) -> WebhookReceipt:
    """``headers`` with lower-case names. Raises NotFound (provider), WebhookSignatureInvalid, PaymentNotReady."""
    event = provider_receiving_webhooks(provider).webhook_verify(body=body, headers=headers)
    with transaction.atomic():
        payment = _payment_of(provider, event)
        if payment is None:
            outcome = _recorded_once(provider, event, WebhookOutcome.IGNORED, "not about a payment of this shop")
            return WebhookReceipt(event_id=event.event_id, outcome=outcome)
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        record = _event_row(provider, event, payment)
        if record is None:
            return WebhookReceipt(event_id=event.event_id, outcome=WebhookOutcome.DUPLICATE)
        record.outcome, record.detail = _apply(event, order, payment)
        record.save(update_fields=["outcome", "detail"])
        owes_followup = order.followup_pending and record.outcome == WebhookOutcome.APPLIED
    if owes_followup:
        order_followups_run(order_id=order.id, status=order.status)
    return WebhookReceipt(event_id=event.event_id, outcome=record.outcome)


def _payment_of(provider: str, event: VerifiedEvent) -> Payment | None:
    """The payment the event is about, or None when it is about nothing of this shop (another integration's
    payment on the same provider account, or a type the shop ignores). Raises PaymentNotReady for a payment whose
    creation has not committed yet."""
    if event.kind == EventKind.OTHER:
        return None
    payment = None
    if event.provider_payment_id:
        payment = Payment.objects.filter(provider=provider, provider_payment_id=event.provider_payment_id).first()
    if payment is None and event.payment_id is not None:
        payment = Payment.objects.filter(pk=event.payment_id, provider=provider).first()
        if payment is None or not payment.provider_payment_id:
            raise PaymentNotReady(f"Payment {event.payment_id} is not recorded yet; deliver the event again later.")
    return payment


def _recorded_once(provider: str, event: VerifiedEvent, outcome: WebhookOutcome, detail: str) -> WebhookOutcome:
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(provider=provider, event_id=event.event_id, type=event.type,
                                         outcome=outcome, detail=detail)
    except IntegrityError:
        return WebhookOutcome.DUPLICATE
    return outcome


def _event_row(provider: str, event: VerifiedEvent, payment: Payment) -> ProviderEvent | None:
    """The event's row, written before its effects (its outcome is filled in after); None if it was seen before."""
    try:
        with transaction.atomic():
            return ProviderEvent.objects.create(
                provider=provider, event_id=event.event_id, type=event.type, outcome=WebhookOutcome.APPLIED,
                payment=payment, amount=event.amount, currency=event.currency,
            )
    except IntegrityError:
        return None


def _apply(event: VerifiedEvent, order: Order, payment: Payment) -> tuple[WebhookOutcome, str]:
    if event.provider_payment_id and event.provider_payment_id != payment.provider_payment_id:
        return _refused(order, payment, f"names provider payment {event.provider_payment_id}, "
                                        f"not this payment's {payment.provider_payment_id}")
    if (event.amount, event.currency.upper()) != (payment.amount, payment.currency.upper()):
        return _refused(order, payment, f"says {event.amount} {event.currency}; the payment is "
                                        f"{payment.amount} {payment.currency}")
    if event.kind == EventKind.SUCCEEDED:
        return _succeeded(event, order, payment)
    if event.kind == EventKind.FAILED:
        return _failed(event, order, payment)
    return _refunded(event, order, payment)


def _refused(order: Order, payment: Payment, why: str) -> tuple[WebhookOutcome, str]:
    logger.error("webhook for payment %s of order %s refused: it %s", payment.id, order.number, why)
    return WebhookOutcome.REJECTED, f"The event {why}."[:255]


def _succeeded(event: VerifiedEvent, order: Order, payment: Payment) -> tuple[WebhookOutcome, str]:
    if payment.status in {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED}:
        return WebhookOutcome.IGNORED, f"the payment already {payment.status}"
    # Also from failed: a provider may take a later attempt after a decline, and money taken must be accounted for.
    payment.status = PaymentStatus.SUCCEEDED
    payment.succeeded_at = timezone.now()
    payment.failure_message = ""
    payment.save(update_fields=["status", "succeeded_at", "failure_message", "updated_at"])
    record_event("payment.succeeded", payment_event_data(payment, order))
    if order.status == OrderStatus.PENDING:
        order_transition_locked(order, OrderStatus.PAID, actor_id=None, reason=f"paid through {payment.provider}",
                                payment=payment)
        return WebhookOutcome.APPLIED, "the order is paid"
    reason = f"the order was already {order.status} when the payment succeeded"
    payment_refund_owed(order, payment, reason=reason)
    return WebhookOutcome.APPLIED, f"refunded: {reason}"


def _failed(event: VerifiedEvent, order: Order, payment: Payment) -> tuple[WebhookOutcome, str]:
    if payment.status != PaymentStatus.REQUIRES_CONFIRMATION:
        return WebhookOutcome.IGNORED, f"the payment already {payment.status}"
    payment.status = PaymentStatus.FAILED
    payment.failed_at = timezone.now()
    payment.failure_message = (event.failure_message or "The payment failed.")[:255]
    payment.save(update_fields=["status", "failed_at", "failure_message", "updated_at"])
    record_event("payment.failed", payment_event_data(payment, order))
    if order.status == OrderStatus.PENDING and order.payment_status == PaymentStatus.REQUIRES_CONFIRMATION:
        order.payment_status = PaymentStatus.FAILED
        order.save(update_fields=["payment_status", "updated_at"])
    return WebhookOutcome.APPLIED, "the payment failed; the order still awaits payment"


def _refunded(event: VerifiedEvent, order: Order, payment: Payment) -> tuple[WebhookOutcome, str]:
    if not payment_refund_record(order, payment, provider_refund_id="", reason="refunded at the provider"):
        return WebhookOutcome.IGNORED, f"the payment is {payment.status}"
    return WebhookOutcome.APPLIED, "the payment is refunded"
