"""Writes of the orders context, one module per idea:

- ``idempotency``: checkout attempts per Idempotency-Key, their stored first answer, take-over of dead ones;
- ``checkout``: the checkout saga (address, cart claim, pricing, reservation, the order in one transaction);
- ``transitions``: the status machine's one entry point (every status change, cancellation and expiry);
- ``followups``: what a committed change owes other contexts, and the sweep that redoes what was left undone;
- ``payments``: payments of an order (creation per Idempotency-Key, the sandbox's confirmation, manual payments);
- ``webhooks``: provider events, verified, applied once each;
- ``vouchers``: vouchers, their check, their redemption by an order and its return on cancellation;
- ``refunds``: money owed back, decided with the change that owes it and returned by the follow-ups;
- ``customer_emails``: the customer's e-mail filled in on orders placed before checkout copied it.

Code that monkeypatches a helper must patch the module that looks the name up (e.g. ``services.checkout``).
"""

from apps.orders.services.checkout import order_checkout, order_number_generate, shipping_cost_for
from apps.orders.services.customer_emails import BackfillCounts, orders_backfill_customer_emails
from apps.orders.services.followups import FOLLOWUP_GRACE_SECONDS, order_followups_run, orders_followups_resume
from apps.orders.services.idempotency import STALE_ATTEMPT_SECONDS, checkout_attempts_purge_expired
from apps.orders.services.payments import payment_attempts_purge_expired, payment_confirm, payment_create
from apps.orders.services.refunds import payments_refund_due
from apps.orders.services.transitions import (
    MANUAL_PAYMENT,
    Shipment,
    order_cancel,
    order_ship,
    order_transition,
    orders_expire_unpaid,
)
from apps.orders.services.webhooks import payment_webhook_receive

__all__ = [
    "FOLLOWUP_GRACE_SECONDS",
    "MANUAL_PAYMENT",
    "STALE_ATTEMPT_SECONDS",
    "BackfillCounts",
    "Shipment",
    "checkout_attempts_purge_expired",
    "order_cancel",
    "order_checkout",
    "order_followups_run",
    "order_number_generate",
    "order_ship",
    "order_transition",
    "orders_backfill_customer_emails",
    "orders_expire_unpaid",
    "orders_followups_resume",
    "payment_attempts_purge_expired",
    "payment_confirm",
    "payment_create",
    "payment_webhook_receive",
    "payments_refund_due",
    "shipping_cost_for",
]
