"""Payments of an order: created for its total with the provider in use, confirmed by the shopper on the provider's
side, and changed afterwards only by the provider's verified webhooks (``webhooks``) or by staff recording an
offline payment.

Rules guarded here:
- Creation is idempotent per (user, ``Idempotency-Key``). The payment and the claimed key are written in one short
  transaction (the unique key decides a race), the provider is called after it with the payment's own idempotency
  key, and its answer is stored as the first answer. A request that finds the key claimed but unanswered (the first
  one died, or the provider was unreachable) finishes the same payment: the provider returns the same intent, so a
  retry never makes a second one.
- Only a pending order gets a payment (else InvalidTransition), checked under the order's row lock. Should it be
  canceled or paid before the payment succeeds, that payment is refunded when it does (``webhooks``).
- Confirming changes nothing in the shop: only the provider's webhook does, so a confirmation racing its own
  webhook cannot apply anything twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.orders import selectors
from apps.orders.dto import payment_to_dto
from apps.orders.events import payment_event_data
from apps.orders.models import MANUAL_PROVIDER, Order, Payment, PaymentAttempt, PaymentStatus
from apps.orders.providers import provider_in_use, provider_named
from ecommerce.contracts.orders import OrderStatus, PaymentCreateResult, PaymentDTO
from ecommerce.errors import ConfirmationNotSupported, IdempotencyConflict, InvalidTransition, NotFound
from ecommerce.events.outbox import record_event


def payment_idempotency_key(payment_id: uuid.UUID) -> str:
    return f"payment-{payment_id}"


def payment_create(*, order_id: uuid.UUID, user_id: int, idempotency_key: str,
                   request_fingerprint: str) -> PaymentCreateResult:
    attempt = _attempt_existing(user_id=user_id, idempotency_key=idempotency_key)
    created_now = False
    if attempt is None:
        try:
            attempt = _payment_open(order_id=order_id, user_id=user_id, idempotency_key=idempotency_key,
                                    request_fingerprint=request_fingerprint)
            created_now = True
        except IntegrityError:  # a concurrent request with the same key claimed it first
            attempt = _attempt_existing(user_id=user_id, idempotency_key=idempotency_key)
            if attempt is None:
                raise
    if attempt.request_fingerprint != request_fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request.")
    answer = PaymentDTO.model_validate(attempt.answer) if attempt.answer else _payment_at_provider(attempt)
    return PaymentCreateResult(payment=answer, replayed=not created_now)


def _expired_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.ECOMMERCE_IDEMPOTENCY_TTL_SECONDS)


def _attempt_existing(*, user_id: int, idempotency_key: str) -> PaymentAttempt | None:
    attempts = PaymentAttempt.objects.filter(user_id=user_id, idempotency_key=idempotency_key)
    attempts.filter(created_at__lt=_expired_before(timezone.now())).delete()
    return attempts.select_related("payment__order").first()


def _payment_open(*, order_id: uuid.UUID, user_id: int, idempotency_key: str,
                  request_fingerprint: str) -> PaymentAttempt:
    """The payment for the order's total and its claimed key, in one transaction; the provider is not called yet."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, user_id=user_id).first()
        if order is None:
            raise NotFound("Order not found.")
        if order.status != OrderStatus.PENDING:
            raise InvalidTransition(f"Only a pending order can be paid; this one is {order.status}.",
                                    from_status=order.status, to_status=OrderStatus.PAID)
        payment = Payment.objects.create(order=order, provider=provider_in_use().name, amount=order.total,
                                         currency=order.currency)
        attempt = PaymentAttempt.objects.create(user_id=user_id, idempotency_key=idempotency_key,
                                                request_fingerprint=request_fingerprint, payment=payment)
        if order.payment_status in {None, PaymentStatus.FAILED}:
            order.payment_status = PaymentStatus.REQUIRES_CONFIRMATION
            order.save(update_fields=["payment_status", "updated_at"])
    return attempt


def _payment_at_provider(attempt: PaymentAttempt) -> PaymentDTO:
    """The provider's part of the creation, then the answer stored for replays. Safe to run again and concurrently:
    the provider returns the same intent for the payment's key and only the first answer is stored."""
    payment = attempt.payment
    created = provider_named(payment.provider).payment_create(
        payment_id=payment.id, amount=payment.amount, currency=payment.currency,
        idempotency_key=payment_idempotency_key(payment.id),
    )
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk, provider_payment_id="").update(
            provider_payment_id=created.provider_payment_id, client_secret=created.client_secret,
            updated_at=timezone.now(),
        )
        answer = payment_to_dto(selectors.payment_get(payment_id=payment.pk))
        PaymentAttempt.objects.filter(pk=attempt.pk, answer__isnull=True).update(answer=answer.model_dump(mode="json"))
        stored = PaymentAttempt.objects.get(pk=attempt.pk).answer
    return PaymentDTO.model_validate(stored)


def payment_confirm(*, payment_id: uuid.UUID, user_id: int, card_number: str) -> Payment:
    """The shopper's step on the provider's page, played by the shop for the sandbox. Returns the payment as the
    shop knows it afterwards: unchanged, unless the provider's webhook already arrived."""
    payment = selectors.payment_get(payment_id=payment_id, user_id=user_id)
    if payment.provider == MANUAL_PROVIDER:
        raise ConfirmationNotSupported("An offline payment has nothing to confirm.")
    provider = provider_named(payment.provider)
    if not provider.confirms_in_shop:
        raise ConfirmationNotSupported(f"A {provider.name} payment is confirmed on the provider's page.")
    if payment.status != PaymentStatus.REQUIRES_CONFIRMATION or not payment.provider_payment_id:
        raise InvalidTransition(f"This payment is {payment.status}; it no longer awaits confirmation.")
    if payment.order.status != OrderStatus.PENDING:
        raise InvalidTransition(f"The order is {payment.order.status}; it no longer awaits payment.")
    provider.payment_confirm(provider_payment_id=payment.provider_payment_id, card_number=card_number)
    return selectors.payment_get(payment_id=payment_id)


def payment_record_manual(order: Order) -> Payment:
    """Inside the transaction that marks the order paid by hand: the offline payment, for the order's total."""
    payment = Payment.objects.create(order=order, provider=MANUAL_PROVIDER, status=PaymentStatus.SUCCEEDED,
                                     amount=order.total, currency=order.currency, succeeded_at=timezone.now())
    record_event("payment.succeeded", payment_event_data(payment, order))
    return payment


def payment_attempts_purge_expired(*, now: datetime | None = None) -> int:
    """Keys are kept ECOMMERCE_IDEMPOTENCY_TTL_SECONDS, like checkout's; the payments themselves stay."""
    deleted, _ = PaymentAttempt.objects.filter(created_at__lt=_expired_before(now or timezone.now())).delete()
    return deleted
