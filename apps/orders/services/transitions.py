"""Status changes of an order: the one entry point of the status machine (``apps.orders.state`` is its table).

Rules guarded here:
- Every change locks the order row and writes the new status, a history row and its outbox event in one
  transaction, so two concurrent transitions cannot both apply and no change exists without its event.
- What the new status owes other contexts (a canceled order's stock, a refund) follows after commit through
  ``followups``, flagged durably in that same transaction. A shipped order's stock is committed by the catalog when
  it takes ``order.shipped``.
- An order becomes paid with the payment that paid it: a provider's (``webhooks``), or, when staff mark it paid,
  an offline payment recorded here (``manual``). Canceling an order owes back every payment that took money
  (``refunds``): a provider's is refunded after commit by the follow-ups, a manual one is recorded refunded at once.
  It also gives back the order's use of a voucher, in the same transaction.
- A shipped order names its carrier and tracking number when staff ship it (``order_ship``); they are written with
  the status, its history row and its ``order.shipped`` event, so a consumer mailing the customer has them.
- Expiry never cancels an order that is paid, nor, for up to ``ECOMMERCE_PAYMENT_WINDOW_MINUTES`` past its time, one
  whose shopper is still on the provider's page (a payment created and awaiting confirmation); a payment that
  succeeds after all for an expired order is refunded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from apps.orders import selectors
from apps.orders.events import order_event_data
from apps.orders.models import MANUAL_PROVIDER, Order, OrderStatusChange, Payment, PaymentStatus
from apps.orders.services.followups import order_followups_run
from apps.orders.services.payments import payment_record_manual
from apps.orders.services.refunds import payments_refund_on_cancel
from apps.orders.services.vouchers import voucher_give_back_locked
from apps.orders.state import EVENT_FOR_STATUS, RELEASES_STOCK, ensure_transition
from ecommerce.contracts.orders import OrderStatus
from ecommerce.errors import InvalidTransition, NotFound, ValidationFailed
from ecommerce.events.outbox import record_event

MANUAL_PAYMENT = MANUAL_PROVIDER
EXPIRY_BATCH_SIZE = 500


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str


def order_transition(*, order_id: uuid.UUID, status: str, actor_id: int | None, user_id: int | None = None,
                     reason: str = "", shipment: Shipment | None = None) -> Order:
    """Move an order along a legal transition, else InvalidTransition. ``user_id`` scopes the change to the owner
    (another user's order is NotFound). An order made paid here was paid offline: a manual payment is recorded.
    ``shipment`` (for ``shipped`` only) is recorded on the order."""
    to_status = OrderStatus(status)
    with transaction.atomic():
        orders = Order.objects.select_for_update().filter(pk=order_id)
        if user_id is not None:
            orders = orders.filter(user_id=user_id)
        order = orders.first()
        if order is None:
            raise NotFound("Order not found.")
        owes_followup = order_transition_locked(order, to_status, actor_id=actor_id, reason=reason,
                                                shipment=shipment)
    if owes_followup:
        order_followups_run(order_id=order.id, status=to_status)
    return selectors.order_get(order_id=order.id)


def order_transition_locked(order: Order, to_status: OrderStatus, *, actor_id: int | None, reason: str,
                            payment: Payment | None = None, shipment: Shipment | None = None) -> bool:
    """The transition itself, inside the caller's transaction with ``order``'s row locked: the new status, its
    history row and its event. ``payment`` is the one that paid, for ``paid`` (None: staff recorded it offline).
    Returns whether follow-up work is owed, which the caller runs once its transaction committed."""
    from_status = OrderStatus(order.status)
    ensure_transition(from_status, to_status)
    order.status = to_status
    if to_status == OrderStatus.PAID:
        payment = payment or payment_record_manual(order)
        order.payment_status = PaymentStatus.SUCCEEDED
        order.payment_method = payment.provider
    elif to_status == OrderStatus.CANCELED:
        payments_refund_on_cancel(order)
        voucher_give_back_locked(order)
    elif to_status == OrderStatus.SHIPPED and shipment is not None:
        order.shipping_carrier = shipment.carrier
        order.tracking_number = shipment.tracking_number
    owes_followup = to_status in RELEASES_STOCK
    if owes_followup:
        order.followup_pending = True
    order.save(update_fields=["status", "payment_status", "payment_method", "followup_pending", "shipping_carrier",
                              "tracking_number", "updated_at"])
    OrderStatusChange.objects.create(order=order, from_status=from_status, to_status=to_status,
                                     actor_id=actor_id, reason=reason)
    record_event(EVENT_FOR_STATUS[to_status], {
        **order_event_data(order, order.lines.all()),
        "from_status": from_status, "to_status": to_status, "actor_id": actor_id, "reason": reason,
        **({"carrier": order.shipping_carrier, "tracking_number": order.tracking_number}
           if to_status == OrderStatus.SHIPPED else {}),
    })
    return owes_followup


def order_ship(*, order_id: uuid.UUID, actor_id: int | None, carrier: str, tracking_number: str) -> Order:
    """Ship a paid order with the carrier that takes it and the tracking number it gave (both required)."""
    shipment = Shipment(carrier=carrier.strip(), tracking_number=tracking_number.strip())
    errors: dict[str, list[str]] = {}
    for name, column in (("carrier", "shipping_carrier"), ("tracking_number", "tracking_number")):
        value, limit = getattr(shipment, name), Order._meta.get_field(column).max_length
        if not value:
            errors[name] = ["This field is required."]
        elif len(value) > limit:
            errors[name] = [f"At most {limit} characters."]
    if errors:
        raise ValidationFailed("A shipment needs its carrier and tracking number.", errors=errors)
    return order_transition(order_id=order_id, status=OrderStatus.SHIPPED, actor_id=actor_id, shipment=shipment,
                            reason=f"shipped with {shipment.carrier}, tracking number {shipment.tracking_number}")


def order_cancel(*, order_id: uuid.UUID, user_id: int | None, actor_id: int | None, reason: str = "") -> Order:
    """Cancel a pending or paid order and give its stock back. ``user_id`` scopes it to the owner; None is staff."""
    reason = reason or ("canceled by the customer" if user_id is not None else "canceled by staff")
    return order_transition(order_id=order_id, status=OrderStatus.CANCELED, actor_id=actor_id, user_id=user_id,
                            reason=reason)


def orders_expiring(now: datetime) -> list[uuid.UUID]:
    """Pending orders past ECOMMERCE_ORDER_TTL_MINUTES, oldest first, but for those whose shopper is on the
    provider's page: a payment created within ECOMMERCE_PAYMENT_WINDOW_MINUTES and awaiting confirmation keeps its
    order, at most that window past the order's time (so creating payments cannot hold stock forever)."""
    cutoff = now - timedelta(minutes=settings.ECOMMERCE_ORDER_TTL_MINUTES)
    window = timedelta(minutes=settings.ECOMMERCE_PAYMENT_WINDOW_MINUTES)
    payment_in_flight = Payment.objects.filter(
        order=OuterRef("pk"), status=PaymentStatus.REQUIRES_CONFIRMATION, created_at__gte=now - window,
    ).exclude(provider_payment_id="")
    return list(
        Order.objects.filter(status=OrderStatus.PENDING, created_at__lt=cutoff)
        .filter(Q(created_at__lt=cutoff - window) | ~Exists(payment_in_flight))
        .order_by("created_at").values_list("id", flat=True)[:EXPIRY_BATCH_SIZE]
    )


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Cancel the expiring orders (reason "expired") and release their stock. An order paid or canceled meanwhile
    is skipped: the transition re-checks the status under the row lock."""
    canceled = 0
    for order_id in orders_expiring(now or timezone.now()):
        try:
            order_transition(order_id=order_id, status=OrderStatus.CANCELED, actor_id=None, reason="expired")
        except (InvalidTransition, NotFound):
            continue
        canceled += 1
    return canceled
