"""Status changes of an order: the one entry point of the status machine (``apps.orders.state`` is its table).

Rules guarded here:
- Every change locks the order row and writes the new status, a history row and its outbox event in one
  transaction, so two concurrent transitions cannot both apply and no change exists without its event.
- What the new status owes other contexts (the stock effect, the cart claim) follows after commit through
  ``followups``, flagged durably in that same transaction.
- Marking a pending order paid here is an offline payment recorded by staff; canceling a paid order marks its
  payment refunded (the money itself is returned by the payment flow, or by staff for a manual payment).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.orders import selectors
from apps.orders.events import order_event_data
from apps.orders.models import Order, OrderStatusChange, PaymentStatus
from apps.orders.services.followups import order_followups_run
from apps.orders.state import EVENT_FOR_STATUS, STOCK_EFFECT_FOR_STATUS, ensure_transition
from ecommerce.contracts.orders import OrderStatus
from ecommerce.errors import InvalidTransition, NotFound
from ecommerce.events.outbox import record_event

MANUAL_PAYMENT = "manual"
EXPIRY_BATCH_SIZE = 500


def order_transition(*, order_id: uuid.UUID, status: str, actor_id: int | None, user_id: int | None = None,
                     reason: str = "", payment_method: str = MANUAL_PAYMENT) -> Order:
    """Move an order along a legal transition, else InvalidTransition. ``user_id`` scopes the change to the owner
    (another user's order is NotFound); ``payment_method`` is recorded when the order becomes paid."""
    to_status = OrderStatus(status)
    with transaction.atomic():
        orders = Order.objects.select_for_update().filter(pk=order_id)
        if user_id is not None:
            orders = orders.filter(user_id=user_id)
        order = orders.first()
        if order is None:
            raise NotFound("Order not found.")
        from_status = OrderStatus(order.status)
        ensure_transition(from_status, to_status)
        order.status = to_status
        if to_status == OrderStatus.PAID and order.payment_status != PaymentStatus.SUCCEEDED:
            order.payment_status = PaymentStatus.SUCCEEDED
            order.payment_method = payment_method
        elif to_status == OrderStatus.CANCELED and from_status == OrderStatus.PAID:
            order.payment_status = PaymentStatus.REFUNDED
        owes_followup = to_status in STOCK_EFFECT_FOR_STATUS
        if owes_followup:
            order.followup_pending = True
        order.save(update_fields=["status", "payment_status", "payment_method", "followup_pending", "updated_at"])
        OrderStatusChange.objects.create(order=order, from_status=from_status, to_status=to_status,
                                         actor_id=actor_id, reason=reason)
        record_event(EVENT_FOR_STATUS[to_status], {
            **order_event_data(order, order.lines.all()),
            "from_status": from_status, "to_status": to_status, "actor_id": actor_id, "reason": reason,
        })
    if owes_followup:
        order_followups_run(order_id=order.id, status=to_status)
    return selectors.order_get(order_id=order.id)


def order_cancel(*, order_id: uuid.UUID, user_id: int | None, actor_id: int | None, reason: str = "") -> Order:
    """Cancel a pending or paid order and give its stock back. ``user_id`` scopes it to the owner; None is staff."""
    reason = reason or ("canceled by the customer" if user_id is not None else "canceled by staff")
    return order_transition(order_id=order_id, status=OrderStatus.CANCELED, actor_id=actor_id, user_id=user_id,
                            reason=reason)


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Cancel pending orders older than ECOMMERCE_ORDER_TTL_MINUTES (reason "expired") and release their stock.
    An order paid or canceled meanwhile is skipped: the transition re-checks the status under the row lock."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.ECOMMERCE_ORDER_TTL_MINUTES)
    expired_ids = list(
        Order.objects.filter(status=OrderStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at").values_list("id", flat=True)[:EXPIRY_BATCH_SIZE]
    )
    canceled = 0
    for order_id in expired_ids:
        try:
            order_transition(order_id=order_id, status=OrderStatus.CANCELED, actor_id=None, reason="expired")
        except (InvalidTransition, NotFound):
            continue
        canceled += 1
    return canceled
