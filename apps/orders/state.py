"""The order status machine, in one place: which transitions are legal, which event each one publishes and which
status gives stock back. Services ask this module; nothing else decides whether an order may move.

    pending -> paid -> shipped -> delivered
    pending -> canceled
    paid    -> canceled   (refund)
"""

from __future__ import annotations

from ecommerce.contracts.orders import OrderStatus
from ecommerce.errors import InvalidTransition

ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELED: frozenset(),
}

EVENT_FOR_STATUS: dict[OrderStatus, str] = {
    OrderStatus.PAID: "order.paid",
    OrderStatus.SHIPPED: "order.shipped",
    OrderStatus.DELIVERED: "order.delivered",
    OrderStatus.CANCELED: "order.canceled",
}


# A status that gives the order's reserved stock back to the catalog once it is durable. The orders context's
# follow-ups do it right after the change (``services.followups`` says why that is not an event's business).
# Derived from the status the order is in (not from the transition), so a retry can always work out what is owed.
# Committing a shipped order's stock is the catalog's own reaction to ``order.shipped`` (``apps.products.consumers``).
RELEASES_STOCK: frozenset[OrderStatus] = frozenset({OrderStatus.CANCELED})


def can_transition(from_status: str, to_status: str) -> bool:
    return OrderStatus(to_status) in ALLOWED_TRANSITIONS[OrderStatus(from_status)]


def ensure_transition(from_status: str, to_status: str) -> None:
    if not can_transition(from_status, to_status):
        raise InvalidTransition(
            f"An order cannot go from '{from_status}' to '{to_status}'.",
            from_status=str(from_status), to_status=str(to_status),
        )
